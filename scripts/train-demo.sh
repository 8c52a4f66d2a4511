#!/usr/bin/env bash
# Rebuilds the built-in demo model (models/demo) from the corpora in data/corpora, with jgpt alone, then evaluates
# it on the held-out addresses. Takes about an hour on 2 cores. Usage: scripts/train-demo.sh [WORKDIR]
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-/tmp/jgpt-demo}
rm -rf "$work" && mkdir -p "$work"

# 1. An 8,192-token byte-level BPE vocabulary learned on the whole corpus.
./jgpt tokenizer train --vocab-size 8192 --out "$work/tokenizer" data/corpora/moby-dick.txt data/corpora/sotu

# 2. Token shards. Moby-Dick first, then the addresses in year order, so the last 5% of the documents held out for
#    validation are the 12 most recent addresses (2010-2021).
./jgpt prepare --model "$work/tokenizer" --out "$work/data" --val-fraction 0.05 data/corpora/moby-dick.txt data/corpora/sotu

# 3. A 6-layer, 256-wide GPT-2 (6.9M parameters), 1,600 steps of 8 × 256 tokens (about 1.3 epochs).
./jgpt train --data "$work/data" --out "$work/run" --n-layer 6 --n-head 8 --n-embd 256 --context 256 \
    --batch 8 --seq 256 --steps 1600 --warmup 100 --lr 1e-3 --min-lr 1e-4 --dropout 0.1 \
    --eval-interval 100 --eval-batches 20 --checkpoint-interval 200 --seed 1337

# 4. Held-out evaluation: perplexity and bits per byte on the 12 most recent addresses, one document each, and the
#    paper's 8-gram overlap between the training text and them.
heldout=$(ls data/corpora/sotu/*.txt | tail -n 12)
train=$(ls data/corpora/sotu/*.txt | head -n -12)
python3 -c 'import json, sys; [print(json.dumps({"text": open(f, encoding="utf-8").read()})) for f in sys.argv[1:]]' \
    $heldout > "$work/heldout.jsonl"
./jgpt eval --model "$work/run" --task perplexity --data "$work/heldout.jsonl"
./jgpt overlap build --out "$work/train.bloom" data/corpora/moby-dick.txt $train
./jgpt overlap check --filter "$work/train.bloom" $heldout
echo "the model is in $work/run; copy config.json, model.safetensors, vocab.json and merges.txt to models/demo"
