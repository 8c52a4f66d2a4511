#!/usr/bin/python3
"""PyTorch reference fixture for jgpt's translation language modelling (tlm, XLM's TLM in RoBERTa's layout): one
training step on fixed masked inputs, independent of jgpt.

The model is roberta_reference.py's RoBERTa (RobertaForMaskedLM) with two token types, one per language. A tiny
random model (vocab 64, hidden 16, 2 layers, 2 heads, inner 64, max positions 14, type vocab 2) on a batch of 3 rows
of 12 tokens, each a sentence and its translation framed <s> a </s></s> b </s>, then <pad>. The first segment is
<s> a </s>, the second </s> b </s>. Each segment has its language's token type (rows 0 and 1 language 0 then 1, row
2 the other way round), and positions counting from each segment's start (2, 3, ... as RoBERTa's, restarting at the
second segment's </s>); padding has type 0 and position 1 (pad). Masked LM over both segments at fixed positions
(<mask>, one random replacement, tokens kept), dropout off.

Writes data/fixtures/tlm/:
- tiny/: config.json (RobertaForMaskedLM, type_vocab_size 2, jgpt_languages ["en", "fr"]) and model.safetensors
  (roberta.*, lm_head.* without the tied lm_head.decoder.*), written by hand, F32, names sorted;
- step.json: the segments and languages of each row, the framed rows before and after corruption, lengths,
  token_type_ids, position_ids, mlm_labels, the encoder's final hidden states, the loss, and the gradient of every
  parameter under Hugging Face's names, flattened row-major in Hugging Face's layout.
Floats are written as the shortest decimal that reads back to the same float32.
Run with Debian's PyTorch (1.13, CPU; deterministic):  /usr/bin/python3 scripts/reference/make_tlm_fixture.py
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
OUT = os.path.join(ROOT, "data", "fixtures", "tlm")

BOS, PAD, EOS, UNK, MASK = 0, 1, 2, 3, 63
T = 12
# (tokens of a, tokens of b, language of a, language of b) per row
ROWS = [(5, 3, 0, 1), (2, 4, 0, 1), (3, 1, 1, 0)]
MASKED = [(0, 2), (0, 9), (1, 1), (1, 6), (2, 6)]  # (row, position) replaced by <mask>, in both segments
REPLACED = [(0, 4)]                                # replaced by another ordinary token
KEPT = [(1, 7), (2, 2)]                            # labelled but left as they are
SIZES = dict(vocab_size=64, hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
             max_position_embeddings=T + 2, type_vocab_size=2)
LANGUAGES = ["en", "fr"]


def flat(t):
    """Row-major list of the shortest decimals that read back to the same float32 values."""
    return [float(str(np.float32(v))) for v in t.detach().reshape(-1).tolist()]


def layout(a, b, language_a, language_b):
    """Token types and positions of one row, written out position by position."""
    types, positions = [], []
    for t in range(T):
        if t < a + 2:                  # <s> a </s>
            types.append(language_a)
            positions.append(PAD + 1 + t)
        elif t < a + b + 4:            # </s> b </s>
            types.append(language_b)
            positions.append(PAD + 1 + t - (a + 2))
        else:                          # padding
            types.append(0)
            positions.append(PAD)
    return types, positions


def main():
    torch.manual_seed(20240801)
    cfg = rr.roberta_config("RobertaForMaskedLM", **SIZES, jgpt_languages=LANGUAGES)
    shapes = rr.parameter_shapes(cfg, heads=("lm_head",))
    initial = rr.init_fixture(shapes)

    segments, original, types, positions, lengths = [], [], [], [], []
    for a, b, language_a, language_b in ROWS:
        first = torch.randint(4, MASK, (a,)).tolist()
        second = torch.randint(4, MASK, (b,)).tolist()
        row = [BOS] + first + [EOS, EOS] + second + [EOS]
        lengths.append(len(row))
        original.append(row + [PAD] * (T - len(row)))
        segments.append({"first": first, "second": second, "languages": [language_a, language_b]})
        row_types, row_positions = layout(a, b, language_a, language_b)
        types.append(row_types)
        positions.append(row_positions)
    original = torch.tensor(original)
    ids = original.clone()
    labels = torch.full((len(ROWS), T), -100, dtype=torch.long)
    for r, t in MASKED + REPLACED + KEPT:
        labels[r, t] = original[r, t]
    for r, t in MASKED:
        ids[r, t] = MASK
    for r, t in REPLACED:
        ids[r, t] = 4 + (original[r, t] - 4 + 17) % (MASK - 4)
    types, positions = torch.tensor(types), torch.tensor(positions)
    attention_mask = (torch.arange(T)[None, :] < torch.tensor(lengths)[:, None]).long()

    params = {n: initial[n].clone().requires_grad_(True) for n in shapes}
    hidden = rr.encoder(params, cfg, ids, attention_mask, token_type_ids=types, explicit_position_ids=positions)
    logits = rr.mlm_logits(params, cfg, hidden)
    loss = F.cross_entropy(logits.view(-1, cfg["vocab_size"]), labels.view(-1), ignore_index=-100)
    loss.backward()

    step = {
        "config": cfg, "batch": len(ROWS), "seq_len": T, "segments": segments,
        "original": original.view(-1).tolist(), "inputs": ids.view(-1).tolist(), "lengths": lengths,
        "token_type_ids": types.view(-1).tolist(), "position_ids": positions.view(-1).tolist(),
        "mlm_labels": labels.view(-1).tolist(), "hidden": flat(hidden), "loss": float(str(np.float32(loss.item()))),
        "gradients": {n: flat(p.grad) for n, p in params.items()},
    }
    path = os.path.join(OUT, "tiny")
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    rr.write_safetensors(os.path.join(path, "model.safetensors"), initial)
    with open(os.path.join(OUT, "step.json"), "w") as f:
        json.dump(step, f)
    print(f"wrote {os.path.relpath(OUT, ROOT)}: inputs {ids.tolist()}")
    print(f"tlm loss {step['loss']:.6f}")


if __name__ == "__main__":
    main()
