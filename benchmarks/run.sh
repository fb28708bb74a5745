#!/usr/bin/env bash
# Runs the JMH benchmarks: bash benchmarks/run.sh [JMH arguments]
# Installs the library into the local Maven repository, builds benchmarks/target/benchmarks.jar, and runs it
# with the JDK 22+ that maven-toolchains-plugin finds. Results go to benchmarks/results/latest.json unless the
# arguments say otherwise, e.g.: bash benchmarks/run.sh SealBenchmark -rf json -rff results/seal.json
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -q -DskipTests install
if [ "${1:-}" = footprint ]; then
  # Heap kept alive by each kind of map (not JMH): bash benchmarks/run.sh footprint [entries]
  shift
  ./mvnw -q -f benchmarks/pom.xml package exec:exec@run \
    -Drun.args="--enable-native-access=ALL-UNNAMED -Xmx4g -cp target/benchmarks.jar io.github.mseal4j.benchmarks.Footprint $*"
  exit
fi
args="${*:--rf json -rff results/latest.json}"
./mvnw -q -f benchmarks/pom.xml package exec:exec@run -Djmh.args="$args"
