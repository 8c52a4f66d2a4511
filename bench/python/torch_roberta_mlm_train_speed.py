#!/usr/bin/env python3
"""PyTorch anchor for jgpt's encoder training: masked-LM training tokens/s of RoBERTa (roberta-base shapes by default)
with AdamW.

The model is scripts/reference/roberta_reference.py's hand-written RobertaForMaskedLM (imported through a sys.path
insert), with Hugging Face's initialisation and dropout 0.1 as in training. Random full-length sequences; 15% of the
positions are labelled (their inputs replaced by <mask>); forward, backward, global-norm clipping and an AdamW step
(RoBERTa's betas 0.9/0.98, eps 1e-6, weight decay 0.01 on matrices) per iteration. Prints one JSON line with
tokens_per_second (median over the timed steps; the first step is a warm-up) and peak_rss_mb (ru_maxrss).
Run with Debian's PyTorch using OpenBLAS, both cores, and passive OpenMP waiting:
  apt-get install python3-torch libopenblas0-pthread
  OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 bench/python/torch_roberta_mlm_train_speed.py --batch 4 --seq 256 --steps 5
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts", "reference"))
import roberta_reference as rr  # noqa: E402

# (layers, heads, hidden, inner, vocab, max positions)
PRESETS = {"roberta-base": (12, 12, 768, 3072, 50265, 514), "roberta-large": (24, 16, 1024, 4096, 50265, 514),
           "tiny": (2, 2, 64, 256, 50265, 514)}
MASK_FRACTION = 0.15


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--preset", default="roberta-base", choices=PRESETS)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--seq", type=int, default=256)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    layers, heads, hidden, inner, vocab, positions = PRESETS[args.preset]
    assert args.seq + 2 <= positions, "RoBERTa's positions start at 2"
    cfg = rr.roberta_config("RobertaForMaskedLM", vocab_size=vocab, hidden_size=hidden, num_hidden_layers=layers,
                            num_attention_heads=heads, intermediate_size=inner, max_position_embeddings=positions)
    params = {n: p.requires_grad_(True) for n, p in rr.init_hf(rr.parameter_shapes(cfg, ("lm_head",))).items()}
    decay = [p for p in params.values() if p.dim() == 2]
    other = [p for p in params.values() if p.dim() < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": other, "weight_decay": 0.0}],
                                  lr=6e-4, betas=(0.9, 0.98), eps=1e-6)
    mask_id, n_labelled = vocab - 1, round(MASK_FRACTION * args.seq)
    times = []
    for step in range(args.steps + 1):
        ids = torch.randint(4, mask_id, (args.batch, args.seq))
        ids[:, 0], ids[:, -1] = 0, 2
        labels = torch.full_like(ids, -100)
        for row in range(args.batch):  # 15% of the positions between <s> and </s>
            where = 1 + torch.randperm(args.seq - 2)[:n_labelled]
            labels[row, where] = ids[row, where]
            ids[row, where] = mask_id
        attention_mask = torch.ones_like(ids)
        start = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        logits = rr.mlm_logits(params, cfg, rr.encoder(params, cfg, ids, attention_mask, dropout=True))
        loss = F.cross_entropy(logits.view(-1, vocab), labels.view(-1), ignore_index=-100)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params.values(), 1.0)
        optimizer.step()
        if step > 0:  # the first step warms up allocations
            times.append(time.perf_counter() - start)
    seconds = statistics.median(times)
    print(json.dumps({"framework": "pytorch " + torch.__version__, "preset": args.preset, "batch": args.batch,
                      "seq": args.seq, "threads": args.threads, "steps": args.steps,
                      "labelled_per_sequence": n_labelled, "seconds_per_step": round(seconds, 4),
                      "tokens_per_second": round(args.batch * args.seq / seconds, 1),
                      "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}))


if __name__ == "__main__":
    main()
