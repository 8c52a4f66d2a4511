#!/usr/bin/python3
"""Checks RoBERTa folders written by jgpt (config.json + model.safetensors) against PyTorch, as Hugging Face would
load them: by tensor names alone, into roberta_reference.py's hand-written RobertaForMaskedLM or
RobertaForSequenceClassification (chosen by config.json's "architectures").

For each DIR: asserts config.json has the RoBERTa keys (model_type "roberta"); reports missing and unexpected tensor
names and wrong shapes (lm_head.decoder.* may be absent, being tied to the word embeddings; sop_classifier.* is
allowed as an extra); runs a forward pass on a fixed token sequence, <s> then ids 4, 5, ... (stepping through the
vocabulary) then </s>, of --length tokens (default min(8, max_position_embeddings - 2)), or on --ids; prints the
logits' shape and a few values. With --logits FILE (a JSON list, nested or flat, written by jgpt for the same
sequence: MLM logits [T, V] or classification logits [labels]) compares them; --save-logits FILE writes PyTorch's.
Exits non-zero on any mismatch.

Usage:  /usr/bin/python3 scripts/reference/check_encoder.py DIR [DIR...] [--ids "0 5 9 2"] [--logits FILE ...]
(one --logits per DIR, in order).  Example:
    /usr/bin/python3 scripts/reference/check_encoder.py data/fixtures/encoder/tiny data/fixtures/encoder/tiny-classifier
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import roberta_reference as rr  # noqa: E402

BOS, EOS = 0, 2
ALLOWED_MISSING = ("lm_head.decoder.",)
ALLOWED_EXTRA = ("sop_classifier.", "lm_head.decoder.")


def fixed_ids(cfg, length):
    v = cfg["vocab_size"]
    return [BOS] + [4 + (7 * i) % (v - 5) for i in range(length - 2)] + [EOS]


def flatten(x):
    return [z for y in x for z in flatten(y)] if isinstance(x, list) else [float(x)]


def check(folder, ids_arg, length, logits_file, save_file, tol):
    ok = True
    cfg = json.load(open(os.path.join(folder, "config.json")))
    missing_keys = [k for k in rr.CONFIG_KEYS if k not in cfg]
    if missing_keys or cfg.get("model_type") != "roberta":
        print(f"  config.json: missing keys {missing_keys}, model_type {cfg.get('model_type')!r}")
        return False
    arch = cfg["architectures"][0]
    print(f"  config.json: RoBERTa keys present, {arch}, hidden {cfg['hidden_size']}, layers "
          f"{cfg['num_hidden_layers']}, heads {cfg['num_attention_heads']}, vocab {cfg['vocab_size']}")
    if arch == "RobertaForMaskedLM":
        heads = ("lm_head",)
    elif arch == "RobertaForSequenceClassification":
        heads = ("classifier",)
    else:
        print(f"  unknown architecture {arch}")
        return False
    w = rr.read_safetensors(os.path.join(folder, "model.safetensors"))
    expected = rr.parameter_shapes(cfg, heads)
    missing = [n for n in expected if n not in w and not n.startswith(ALLOWED_MISSING)]
    extra = [n for n in w if n not in expected and not n.startswith(ALLOWED_EXTRA)]
    allowed = [n for n in w if n not in expected and n.startswith(ALLOWED_EXTRA)]
    shapes = [f"{n} {list(w[n].shape)} != {list(s)}" for n, s in expected.items() if n in w and w[n].shape != s]
    print(f"  tensors: {len(w)} read, {len(expected)} expected; missing {missing or 'none'}; "
          f"unexpected {extra or 'none'}; wrong shapes {shapes or 'none'}"
          + (f"; allowed extras {allowed}" if allowed else ""))
    if missing or shapes or extra:
        return False
    if "lm_head.decoder.weight" in w and not torch.equal(w["lm_head.decoder.weight"],
                                                         w["roberta.embeddings.word_embeddings.weight"]):
        print("  note: lm_head.decoder.weight differs from the word embeddings; Hugging Face ties them (ignored)")
    w.pop("lm_head.decoder.weight", None)
    w.pop("lm_head.decoder.bias", None)

    ids = [int(i) for i in ids_arg.split()] if ids_arg else fixed_ids(cfg, length or min(8, cfg["max_position_embeddings"] - 2))
    x = torch.tensor([ids])
    with torch.no_grad():
        hidden = rr.encoder(w, cfg, x, torch.ones_like(x))
        if heads == ("lm_head",):
            logits = rr.mlm_logits(w, cfg, hidden)[0]
        else:
            logits = rr.classification_logits(w, cfg, hidden, "classifier")[0]
    print(f"  forward on {ids}: logits {list(logits.shape)}, first {[round(v, 5) for v in logits.reshape(-1)[:4].tolist()]}")
    if save_file:
        with open(save_file, "w") as f:
            json.dump(logits.tolist(), f)
        print(f"  wrote PyTorch's logits to {save_file}")
    if logits_file:
        theirs = torch.tensor(flatten(json.load(open(logits_file))))
        mine = logits.reshape(-1)
        if theirs.numel() != mine.numel():
            print(f"  {logits_file}: {theirs.numel()} values, expected {mine.numel()}")
            return False
        diff = (theirs - mine).abs().max().item()
        bound = tol * max(1.0, mine.abs().max().item())
        ok = diff <= bound
        print(f"  {logits_file}: max |torch - jgpt| = {diff:.3e} ({'ok' if ok else 'MISMATCH'}, bound {bound:.1e})")
    return ok


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dirs", nargs="+")
    parser.add_argument("--ids", help="token ids to run, space-separated (default: the fixed sequence)")
    parser.add_argument("--length", type=int, help="length of the fixed sequence")
    parser.add_argument("--logits", action="append", default=[], help="jgpt's logits (JSON), one per DIR in order")
    parser.add_argument("--save-logits", action="append", default=[], help="write PyTorch's logits, one per DIR")
    parser.add_argument("--tol", type=float, default=1e-4, help="max abs difference, relative to max(1, max |logit|)")
    args = parser.parse_args()
    if len(args.logits) > len(args.dirs) or len(args.save_logits) > len(args.dirs):
        parser.error("at most one --logits and one --save-logits per DIR")
    failed = []
    for i, folder in enumerate(args.dirs):
        print(folder)
        if not check(folder, args.ids, args.length, args.logits[i] if i < len(args.logits) else None,
                     args.save_logits[i] if i < len(args.save_logits) else None, args.tol):
            failed.append(folder)
    print("FAILED: " + " ".join(failed) if failed else f"all {len(args.dirs)} folder(s) ok")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
