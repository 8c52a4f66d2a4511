#!/usr/bin/python3
"""PyTorch reference fixture for jgpt's RoBERTa encoder (Hugging Face's RobertaForMaskedLM and
RobertaForSequenceClassification, plus jgpt's sentence-order head), independent of jgpt.

The model is roberta_reference.py's, written by hand after Hugging Face's modeling_roberta (transformers is not
installed here); dropout is off everywhere. A tiny random model (vocab 64, hidden 16, 2 layers, 2 heads, inner 64,
max positions 10) on a batch of 2 sequences of 8 tokens, the second padded from length 5.

Writes data/fixtures/encoder/:
- tiny/: config.json (RobertaForMaskedLM) and model.safetensors (roberta.*, lm_head.* without the tied
  lm_head.decoder.*, sop_classifier.*), written by hand, F32, names sorted;
- tiny-classifier/: config.json (RobertaForSequenceClassification, id2label ham/spam) and model.safetensors
  (the same roberta.* plus classifier.*);
- step.json: the batch, the encoder's final hidden states, and three cases, each with its logits, loss(es) and the
  gradient of every parameter it uses under Hugging Face's names, flattened row-major in Hugging Face's layout:
  "mlm" (masked LM), "mlm_sop" (masked LM + sentence order), "classify" (sequence classification).
Floats are written as the shortest decimal that reads back to the same float32.
Run with Debian's PyTorch (1.13, CPU; deterministic):  /usr/bin/python3 scripts/reference/make_encoder_fixture.py
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
OUT = os.path.join(ROOT, "data", "fixtures", "encoder")

BOS, PAD, EOS, UNK, MASK = 0, 1, 2, 3, 63
B, T = 2, 8
LENGTHS = [8, 5]
MASKED = [(0, 2), (0, 5)]                          # (row, position) replaced by <mask>
LABELLED = [(0, 2), (0, 4), (0, 5), (1, 1), (1, 3)]  # (row, position) whose original id is an MLM label
SOP_LABELS = [1, 0]
CLASS_LABELS = [0, 1]
SIZES = dict(vocab_size=64, hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
             max_position_embeddings=T + 2)
ID2LABEL = {"0": "ham", "1": "spam"}


def flat(t):
    """Row-major list of the shortest decimals that read back to the same float32 values."""
    return [float(str(np.float32(v))) for v in t.detach().reshape(-1).tolist()]


def scalar(t):
    return float(str(np.float32(t.item())))


def run_case(initial, names, loss_fn):
    """Fresh leaf copies of `names`, loss_fn(params) -> (loss, extras); returns extras plus the loss and gradients."""
    params = {n: initial[n].clone().requires_grad_(True) for n in names}
    loss, extras = loss_fn(params)
    loss.backward()
    out = {k: (flat(v) if v.dim() > 0 else scalar(v)) for k, v in extras.items()}
    out["loss"] = scalar(loss)
    out["gradients"] = {n: flat(p.grad) for n, p in params.items()}
    return out


def main():
    torch.manual_seed(20240601)
    mlm_cfg = rr.roberta_config("RobertaForMaskedLM", **SIZES)
    cls_cfg = rr.roberta_config("RobertaForSequenceClassification", **SIZES, id2label=ID2LABEL,
                                label2id={v: int(k) for k, v in ID2LABEL.items()})
    shapes = rr.parameter_shapes(mlm_cfg, heads=("lm_head", "sop_classifier"))
    shapes.update(rr.parameter_shapes(cls_cfg, heads=("classifier",)))
    initial = rr.init_fixture(shapes)

    original = torch.full((B, T), PAD, dtype=torch.long)
    for r, n in enumerate(LENGTHS):
        original[r, 0], original[r, n - 1] = BOS, EOS
        original[r, 1:n - 1] = torch.randint(4, MASK, (n - 2,))
    ids = original.clone()
    for r, t in MASKED:
        ids[r, t] = MASK
    labels = torch.full((B, T), -100, dtype=torch.long)
    for r, t in LABELLED:
        labels[r, t] = original[r, t]
    attention_mask = (torch.arange(T)[None, :] < torch.tensor(LENGTHS)[:, None]).long()
    sop_labels, class_labels = torch.tensor(SOP_LABELS), torch.tensor(CLASS_LABELS)

    roberta = [n for n in shapes if n.startswith("roberta.")]
    lm = [n for n in shapes if n.startswith("lm_head.")]
    sop = [n for n in shapes if n.startswith("sop_classifier.")]
    cls = [n for n in shapes if n.startswith("classifier.")]
    V = SIZES["vocab_size"]

    def mlm(w):
        logits = rr.mlm_logits(w, mlm_cfg, rr.encoder(w, mlm_cfg, ids, attention_mask))
        return F.cross_entropy(logits.view(-1, V), labels.view(-1), ignore_index=-100), {"logits": logits}

    def mlm_sop(w):
        hidden = rr.encoder(w, mlm_cfg, ids, attention_mask)
        mlm_loss = F.cross_entropy(rr.mlm_logits(w, mlm_cfg, hidden).view(-1, V), labels.view(-1), ignore_index=-100)
        sop_logits = rr.classification_logits(w, mlm_cfg, hidden, "sop_classifier")
        sop_loss = F.cross_entropy(sop_logits, sop_labels)
        return mlm_loss + sop_loss, {"mlm_loss": mlm_loss, "sop_loss": sop_loss, "sop_logits": sop_logits}

    def classify(w):
        logits = rr.classification_logits(w, cls_cfg, rr.encoder(w, cls_cfg, ids, attention_mask), "classifier")
        return F.cross_entropy(logits, class_labels), {"logits": logits}

    with torch.no_grad():
        hidden = rr.encoder(initial, mlm_cfg, ids, attention_mask)
    step = {
        "config": mlm_cfg, "batch": B, "seq_len": T,
        "inputs": ids.view(-1).tolist(), "lengths": LENGTHS, "mlm_labels": labels.view(-1).tolist(),
        "sop_labels": SOP_LABELS, "class_labels": CLASS_LABELS, "hidden": flat(hidden),
        "mlm": run_case(initial, roberta + lm, mlm),
        "mlm_sop": run_case(initial, roberta + lm + sop, mlm_sop),
        "classify": run_case(initial, roberta + cls, classify),
    }

    for folder, cfg, names in (("tiny", mlm_cfg, roberta + lm + sop), ("tiny-classifier", cls_cfg, roberta + cls)):
        path = os.path.join(OUT, folder)
        os.makedirs(path, exist_ok=True)
        with open(os.path.join(path, "config.json"), "w") as f:
            json.dump(cfg, f, indent=2)
            f.write("\n")
        rr.write_safetensors(os.path.join(path, "model.safetensors"), {n: initial[n] for n in names})
    with open(os.path.join(OUT, "step.json"), "w") as f:
        json.dump(step, f)
    print(f"wrote {os.path.relpath(OUT, ROOT)}: inputs {ids.tolist()}")
    print(f"mlm loss {step['mlm']['loss']:.6f}; mlm_sop {step['mlm_sop']['mlm_loss']:.6f} + "
          f"{step['mlm_sop']['sop_loss']:.6f}; classify {step['classify']['loss']:.6f}")


if __name__ == "__main__":
    main()
