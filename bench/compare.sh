#!/usr/bin/env bash
# Runs jgpt's whole-model benchmarks beside their PyTorch anchors, one after the other in one run, on GPT-2 124M
# shapes with random weights and 2 threads, and prints each figure and the jgpt / PyTorch ratio.
# Needs Debian's PyTorch with OpenBLAS: apt-get install python3-torch libopenblas0-pthread
# `serve` (no PyTorch anchor) times the HTTP server under 1, 4 and 8 concurrent clients (bench/README.md).
# q8 needs no PyTorch: Q8_0 decoding beside F32 and BF16, with the bytes each streams per token and its roofline.
# Run it on a quiet machine: usage: bench/compare.sh [decode|prefill|train|q8|serve]...
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_WAIT_POLICY=PASSIVE JGPT_THREADS=2
python=/usr/bin/python3
field() { $python -c 'import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])[sys.argv[1]])' "$1"; }
ratio() { $python -c 'import sys; print(f"{float(sys.argv[1]) / float(sys.argv[2]):.2f}")' "$1" "$2"; }

[ $# -gt 0 ] || set -- decode prefill train
for what in "$@"; do
  case $what in
    decode)
      torch=$($python bench/python/torch_gpt2_speed.py --mode decode --prompt 64 --tokens 64)
      echo "pytorch decode: $torch"
      for dtype in f32 bf16 f16 q8_0; do
        jgpt=$(./jgpt bench decode --preset gpt2 --dtype "$dtype" --prompt 64 --tokens 64 2>/dev/null)
        echo "jgpt decode $dtype: $jgpt"
        echo "  => $dtype decode: $(ratio "$(echo "$jgpt" | field tokens_per_second)" "$(echo "$torch" | field tokens_per_second)")x pytorch," \
             "$(echo "$jgpt" | field roofline_fraction) of the bandwidth roofline"
      done ;;
    q8)
      # Five rounds of the three dtypes, one process each, the first dtype rotating: one after the other once, their
      # ratios moved by ±20% between runs on a shared machine. Each ratio is the median of the rounds' ratios. (One
      # JVM running all three is no fairer: the kernels' call sites then see every dtype, and C2 left BF16 at a fifth
      # of its speed.)
      dtypes=(f32 bf16 q8_0)
      results=$(mktemp)
      for round in 0 1 2 3 4; do
        for k in 0 1 2; do
          dtype=${dtypes[$(( (round + k) % 3 ))]}
          jgpt=$(./jgpt bench decode --preset gpt2 --dtype "$dtype" --prompt 64 --tokens 64 --repeats 3 2>/dev/null)
          echo "round $round, jgpt decode $dtype: $jgpt"
          echo "$round $dtype $jgpt" >> "$results"
        done
      done
      $python - "$results" <<'PY'
import json, statistics, sys
rounds = {}
for line in open(sys.argv[1]):
    r, dtype, result = line.split(" ", 2)
    rounds.setdefault(int(r), {})[dtype] = json.loads(result)
for dtype in ("f32", "bf16", "q8_0"):
    runs = [rounds[r][dtype] for r in sorted(rounds)]
    speed = statistics.median(x["tokens_per_second"] for x in runs)
    roofline = statistics.median(x["roofline_tokens_per_second"] for x in runs)
    print(f"  => {dtype}: {speed:.1f} tokens/s (median of {len(runs)}), {runs[0]['streamed_bytes_per_token']} bytes per token,"
          f" roofline {roofline:.1f} tokens/s, {speed / roofline:.2f} of it")
def ratio(a, b):
    return statistics.median(rounds[r][a]["tokens_per_second"] / rounds[r][b]["tokens_per_second"] for r in rounds)
print(f"  => q8_0 decode: {ratio('q8_0', 'bf16'):.2f}x bf16, {ratio('q8_0', 'f32'):.2f}x f32 (medians of the rounds' ratios)")
PY
      rm -f "$results" ;;
    prefill)
      # Best of ten passes each: on a shared machine three often all land in a slow patch.
      torch=$($python bench/python/torch_gpt2_speed.py --mode prefill --prompt 512 --repeats 10)
      jgpt=$(./jgpt bench prefill --preset gpt2 --prompt 512 --repeats 10 2>/dev/null)
      echo "pytorch prefill: $torch"
      echo "jgpt prefill: $jgpt"
      echo "  => prefill 512: $(ratio "$(echo "$jgpt" | field tokens_per_second)" "$(echo "$torch" | field tokens_per_second)")x pytorch" ;;
    train)
      torch=$($python bench/python/torch_gpt2_train_speed.py --batch 4 --seq 256 --steps 3)
      jgpt=$(./jgpt bench train --preset gpt2 --batch 4 --seq 256 --steps 3 2>/dev/null)
      echo "pytorch train: $torch"
      echo "jgpt train: $jgpt"
      echo "  => training: $(ratio "$(echo "$jgpt" | field tokens_per_second)" "$(echo "$torch" | field tokens_per_second)")x pytorch," \
           "mfu $(echo "$jgpt" | field mfu)" ;;
    serve)
      mvn -B -q -pl bench -am package -DskipTests
      java=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java
      "$java" --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC \
        -cp "bench/target/classes:bench/target/lib/*" org.jgpt.bench.ServeBenchmark --clients 1,4,8 --tokens 64 2>/dev/null ;;
    *) echo "usage: $0 [decode|prefill|train|q8|serve]..." >&2; exit 2 ;;
  esac
done
