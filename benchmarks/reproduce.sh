#!/usr/bin/env bash
# Re-measures every figure in docs/benchmarks.md and redraws the charts in docs/charts/ (about 30 minutes on
# 2 cores; needs about 12 GiB of free memory for the 10-million-entry maps). Results: benchmarks/results/*.json
set -euo pipefail
cd "$(dirname "$0")"
run() { bash run.sh "$@"; }
run 'SealBenchmark' -rf json -rff results/seal.json
run 'ReadBenchmark' -rf json -rff results/read.json
run 'ArenaAllocationBenchmark' -rf json -rff results/arena-allocation.json
run 'MapLookupBenchmark' -rf json -rff results/map-lookup.json
run 'MapLookupBenchmark.(sealedMap|hashMapByteBuffer)' -p entries=1000,10000,100000,10000000 -f 2 \
  -rf json -rff results/map-lookup-scaling.json
run 'MapBuildBenchmark' -p entries=1000,10000,100000,1000000 -rf json -rff results/map-build.json
run 'MapBuildBenchmark' -p entries=10000000 -f 1 -wi 1 -i 2 -rf json -rff results/map-build-10m.json
run 'SealScalingBenchmark' -rf json -rff results/seal-scaling.json
run footprint > results/footprint.txt
python3 charts.py results/*.json
