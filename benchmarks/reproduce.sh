#!/usr/bin/env bash
# Re-measures every figure in docs/benchmarks.md and redraws the charts in docs/charts/ (about 70 minutes on
# 2 cores; needs about 12 GiB of free memory for the 10-million-entry maps). Results: benchmarks/results/*.json
# The "before" figures were measured with the same benchmark sources built against the library as it was before
# each change (git worktree of that commit, `./mvnw install` there, then this script's commands).
set -euo pipefail
cd "$(dirname "$0")"
run() { bash run.sh "$@"; }
run 'benchmarks.SealBenchmark' -rf json -rff results/seal.json
run 'ReadBenchmark' -rf json -rff results/read.json
run 'ArenaAllocationBenchmark' -rf json -rff results/arena-allocation.json
run 'MapLookupBenchmark' -rf json -rff results/map-lookup.json
run 'MapLookupBenchmark.(sealedMap|hashMapByteBuffer)' -p entries=1000,10000,100000,10000000 -f 2 \
  -rf json -rff results/map-lookup-scaling.json
# Large builds are single shots (each sealed map stays mapped). Small ones are averaged over short
# iterations instead, so that compiled code is timed: a few thousand small maps stay mapped per fork.
run 'MapBuildBenchmark' -p entries=1000,10000 -bm avgt -tu ms -w 200ms -r 200ms -wi 10 -i 10 \
  -rf json -rff results/map-build-small.json
run 'MapBuildBenchmark' -p entries=100000,1000000 -wi 10 -i 10 -rf json -rff results/map-build.json
run 'MapBuildBenchmark' -p entries=10000000 -f 1 -wi 1 -i 2 -rf json -rff results/map-build-10m.json
# Each shot seals fresh, untouched regions (up to 1 GiB of address space each, never freed): 40 per fork.
run 'SealScalingBenchmark' -rf json -rff results/seal-scaling.json
run footprint > results/footprint.txt
# String keys and values against HashMap<String, String>, on both backings (immutable: memfd; anonymous: what
# the fallback uses, forced by a seccomp filter refusing memfd_create in the fork).
run 'StringLookupBenchmark' -p backing=immutable,anonymous -rf json -rff results/string-lookup.json
run 'StringBuildBenchmark' -p backing=immutable,anonymous -f 3 -rf json -rff results/string-build.json
# Cold seals: one shot per fork, so many forks, in four rounds so that the bare calls and the library take
# turns with whatever else the machine is doing; the warm ones separately.
for round in 1 2 3 4; do
  run 'SealColdBenchmark.first' -f 10 -rf json -rff "results/seal-cold-$round.json"
done
run 'SealColdBenchmark.warm' -f 5 -rf json -rff results/seal-warm.json
run 'PageByPageSealBenchmark' -f 20 -rf json -rff results/page-by-page.json
# Side by side in one JVM, alternating batches (not JMH): the figures a noisy machine blurs most.
for backing in immutable anonymous; do
  for entries in 1000000 1000; do
    run side-by-side "$entries" 30 "$backing"
  done
done > results/side-by-side.txt
python3 charts.py results/*.json
