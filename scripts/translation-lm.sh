#!/usr/bin/env bash
# Whether translation LM teaches an encoder to use the other language, the figures in docs/encoders.md: a tiny RoBERTa encoder
# pre-trained with mlm on the messages of the Debian pairs' training split (every record but each 20th, which tlm and
# eval --task tlm hold out), the English messages then the French ones, so that no window holds a message beside its
# translation; then trained 300 steps more with mlm on the same messages (the control) and, apart, with tlm on the
# English-French pairs of the same split. eval --task tlm scores each on the held-out pairs: one language's tokens
# masked, with the other language visible and hidden.
# Usage: scripts/translation-lm.sh [WORKDIR] [STAGE...]; stages: corpus, pretrain, continue, eval (default: all).
# About 8 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-/tmp/jgpt-tlm}
shift || true
stages=${*:-corpus pretrain continue eval}
pairs=data/corpora/debian-l10n-en-fr/pairs.jsonl

if [[ " $stages " == *" corpus "* ]]; then
  rm -rf "$work" && mkdir -p "$work"
  # The training split's English messages, then its French ones: one {"text"} record each (and one a line for the
  # tokenizer).
  python3 - "$pairs" "$work" <<'PYTHON'
import json, sys
records = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8") if line.strip()]
train = [r for i, r in enumerate(records, 1) if i % 20 != 0]
with open(sys.argv[2] + "/train-texts.jsonl", "w", encoding="utf-8") as jsonl, \
        open(sys.argv[2] + "/train-texts.txt", "w", encoding="utf-8") as text:
    for language in ("en", "fr"):
        for r in train:
            jsonl.write(json.dumps({"text": r[language]}, ensure_ascii=False) + "\n")
            text.write(r[language] + "\n")
PYTHON
  ./jgpt tokenizer train --roberta --vocab-size 4000 --out "$work/tokenizer" "$work/train-texts.txt"
  ./jgpt prepare --model "$work/tokenizer" --out "$work/mlm-data" "$work/train-texts.jsonl"
fi

# 4 layers, 4 heads, 128 wide (1.3M parameters); every run takes steps of 16 rows of 64 tokens, 800 of them (0.6
# epoch) for the pre-training.
common=(--batch 16 --seq 64 --warmup 30 --lr 1e-3 --min-lr 1e-4 --weight-decay 0.01 --beta2 0.98 --eval-interval 100
        --eval-batches 20 --seed 1)

if [[ " $stages " == *" pretrain "* ]]; then
  ./jgpt train --objective mlm --data "$work/mlm-data" --out "$work/mlm" --n-layer 4 --n-head 4 --n-embd 128 \
      --steps 800 --checkpoint-interval 800 "${common[@]}"
fi

if [[ " $stages " == *" continue "* ]]; then
  # 300 more steps each: mlm on the monolingual messages, or tlm on the pairs (a row is a pair, cut to 64 tokens).
  ./jgpt train --objective mlm --init "$work/mlm" --data "$work/mlm-data" --out "$work/mlm-more" --steps 300 \
      --checkpoint-interval 300 "${common[@]}"
  ./jgpt train --objective tlm --init "$work/mlm" --data "$pairs" --fields en,fr --out "$work/tlm" --steps 300 \
      --checkpoint-interval 300 "${common[@]}"
fi

if [[ " $stages " == *" eval "* ]]; then
  # the 1,902 held-out pairs; the masked-LM encoders read a pair in RoBERTa's layout, the tlm one in its own
  for model in mlm mlm-more tlm; do
    ./jgpt eval --task tlm --model "$work/$model" --data "$pairs" --fields en,fr
  done
fi
