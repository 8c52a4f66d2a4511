#!/usr/bin/python3
"""PyTorch reference fixture for jgpt's contrastive objectives: one step of unsupervised SimCSE and one of
contrastive pairs (sentence-transformers' MultipleNegativesRankingLoss), losses and gradients, independent of jgpt.

The encoder is data/fixtures/encoder/tiny (made by make_encoder_fixture.py: vocab 64, hidden 16, 2 layers, 2 heads,
sequences of 8), run by roberta_reference.py's RoBERTa. Each case is one batch of 2n sequences, the n anchors and then
their n positives, with dropout 0.1 on: SimCSE's two views of a sentence differ only by their dropout masks, so the
comparison is exact only if both sides drop the same units. The masks are therefore jgpt's, recomputed here from the
case's dropout seed by a port of java.util.SplittableRandom and of the order in which jgpt draws them (see masks()).
The loss: pooled vectors (mean over the sequence's tokens, or the <s> position), normalised,
scores = anchors @ positivesᵀ / temperature, cross-entropy of row i against column i.

Writes data/fixtures/contrastive/step.json: per case ("simcse", "pairs") the inputs, lengths, pooling, temperature,
dropout and its seed, the pooled vectors, the scores, the loss, and the gradient of every roberta.* parameter under
Hugging Face's names, flattened row-major in Hugging Face's layout.
Floats are written as the shortest decimal that reads back to the same float32.
Run with Debian's PyTorch (1.13, CPU):  /usr/bin/python3 scripts/reference/make_contrastive_fixture.py
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import roberta_reference as rr  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TINY = os.path.join(ROOT, "data", "fixtures", "encoder", "tiny")
OUT = os.path.join(ROOT, "data", "fixtures", "contrastive")

BOS, PAD, EOS, MASK = 0, 1, 2, 63
T = 8
DROPOUT = 0.1
# (name, pooling, temperature, dropout seed, lengths of the anchors, lengths of the positives or None for SimCSE)
CASES = [("simcse", "mean", 0.05, 20240701, [8, 5, 3], None),
         ("pairs", "cls", 0.1, -4242, [6, 8, 4], [7, 3, 8])]

MASK64 = (1 << 64) - 1
GOLDEN_GAMMA = 0x9E3779B97F4A7C15


class SplittableRandom:
    """java.util.SplittableRandom(seed): nextFloat() only."""

    def __init__(self, seed):
        self.seed = seed & MASK64

    def next_float(self):
        self.seed = (self.seed + GOLDEN_GAMMA) & MASK64
        z = ((self.seed ^ (self.seed >> 33)) * 0x62A9D9ED799705F5) & MASK64
        mix32 = (((z ^ (z >> 28)) * 0xCB24D0A5C88C35B3) & MASK64) >> 32
        return (mix32 >> 8) * 2.0 ** -24


def dropout_mask(shape, seed):
    """jgpt's Backprop.dropoutMask: element i (row-major) is 0 when the i-th nextFloat() < p, else 1/(1-p) in float32."""
    random = SplittableRandom(seed)
    p = float(np.float32(DROPOUT))
    keep = np.float32(1) / (np.float32(1) - np.float32(DROPOUT))
    values = [0.0 if random.next_float() < p else keep for _ in range(int(np.prod(shape)))]
    return torch.tensor(values, dtype=torch.float32).view(shape)


def masks(cfg, b, seed):
    """The masks TrainableEncoder draws for dropout seed `seed`: the embeddings' from the seed itself; layer l's from
    s = seed + 1000003·(l + 1): the attention probabilities' [B, heads, T, T] from s, the attention output's from
    s + 1, the feed-forward output's from s + 2."""
    H, heads = cfg["hidden_size"], cfg["num_attention_heads"]
    out = {"embeddings": dropout_mask((b, T, H), seed), "attention": [], "attention_output": [], "output": []}
    for layer in range(cfg["num_hidden_layers"]):
        s = seed + 1_000_003 * (layer + 1)
        out["attention"].append(dropout_mask((b, heads, T, T), s))
        out["attention_output"].append(dropout_mask((b, T, H), s + 1))
        out["output"].append(dropout_mask((b, T, H), s + 2))
    return out


def flat(t):
    """Row-major list of the shortest decimals that read back to the same float32 values."""
    return [float(str(np.float32(v))) for v in t.detach().reshape(-1).tolist()]


def sequences(lengths):
    ids = torch.full((len(lengths), T), PAD, dtype=torch.long)
    for r, n in enumerate(lengths):
        ids[r, 0], ids[r, n - 1] = BOS, EOS
        ids[r, 1:n - 1] = torch.randint(4, MASK, (n - 2,))
    return ids


def run_case(cfg, initial, pooling, temperature, seed, anchor_lengths, positive_lengths):
    anchors = sequences(anchor_lengths)
    # SimCSE: the same sentences again; pairs: other texts
    positives = anchors.clone() if positive_lengths is None else sequences(positive_lengths)
    ids = torch.cat([anchors, positives])
    lengths = anchor_lengths + (anchor_lengths if positive_lengths is None else positive_lengths)
    attention_mask = (torch.arange(T)[None, :] < torch.tensor(lengths)[:, None]).long()
    n = len(anchor_lengths)

    w = {name: t.clone().requires_grad_(True) for name, t in initial.items()}
    hidden = rr.encoder(w, cfg, ids, attention_mask, masks=masks(cfg, 2 * n, seed))
    if pooling == "mean":
        pooled = (hidden * attention_mask[:, :, None]).sum(dim=1) / attention_mask.sum(dim=1, keepdim=True)
    else:
        pooled = hidden[:, 0]
    units = F.normalize(pooled, dim=-1)
    scores = units[:n] @ units[n:].T / temperature
    loss = F.cross_entropy(scores, torch.arange(n))
    loss.backward()
    return {"pooling": pooling, "temperature": temperature, "dropout": DROPOUT, "dropout_seed": seed,
            "batch": 2 * n, "seq_len": T, "inputs": ids.view(-1).tolist(), "lengths": lengths,
            "pooled": flat(pooled), "scores": flat(scores), "loss": float(str(np.float32(loss.item()))),
            "gradients": {name: flat(p.grad) for name, p in w.items()}}


def main():
    torch.manual_seed(20240702)
    with open(os.path.join(TINY, "config.json")) as f:
        cfg = json.load(f)
    initial = {n: t for n, t in rr.read_safetensors(os.path.join(TINY, "model.safetensors")).items()
               if n.startswith("roberta.")}
    step = {name: run_case(cfg, initial, *rest) for name, *rest in CASES}
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "step.json"), "w") as f:
        json.dump(step, f)
    for name, case in step.items():
        print(f"{name}: {case['pooling']} pooling, temperature {case['temperature']}, loss {case['loss']:.6f}")


if __name__ == "__main__":
    main()
