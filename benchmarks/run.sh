#!/usr/bin/env bash
# Runs the JMH benchmarks: bash benchmarks/run.sh [JMH arguments]
# Installs the library into the local Maven repository, builds benchmarks/target/benchmarks.jar, and runs it
# with the JDK 22+ that maven-toolchains-plugin finds. Results go to benchmarks/results/latest.json (JSON)
# unless the arguments name a result format or file (-rf, -rff), e.g.:
#   bash benchmarks/run.sh SealBenchmark -f 1                           -> results/latest.json
#   bash benchmarks/run.sh SealBenchmark -rf json -rff results/seal.json -> results/seal.json
#   bash benchmarks/run.sh side-by-side 1000000 30 immutable          -> SideBySide's table on stdout
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -q -DskipTests install
if [ "${1:-}" = side-by-side ]; then
  # String lookups alternating with HashMap in one JVM (not JMH): bash benchmarks/run.sh side-by-side entries batches [backing]
  shift
  ./mvnw -q -f benchmarks/pom.xml package exec:exec@run \
    -Drun.args="--enable-native-access=ALL-UNNAMED -Xmx6g -cp target/benchmarks.jar io.github.mseal4j.benchmarks.SideBySide $*"
  exit
fi
if [ "${1:-}" = footprint ]; then
  # Heap kept alive by each kind of map (not JMH): bash benchmarks/run.sh footprint [entries]
  shift
  ./mvnw -q -f benchmarks/pom.xml package exec:exec@run \
    -Drun.args="--enable-native-access=ALL-UNNAMED -Xmx4g -cp target/benchmarks.jar io.github.mseal4j.benchmarks.Footprint $*"
  exit
fi

args="$*"
result_named=false
fork_args_replaced=false
for arg in "$@"; do
  case "$arg" in
    -rf | -rff | -rf=* | -rff=*) result_named=true ;;
    -jvmArgs | -jvmArgs=*) fork_args_replaced=true ;;
  esac
done
if ! $result_named; then
  args="$args -rf json -rff results/latest.json"
fi

# JMH 1.37 calls sun.misc.Unsafe's memory-access methods, which JDK 24+ warns about (JEP 498) in the JMH JVM
# and in every fork. --sun-misc-unsafe-memory-access=allow (JDK 23+; JDK 22 refuses to start with it) allows
# them quietly. It is given to the JMH JVM; the forks inherit that JVM's options, except when -jvmArgs
# replaces them, and then it is added with -jvmArgsPrepend (the @Fork annotations use jvmArgsAppend).
# The JDK is the toolchain's, i.e. the one exec:exec@run runs, which exec passes as TOOLCHAIN_JAVA_HOME.
jdk=$(./mvnw -q -f benchmarks/pom.xml validate exec:exec -Dexec.executable=sh \
  -Dexec.args="-c 'echo \$TOOLCHAIN_JAVA_HOME'")
feature=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$jdk/release")
host=""
if [ "${feature:-0}" -ge 23 ]; then
  host="--sun-misc-unsafe-memory-access=allow "
  if $fork_args_replaced; then
    args="$args -jvmArgsPrepend --sun-misc-unsafe-memory-access=allow"
  fi
fi
./mvnw -q -f benchmarks/pom.xml package exec:exec@run -Drun.args="${host}-jar target/benchmarks.jar $args"
