#!/usr/bin/env bash
# The masked-objectives study: tiny RoBERTa encoders of one size, pre-trained with the same compute on the demo corpus
# (State of the Union + Moby-Dick, the 12 most recent addresses held out) with each objective, then fine-tuned on the
# fixed SpamAssassin split beside the demo GPT-2. Usage: scripts/study-encoders.sh [WORKDIR] [STAGE...]
# Stages: corpus, pretrain, finetune (default: all three). Pre-training takes about 6 minutes per objective on 2 cores.
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
    [[ -f $work/pretrain-$name/model.safetensors ]] && continue   # finished in an earlier call
    # 4 layers, 4 heads, 128 wide (1.9M parameters); 1,200 steps of 8 x 256 tokens (2.5M tokens, one epoch) each.
    ./jgpt train --data "$work/data" --out "$work/pretrain-$name" --objective "$objective" --mask-rate "$rate" \
        --n-layer 4 --n-head 4 --n-embd 128 --batch 8 --seq 256 --steps 1200 --warmup 60 --lr 1e-3 --min-lr 1e-4 \
        --weight-decay 0.01 --dropout 0.1 --eval-interval 200 --eval-batches 20 --checkpoint-interval 1200 --seed 1337
  done
fi
