#!/usr/bin/env bash
# English-to-French retrieval before and after contrastive training, the figures in docs/encoders.md: a tiny RoBERTa encoder
# pre-trained with mlm on the messages of the Debian pairs' training split (every record but each 20th, which train
# --objective contrastive-pairs and eval --task retrieval hold out), then trained further with contrastive-pairs and,
# apart, with simcse; each encoder ranks the French translations of the first 1,000 held-out English messages.
# Usage: scripts/contrastive-retrieval.sh [WORKDIR] [STAGE...]; stages: corpus, pretrain, contrastive (default: all).
# About 7 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-/tmp/jgpt-contrastive}
shift || true
stages=${*:-corpus pretrain contrastive}
pairs=data/corpora/debian-l10n-en-fr/pairs.jsonl
retrieval=(./jgpt eval --task retrieval --data "$pairs" --fields en,fr --candidates 1000)

if [[ " $stages " == *" corpus "* ]]; then
  rm -rf "$work" && mkdir -p "$work"
  # The training split's English and French messages: one {"text"} record each (and one a line for the tokenizer).
  python3 - "$pairs" "$work" <<'PYTHON'
import json, sys
records = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8") if line.strip()]
train = [r for i, r in enumerate(records, 1) if i % 20 != 0]
with open(sys.argv[2] + "/train-texts.jsonl", "w", encoding="utf-8") as jsonl, \
        open(sys.argv[2] + "/train-texts.txt", "w", encoding="utf-8") as text:
    for r in train:
        for language in ("en", "fr"):
            jsonl.write(json.dumps({"text": r[language]}, ensure_ascii=False) + "\n")
            text.write(r[language] + "\n")
PYTHON
  ./jgpt tokenizer train --roberta --vocab-size 4000 --out "$work/tokenizer" "$work/train-texts.txt"
  ./jgpt prepare --model "$work/tokenizer" --out "$work/mlm-data" "$work/train-texts.jsonl"
fi

if [[ " $stages " == *" pretrain "* ]]; then
  # 4 layers, 4 heads, 128 wide (1.3M parameters); 600 steps of 16 x 64 tokens (0.6M tokens, half an epoch).
  ./jgpt train --objective mlm --data "$work/mlm-data" --out "$work/mlm" --n-layer 4 --n-head 4 --n-embd 128 \
      --seq 64 --batch 16 --steps 600 --warmup 60 --lr 1e-3 --min-lr 1e-4 --weight-decay 0.01 --beta2 0.98 \
      --eval-interval 200 --eval-batches 20 --checkpoint-interval 600 --seed 1
  # before: the masked-LM encoder, which names no pooling, pooled each way
  "${retrieval[@]}" --model "$work/mlm" --pooling mean
  "${retrieval[@]}" --model "$work/mlm" --pooling cls
fi

if [[ " $stages " == *" contrastive "* ]]; then
  # 300 steps of 32 records, sequences cut to 48 tokens, from the masked-LM encoder; mean pooling, temperature 0.05.
  common=(--init "$work/mlm" --batch 32 --seq 48 --steps 300 --warmup 30 --lr 5e-4 --min-lr 5e-5 --weight-decay 0.01
          --beta2 0.98 --eval-interval 100 --eval-batches 20 --checkpoint-interval 300 --seed 1)
  ./jgpt train --objective contrastive-pairs --data "$pairs" --fields en,fr --out "$work/pairs" "${common[@]}"
  "${retrieval[@]}" --model "$work/pairs"
  ./jgpt train --objective simcse --data "$work/train-texts.jsonl" --out "$work/simcse" "${common[@]}"
  "${retrieval[@]}" --model "$work/simcse"
fi
