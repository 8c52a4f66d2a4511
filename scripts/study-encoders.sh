#!/usr/bin/env bash
# The masked-objectives study: tiny RoBERTa encoders of one size, pre-trained with the same compute on the demo corpus
# (State of the Union + Moby-Dick, the 12 most recent addresses held out) with each objective, then fine-tuned on the
# fixed SpamAssassin split beside the demo GPT-2. Usage: scripts/study-encoders.sh [WORKDIR] [STAGE...]
# Stages: corpus, pretrain, finetune (default: all three). On 2 cores pre-training takes about 6 minutes per objective,
# fine-tuning about 3. The results table is written to WORKDIR/study.md.
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-/tmp/jgpt-study}
shift || true
stages=${*:-corpus pretrain finetune}
objectives=(mlm mlm40 wwm span mlm+sop mlm+nsp rtd rtd-random plm)
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
    # rtd adds its generator (a quarter as wide) and plm its query stream: the same steps and tokens, more compute.
    ./jgpt train --data "$work/data" --out "$work/pretrain-$name" --objective "$objective" --mask-rate "$rate" \
        --n-layer 4 --n-head 4 --n-embd 128 --batch 8 --seq 256 --steps 1200 --warmup 60 --lr 1e-3 --min-lr 1e-4 \
        --weight-decay 0.01 --dropout 0.1 --eval-interval 200 --eval-batches 20 --checkpoint-interval 1200 --seed 1337
  done
fi

# One row of the results table: the held-out masked-token accuracy (when the model has one), the last validation
# epoch's figures and the test set's.
row() {
  python3 - "$1" "$2" "$work" <<'PY'
import json, os, re, sys
name, label, work = sys.argv[1:4]
masked_file = f"{work}/masked-lm-{name}.json"
masked = f"{json.load(open(masked_file))['metrics']['masked_token_accuracy']:.3f}" if os.path.exists(masked_file) else ""
valid = [json.loads(line) for line in open(f"{work}/spam-{name}/validation.jsonl")][-1]
test = dict(re.findall(r"(accuracy|F1|MCC) (-?[0-9.]+)", open(f"{work}/test-{name}.txt").read().split("metrics:")[-1]))
print(f"| {label} | {masked} | {valid['accuracy']:.3f} | {valid['f1']:.3f} | {valid['mcc']:.3f} "
      f"| {float(test['accuracy']):.3f} | {float(test['F1']):.3f} | {float(test['MCC']):.3f} |")
PY
}

if [[ " $stages " == *" finetune "* ]]; then
  # The control: the same encoder at its initialisation, saved by one step at learning rate 0.
  [[ -f $work/pretrain-none/model.safetensors ]] || ./jgpt train --data "$work/data" --out "$work/pretrain-none" \
      --objective mlm --n-layer 4 --n-head 4 --n-embd 128 --batch 8 --seq 256 --steps 1 --warmup 0 --lr 0 --min-lr 0 \
      --seed 1337
  table="$work/study.md"
  echo "| pre-training | held-out masked-token accuracy (mlm 15%) | valid accuracy | valid F1 (spam) | valid MCC | test accuracy | test F1 (spam) | test MCC |" > "$table"
  echo "|---|---|---|---|---|---|---|---|" >> "$table"
  for name in none "${objectives[@]}"; do
    # Fine-tuned as the demo GPT-2 in docs/finetune.md: 3 epochs of batch 32, learning rate 5e-4, 256 tokens, seed 1.
    [[ -f $work/spam-$name/model.safetensors ]] || ./jgpt finetune --model "$work/pretrain-$name" \
        --train $spam/train.jsonl --valid $spam/valid.jsonl --out "$work/spam-$name" --lr 5e-4 --seed 1
    # Masked-token accuracy for the encoders with a masked-LM head (rtd's discriminator and plm's query stream have none).
    [[ $name == rtd* || $name == plm ]] || ./jgpt eval --task masked-lm --model "$work/pretrain-$name" \
        --data "$work/data" --mask-rate 0.15 --json > "$work/masked-lm-$name.json"
    ./jgpt classify --model "$work/spam-$name" $spam/test.jsonl 2> "$work/test-$name.txt" > /dev/null
    row "$name" "$name" >> "$table"
  done
  # The demo GPT-2 (6 x 256, 6.9M parameters, 3.3M tokens of causal LM), fine-tuned the same way, task loss only.
  [[ -f $work/spam-demo-gpt2/model.safetensors ]] || ./jgpt finetune --model models/demo --train $spam/train.jsonl \
      --valid $spam/valid.jsonl --out "$work/spam-demo-gpt2" --lr 5e-4 --seed 1 --lm-weight 0
  ./jgpt classify --model "$work/spam-demo-gpt2" $spam/test.jsonl 2> "$work/test-demo-gpt2.txt" > /dev/null
  row demo-gpt2 "demo GPT-2 (clm)" >> "$table"
  cat "$table"
fi
