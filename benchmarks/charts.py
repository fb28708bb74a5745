#!/usr/bin/env python3
"""Draws the benchmark charts in docs/charts/ from JMH JSON results (Python 3 standard library only).

    python3 benchmarks/charts.py benchmarks/results/*.json

Each chart plots some benchmarks against one JMH parameter, both axes logarithmic, one line per benchmark (and
per value of a parameter that is not a number, such as the backing): the median of all measured iterations of
all forks, with the quartiles as a vertical bar. Medians, because on a noisy machine a few slow iterations move
the mean and its error far more than they move what a typical call costs.
"""
import json
import math
import os
import sys
from xml.sax.saxutils import escape

CHARTS = [
    # file, title, benchmark class, parameter, x label, y label, {method or "method[param=value]": legend}
    ("seal-vs-size.svg", "First seal of one fresh region, by size", "SealScalingBenchmark", "bytes",
     "region size (bytes)", "time (µs)",
     {"sealOneRegion": "seal()", "sealReadOnlyOneRegion": "sealReadOnly()"}),
    ("seal-vs-count.svg", "Sealing many fresh one-page regions, one after another", "SealScalingBenchmark", "count",
     "regions", "time for all (µs)", {"sealManyRegions": "seal() each region"}),
    ("map-lookup-vs-entries.svg", "Looking up a random present key", "MapLookupBenchmark", "entries",
     "entries", "time per lookup (ns)",
     {"sealedMap": "SealedMap.get(byte[])", "hashMapByteBuffer": "HashMap<ByteBuffer, byte[]>",
      "hashMapString": "HashMap<String, byte[]>", "mapCopyOfByteBuffer": "Map.copyOf(...)"}),
    ("map-build-vs-entries.svg", "Building a map", "MapBuildBenchmark", "entries", "entries", "time (ms)",
     {"sealedMap": "SealedMap: put all, build (seals)", "hashMapByteBuffer": "HashMap<ByteBuffer, byte[]>: put all"}),
    ("string-build-vs-entries.svg", "Building from String entries", "StringBuildBenchmark", "entries", "entries",
     "time (µs)",
     {"sealedMap[backing=immutable]": "SealedMap, immutable (default)",
      "sealedMap[backing=anonymous]": "SealedMap, anonymous",
      "hashMap[backing=immutable]": "HashMap<String, String>"}),
]
COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"]
WIDTH, HEIGHT = 830, 430
LEFT, RIGHT, TOP, BOTTOM = 80, 300, 50, 60


def load(paths):
    """{(class, "method[other=value,...]", parameter): {parameter value: (median, q1, q3, unit)}}.

    Parameters that are not numbers (a backing) name the series; each numeric one is an axis."""
    points = {}
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for run in json.load(f):
                cls, method = run["benchmark"].split(".")[-2:]
                metric = run["primaryMetric"]
                params = run.get("params", {})
                numeric, named = {}, []
                for name, value in sorted(params.items()):
                    try:
                        numeric[name] = float(value)
                    except ValueError:
                        named.append(f"{name}={value}")
                series = method + (f"[{','.join(named)}]" if named else "")
                values = sorted(x for fork in metric.get("rawData", []) for x in fork)
                if values:
                    stats = (quantile(values, 0.5), quantile(values, 0.25), quantile(values, 0.75))
                else:
                    stats = (metric["score"], metric["score"], metric["score"])
                for name, x in numeric.items():
                    points.setdefault((cls, series, name), {})[x] = stats + (metric["scoreUnit"],)
    return points


def quantile(ordered, q):
    """The q-quantile of a sorted list, interpolated between the two nearest values."""
    at = q * (len(ordered) - 1)
    low = math.floor(at)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (at - low)


def log_ticks(low, high):
    ticks = []
    mantissas = (1, 2, 5) if math.log10(high / low) <= 3 else (1,)
    for exponent in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1):
        for mantissa in mantissas:
            value = mantissa * 10 ** exponent
            if low <= value <= high:
                ticks.append(value)
    return ticks or [low, high]


def label(value):
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if value >= size:
            return f"{value / size:g}{unit}"
    return f"{value:g}"


def draw(file, title, cls, param, xlabel, ylabel, methods, points):
    series = [(legend, points[(cls, method, param)]) for method, legend in methods.items()
              if (cls, method, param) in points and len(points[(cls, method, param)]) > 0]
    if not series:
        return None
    xs = [x for _, data in series for x in data]
    ys = [high for _, data in series for (_, _, high, _) in data.values()]
    ys_low = [low for _, data in series for (_, low, _, _) in data.values()]
    x_low, x_high = min(xs) / 1.5, max(xs) * 1.5
    y_low, y_high = min(ys_low) / 1.5, max(ys) * 1.5
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def px(x):
        return LEFT + (math.log10(x) - math.log10(x_low)) / (math.log10(x_high) - math.log10(x_low)) * plot_w

    def py(y):
        return TOP + plot_h - (math.log10(y) - math.log10(y_low)) / (math.log10(y_high) - math.log10(y_low)) * plot_h

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
           f'font-family="sans-serif" font-size="12">',
           f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
           f'<text x="{LEFT}" y="24" font-size="15" font-weight="bold">{escape(title)}</text>',
           f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#333"/>']
    for x in log_ticks(x_low, x_high):
        out.append(f'<line x1="{px(x):.1f}" y1="{TOP}" x2="{px(x):.1f}" y2="{TOP + plot_h}" stroke="#ddd"/>')
        out.append(f'<text x="{px(x):.1f}" y="{TOP + plot_h + 16}" text-anchor="middle">{label(x)}</text>')
    for y in log_ticks(y_low, y_high):
        out.append(f'<line x1="{LEFT}" y1="{py(y):.1f}" x2="{LEFT + plot_w}" y2="{py(y):.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{LEFT - 6}" y="{py(y) + 4:.1f}" text-anchor="end">{label(y)}</text>')
    out.append(f'<text x="{LEFT + plot_w / 2}" y="{HEIGHT - 18}" text-anchor="middle">{escape(xlabel)}</text>')
    out.append(f'<text transform="translate(18,{TOP + plot_h / 2}) rotate(-90)" text-anchor="middle">'
               f'{escape(ylabel)}</text>')
    for i, (legend, data) in enumerate(series):
        colour = COLOURS[i % len(COLOURS)]
        ordered = sorted(data.items())
        path = " ".join(f"{'M' if j == 0 else 'L'}{px(x):.1f},{py(y):.1f}"
                        for j, (x, (y, _, _, _)) in enumerate(ordered))
        out.append(f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for x, (y, low, high, _) in ordered:
            out.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{colour}"/>')
            if high > low:
                out.append(f'<line x1="{px(x):.1f}" y1="{py(high):.1f}" x2="{px(x):.1f}" '
                           f'y2="{py(low):.1f}" stroke="{colour}"/>')
        ly = TOP + 16 + i * 20
        out.append(f'<line x1="{LEFT + plot_w + 14}" y1="{ly}" x2="{LEFT + plot_w + 34}" y2="{ly}" '
                   f'stroke="{colour}" stroke-width="2"/>')
        out.append(f'<text x="{LEFT + plot_w + 40}" y="{ly + 4}">{escape(legend)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    paths = sys.argv[1:]
    if not paths:
        sys.exit(__doc__)
    points = load(paths)
    target = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs", "charts")
    os.makedirs(target, exist_ok=True)
    for file, *spec in CHARTS:
        svg = draw(file, *spec, points)
        if svg is None:
            print(f"skipped {file}: no results for it")
            continue
        with open(os.path.join(target, file), "w", encoding="utf-8") as f:
            f.write(svg)
        print(f"wrote docs/charts/{file}")


if __name__ == "__main__":
    main()
