#!/usr/bin/env bash
# Runs the JMH benchmarks: bash benchmarks/run.sh [JMH arguments]
# Installs the library into the local Maven repository, builds benchmarks/target/benchmarks.jar, and runs it
# with the JDK 22+ that maven-toolchains-plugin finds. Results go to benchmarks/results/latest.json unless the
# arguments say otherwise, e.g.: bash benchmarks/run.sh SealBenchmark -rf json -rff results/seal.json
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -q -DskipTests install
args="${*:--rf json -rff results/latest.json}"
./mvnw -q -f benchmarks/pom.xml package exec:exec@run -Djmh.args="$args"
