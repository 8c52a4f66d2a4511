#!/usr/bin/env bash
# The Spark jobs against the single-process commands on the demo corpus (State of the Union and Moby-Dick), in one
# run: documents and MB/s of build-corpus (the corpus as HTML pages), prepare and overlap build/check, in one process
# and in Spark local mode with one thread (like for like) and with N. usage: bench/spark-bench.sh [--threads N]
set -euo pipefail
cd "$(dirname "$0")/.."
./jgpt spark --version >/dev/null   # builds the spark module when its sources changed
opens=""
for p in java.lang java.lang.invoke java.lang.reflect java.io java.net java.nio java.util java.util.concurrent \
         java.util.concurrent.atomic jdk.internal.ref sun.nio.ch sun.nio.cs sun.util.calendar; do
  opens="$opens --add-opens=java.base/$p=ALL-UNNAMED"
done
JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
exec "$JAVA_HOME/bin/java" --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED $opens \
  -Djdk.reflect.useDirectMethodHandle=false -Dio.netty.tryReflectionSetAccessible=true -Xmx4g \
  -cp "spark/target/jgpt-spark-app.jar:spark/target/lib/*" org.jgpt.spark.SparkBenchmark \
  data/corpora/sotu data/corpora/moby-dick.txt "$@"
