#!/usr/bin/env python3
"""PyTorch anchor for `jgpt bench train`: training tokens/s of GPT-2 (124M shapes by default) with AdamW.

Random data and GPT-2 initialisation; forward, backward, global-norm clipping and an AdamW step per iteration, as
jgpt's trainer does (dropout off in both). Prints one JSON line with tokens_per_second (median over the timed steps).
Run with Debian's PyTorch using OpenBLAS, both cores, and passive OpenMP waiting:
  apt-get install python3-torch libopenblas0-pthread
  OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 bench/python/torch_gpt2_train_speed.py --batch 4 --seq 256 --steps 5
"""
import argparse
import json
import math
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

PRESETS = {"gpt2": (12, 12, 768), "gpt2-medium": (24, 16, 1024), "tiny": (2, 2, 64)}


class Block(nn.Module):
    def __init__(self, c, h):
        super().__init__()
        self.h = h
        self.ln_1, self.ln_2 = nn.LayerNorm(c), nn.LayerNorm(c)
        self.c_attn, self.c_proj = nn.Linear(c, 3 * c), nn.Linear(c, c)
        self.c_fc, self.mlp_proj = nn.Linear(c, 4 * c), nn.Linear(4 * c, c)

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(c, dim=2)
        q, k, v = [z.view(b, t, self.h, c // self.h).transpose(1, 2) for z in (q, k, v)]
        att = (q @ k.transpose(-2, -1)) / math.sqrt(c // self.h)
        att = att.masked_fill(torch.triu(torch.ones(t, t, dtype=torch.bool), 1), float("-inf")).softmax(-1)
        x = x + self.c_proj((att @ v).transpose(1, 2).reshape(b, t, c))
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))


class GPT2(nn.Module):
    def __init__(self, layers, heads, c, vocab=50257, context=1024):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(vocab, c), nn.Embedding(context, c)
        self.h = nn.ModuleList(Block(c, heads) for _ in range(layers))
        self.ln_f = nn.LayerNorm(c)
        for name, p in self.named_parameters():
            if p.dim() == 2:
                std = 0.02 / math.sqrt(2 * layers) if name.endswith(("c_proj.weight", "mlp_proj.weight")) else 0.02
                nn.init.normal_(p, 0.0, std)

    def forward(self, idx, targets):
        x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1]))
        for block in self.h:
            x = block(x)
        logits = self.ln_f(x) @ self.wte.weight.T
        return F.cross_entropy(logits.view(-1, logits.shape[-1]), targets.view(-1))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--preset", default="gpt2", choices=PRESETS)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--seq", type=int, default=256)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = GPT2(*PRESETS[args.preset])
    decay = [p for p in model.parameters() if p.dim() == 2]
    other = [p for p in model.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": other, "weight_decay": 0.0}],
                                  lr=6e-4, betas=(0.9, 0.95))
    times = []
    for step in range(args.steps + 1):
        idx = torch.randint(0, 50257, (args.batch, args.seq))
        targets = torch.randint(0, 50257, (args.batch, args.seq))
        start = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        loss = model(idx, targets)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if step > 0:  # the first step warms up allocations
            times.append(time.perf_counter() - start)
    seconds = statistics.median(times)
    print(json.dumps({"framework": "pytorch " + torch.__version__, "preset": args.preset, "batch": args.batch,
                      "seq": args.seq, "threads": args.threads, "steps": args.steps,
                      "seconds_per_step": round(seconds, 4),
                      "tokens_per_second": round(args.batch * args.seq / seconds, 1)}))


if __name__ == "__main__":
    main()
