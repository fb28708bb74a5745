#!/usr/bin/env bash
# The first Mseal.freeze(new byte[32]) of a fresh JVM against the same system calls through bare downcalls, each
# as a whole process (JVM start to exit), alternating: bash benchmarks/first-call.sh [runs] (default 5 of each).
# Prints each run in ms, then the medians and their ratio. Needs benchmarks/target/benchmarks.jar (run.sh builds it)
# and a JDK 22+ as $JAVA (default: the one the toolchains plugin would pick is not known here; give it).
set -euo pipefail
cd "$(dirname "$0")"
runs=${1:-5}
java=${JAVA:-java}
jar=target/benchmarks.jar
library=() bare=()
for ((i = 0; i < runs; i++)); do
  for mode in library bare; do
    start=$(date +%s%N)
    "$java" --enable-native-access=ALL-UNNAMED -Xshare:auto -cp "$jar" io.github.mseal4j.benchmarks.FirstFreeze \
      $([ "$mode" = bare ] && echo bare)
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    if [ "$mode" = library ]; then library+=("$ms"); else bare+=("$ms"); fi
    echo "$mode $ms ms"
  done
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END{print (NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2)}'; }
l=$(median "${library[@]}") b=$(median "${bare[@]}")
echo "median: library $l ms, bare $b ms, ratio $(awk -v l="$l" -v b="$b" 'BEGIN{printf "%.2f", l / b}')"
