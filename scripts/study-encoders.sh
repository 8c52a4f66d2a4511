#!/usr/bin/env bash
# The masked-objectives study: tiny RoBERTa encoders of one size, pre-trained with the same compute on the demo corpus
# (State of the Union + Moby-Dick, the 12 most recent addresses held out) with each objective, then fine-tuned on the
# fixed SpamAssassin split beside the demo GPT-2. Usage: scripts/study-encoders.sh [WORKDIR] [STAGE...]
# Stages: corpus, pretrain, finetune (default: all three). Pre-training takes about 7 minutes per objective on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-/tmp/jgpt-study}
shift || true
stages=${*:-corpus pretrain finetune}
objectives=(mlm mlm40 wwm span mlm+sop mlm+nsp)
spam=data/finetune/spam-assassin

if [[ " $stages " == *" corpus "* ]]; then
  rm -rf "$work" && mkdir -p "$work"
  # The demo model's recipe with RoBERTa's special tokens: 8,192 tokens, the same held-out split.
  ./jgpt tokenizer train --roberta --vocab-size 8192 --out "$work/tokenizer" data/corpora/moby-dick.txt data/corpora/sotu
  ./jgpt prepare --model "$work/tokenizer" --out "$work/data" --val-fraction 0.05 data/corpora/moby-dick.txt data/corpora/sotu
fi

if [[ " $stages " == *" pretrain "* ]]; then
  for name in "${objectives[@]}"; do
    objective=$name rate=0.15
    [[ $name == mlm40 ]] && objective=mlm rate=0.40
    # 6 layers, 8 heads, 256 wide like the demo GPT-2; 400 steps of 8 x 256 tokens (0.8M tokens) each.
    ./jgpt train --data "$work/data" --out "$work/pretrain-$name" --objective "$objective" --mask-rate "$rate" \
        --n-layer 6 --n-head 8 --n-embd 256 --batch 8 --seq 256 --steps 400 --warmup 40 --lr 1e-3 --min-lr 1e-4 \
        --weight-decay 0.01 --dropout 0.1 --eval-interval 100 --eval-batches 20 --checkpoint-interval 400 --seed 1337
  done
fi
