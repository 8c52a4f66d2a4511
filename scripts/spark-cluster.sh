#!/usr/bin/env bash
# A real Spark standalone cluster on this machine (a master and two workers on 127.0.0.1, each a JVM of its own, from
# the Spark jars of the spark module), the four jgpt spark jobs submitted to it with spark-submit's own class, and
# their outputs compared with the single-process commands'. Exits non-zero on any difference. CI runs it.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
java="$JAVA_HOME/bin/java"
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

app="$root/spark/target/jgpt-spark-app.jar"
./jgpt spark --version >/dev/null   # builds the spark module (app jar and target/lib) when its sources changed
./jgpt --version >/dev/null         # and the CLI

opens=(--add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Djdk.reflect.useDirectMethodHandle=false
       -Dio.netty.tryReflectionSetAccessible=true)
for p in java.lang java.lang.invoke java.lang.reflect java.io java.net java.nio java.util java.util.concurrent \
         java.util.concurrent.atomic jdk.internal.ref sun.nio.ch sun.nio.cs sun.util.calendar; do
  opens+=(--add-opens=java.base/$p=ALL-UNNAMED)
done

# A Spark "installation" for the workers: they start executors from SPARK_HOME/jars, as in a distribution.
export SPARK_HOME="$work/spark-home" SPARK_SCALA_VERSION=2.13 SPARK_LOCAL_IP=127.0.0.1
mkdir -p "$SPARK_HOME/conf"
cp spark/src/main/resources/log4j2.properties "$SPARK_HOME/conf/"   # jobs and executors: warnings and errors only
touch "$SPARK_HOME/RELEASE"
ln -s "$root/spark/target/lib" "$SPARK_HOME/jars"

port=$((17000 + RANDOM % 1000))
master="spark://127.0.0.1:$port"
"$java" "${opens[@]}" -cp "$SPARK_HOME/jars/*" org.apache.spark.deploy.master.Master \
  --host 127.0.0.1 --port "$port" --webui-port $((port + 1)) >"$work/master.log" 2>&1 &
pids+=($!)
for i in 1 2; do
  "$java" "${opens[@]}" -cp "$SPARK_HOME/jars/*" org.apache.spark.deploy.worker.Worker \
    --host 127.0.0.1 --cores 1 --memory 1g --webui-port $((port + 1 + i)) --work-dir "$work/worker$i" "$master" \
    >"$work/worker$i.log" 2>&1 &
  pids+=($!)
done
for _ in $(seq 60); do
  [ "$(grep -c 'Registering worker' "$work/master.log" || true)" -ge 2 ] && break
  sleep 1
done
if [ "$(grep -c 'Registering worker' "$work/master.log" || true)" -lt 2 ]; then
  echo "spark-cluster: the workers did not register with the master" >&2
  tail -n 20 "$work"/*.log >&2
  exit 1
fi
echo "spark-cluster: master $master with two workers (1 core each)"

submit() { # spark-submit (its class, in client mode) of a jgpt spark job to the cluster
  timeout 300 "$java" "${opens[@]}" -cp "$SPARK_HOME/conf:$SPARK_HOME/jars/*" org.apache.spark.deploy.SparkSubmit --master "$master" \
    --conf spark.executor.memory=1g --class org.jgpt.spark.Main "$app" "$@"
}

sotu=data/corpora/sotu
pairs=data/corpora/debian-l10n-en-fr/pairs.jsonl
out="$work/out"
mkdir -p "$out"

./jgpt prepare --out "$out/prepared" --val-fraction 0.05 "$sotu" >/dev/null 2>&1
submit prepare --out "$out/prepared-cluster" --val-fraction 0.05 "$sotu"
diff -r "$out/prepared" "$out/prepared-cluster"

./jgpt overlap build --out "$out/train.bloom" --field en "$sotu"/17* "$pairs" >/dev/null 2>&1
submit overlap-build --split-mb 1 --out "$out/train-cluster.bloom" --field en "$sotu"/17* "$pairs"
cmp "$out/train.bloom" "$out/train-cluster.bloom"

./jgpt overlap check --json --filter "$out/train.bloom" --field en "$sotu"/18* "$pairs" 2>/dev/null \
  | sed 's/"megabytes_per_second": [^,}]*//' >"$out/check.json"
submit overlap-check --split-mb 1 --json --filter "$out/train.bloom" --field en "$sotu"/18* "$pairs" \
  | sed 's/"megabytes_per_second": [^,}]*//' >"$out/check-cluster.json"
cmp "$out/check.json" "$out/check-cluster.json"

# Planted duplicates: an address again (exact) and with one word changed (near).
mkdir -p "$work/web"
cp "$sotu/1790_george_washington_n.txt" "$work/web/exact.txt"
sed '0,/Senate/s//Assembly/' "$sotu/1791_george_washington_n.txt" >"$work/web/near.txt"
./jgpt build-corpus --out "$out/corpus" --min-words 100 "$sotu" "$work/web" >/dev/null 2>&1
submit build-corpus --out "$out/corpus-cluster" --min-words 100 "$sotu" "$work/web"
diff -r "$out/corpus" "$out/corpus-cluster"
grep -q '"stage": "exact_dedup", "kept": 234, "dropped": 1' "$out/corpus/report.json"
grep -q '"stage": "near_dedup", "kept": 233, "dropped": 1' "$out/corpus/report.json"

echo "spark-cluster: prepare, overlap-build, overlap-check and build-corpus on the cluster gave the single-process outputs"
