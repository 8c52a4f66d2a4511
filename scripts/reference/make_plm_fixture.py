#!/usr/bin/python3
"""PyTorch reference fixture for jgpt's permutation language model (--objective plm), independent of jgpt.

XLNet's two-stream self-attention written out by hand on roberta_reference.py's RoBERTa body, with absolute learned
positions (no relative attention, no memory), dropout off:
- the content stream h starts from RoBERTa's embeddings of the tokens; the query stream g from
  LayerNorm(mask_emb + position + token type 0) with the same embedding LayerNorm, at every position;
- each layer runs the same weights on both streams: h attends h (q, k, v from h) under the content mask; g's queries
  (from g) attend h's keys and values under the query mask; then output dense, LayerNorm(g + ·), feed-forward,
  LayerNorm, each stream with its own residual;
- the masks follow Hugging Face's DataCollatorForPermutationLanguageModeling: ranks (perm_index) built by its pair
  shuffle (position i and i + T/2 share a draw), -1 for every token not predicted, then
  perm_mask[i, j] = (rank[i] <= rank[j]) & predicted[j] (1: i cannot see j); the content stream's mask is perm_mask
  without its diagonal (a token sees itself), the query stream's is perm_mask, both with padded keys hidden;
- RoBERTa's lm_head on the query stream; the loss is the mean cross-entropy over the predicted positions.

Reads data/fixtures/encoder/tiny (the body and lm_head of make_encoder_fixture.py; vocab 64, hidden 16, 2 layers,
2 heads) and writes data/fixtures/plm/step.json: inputs, lengths, ranks, labels, mask_emb, both masks (1 = visible,
[B, T, T] flattened), the logits at the predicted rows (in row order), the loss and the gradient of every parameter
under its saved name. Floats are the shortest decimals that read back to the same float32.
Run with Debian's PyTorch (CPU; deterministic):  /usr/bin/python3 scripts/reference/make_plm_fixture.py
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import roberta_reference as rr  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TINY = os.path.join(ROOT, "data", "fixtures", "encoder", "tiny")
OUT = os.path.join(ROOT, "data", "fixtures", "plm")

BOS, PAD, EOS = 0, 1, 2
B, T = 2, 8
LENGTHS = [8, 5]
PREDICTED = [(0, 2), (0, 3), (0, 5), (1, 1), (1, 2)]  # (row, position): predicted spans


def flat(t):
    return [float(str(np.float32(v))) for v in t.detach().reshape(-1).tolist()]


def ranks_for(predicted):
    """The collator's perm_index for one sequence, -1 where not predicted."""
    index = torch.arange(T).reshape(-1, T // 2).transpose(0, 1)
    index = index[torch.randperm(T // 2)]
    index = torch.flatten(index.transpose(0, 1))
    return index.masked_fill(~predicted, -1)


def two_stream(w, cfg, ids, content_visible, query_visible):
    """The query stream's final hidden states [B, T, H]."""
    H, heads, eps = cfg["hidden_size"], cfg["num_attention_heads"], cfg["layer_norm_eps"]
    hd = H // heads
    e = "roberta.embeddings."
    pos = F.embedding(rr.position_ids(ids), w[e + "position_embeddings.weight"], padding_idx=PAD)
    typ = F.embedding(torch.zeros_like(ids), w[e + "token_type_embeddings.weight"])
    norm = lambda x: F.layer_norm(x, (H,), w[e + "LayerNorm.weight"], w[e + "LayerNorm.bias"], eps)
    h = norm(F.embedding(ids, w[e + "word_embeddings.weight"], padding_idx=PAD) + pos + typ)
    g = norm(w["mask_emb"].view(1, 1, H) + pos + typ)
    additive = lambda visible: (1.0 - visible[:, None].float()) * torch.finfo(torch.float32).min
    for n in range(cfg["num_hidden_layers"]):
        p = lambda name: w[f"roberta.encoder.layer.{n}.{name}"]
        lin = lambda z, name: F.linear(z, p(name + ".weight"), p(name + ".bias"))
        heads_of = lambda z: z.view(B, T, heads, hd).transpose(1, 2)
        k, v = heads_of(lin(h, "attention.self.key")), heads_of(lin(h, "attention.self.value"))

        def rest(x, q, visible):
            att = ((q @ k.transpose(-1, -2)) / math.sqrt(hd) + additive(visible)).softmax(dim=-1)
            y = lin((att @ v).transpose(1, 2).reshape(B, T, H), "attention.output.dense")
            x = F.layer_norm(x + y, (H,), p("attention.output.LayerNorm.weight"), p("attention.output.LayerNorm.bias"), eps)
            y = lin(F.gelu(lin(x, "intermediate.dense"), approximate="none"), "output.dense")
            return F.layer_norm(x + y, (H,), p("output.LayerNorm.weight"), p("output.LayerNorm.bias"), eps)

        h, g = (rest(h, heads_of(lin(h, "attention.self.query")), content_visible),
                rest(g, heads_of(lin(g, "attention.self.query")), query_visible))
    return g


def main():
    torch.manual_seed(20240617)
    with open(os.path.join(TINY, "config.json")) as f:
        cfg = json.load(f)
    tiny = rr.read_safetensors(os.path.join(TINY, "model.safetensors"))
    names = [n for n in rr.parameter_shapes(cfg, heads=("lm_head",))]
    initial = {n: tiny[n] for n in names}
    initial["mask_emb"] = 0.2 * torch.randn(1, cfg["hidden_size"])
    names.append("mask_emb")

    ids = torch.full((B, T), PAD, dtype=torch.long)
    for r, n in enumerate(LENGTHS):
        ids[r, 0], ids[r, n - 1] = BOS, EOS
        ids[r, 1:n - 1] = torch.randint(4, 63, (n - 2,))
    predicted = torch.zeros(B, T, dtype=torch.bool)
    for r, t in PREDICTED:
        predicted[r, t] = True
    ranks = torch.stack([ranks_for(predicted[r]) for r in range(B)])
    labels = torch.where(predicted, ids, torch.full_like(ids, -100))
    perm_mask = (ranks[:, :, None] <= ranks[:, None, :]) & predicted[:, None, :]
    keys = (torch.arange(T)[None, :] < torch.tensor(LENGTHS)[:, None])[:, None, :]
    eye = torch.eye(T, dtype=torch.bool)[None]
    content_visible = (~perm_mask | eye) & keys
    query_visible = ~perm_mask & keys

    params = {n: initial[n].clone().requires_grad_(True) for n in names}
    logits = rr.mlm_logits(params, cfg, two_stream(params, cfg, ids, content_visible, query_visible))
    loss = F.cross_entropy(logits.view(-1, cfg["vocab_size"]), labels.view(-1), ignore_index=-100)
    loss.backward()
    step = {
        "batch": B, "seq_len": T, "inputs": ids.view(-1).tolist(), "lengths": LENGTHS,
        "ranks": ranks.view(-1).tolist(), "labels": labels.view(-1).tolist(), "mask_emb": flat(initial["mask_emb"]),
        "content_visible": content_visible.view(-1).int().tolist(), "query_visible": query_visible.view(-1).int().tolist(),
        "logits": flat(logits.view(B * T, -1)[predicted.view(-1)]), "loss": float(str(np.float32(loss.item()))),
        "gradients": {n: flat(p.grad) for n, p in params.items()},
    }
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "step.json"), "w") as f:
        json.dump(step, f)
    print(f"wrote {os.path.relpath(OUT, ROOT)}/step.json: ranks {ranks.tolist()}, loss {step['loss']:.6f}")


if __name__ == "__main__":
    main()
