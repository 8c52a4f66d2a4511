#!/usr/bin/python3
"""Checks ELECTRA folders written by jgpt (train --objective rtd or rtd-random, and finetune of such a model) against
PyTorch, as Hugging Face would load them: by tensor names alone, into electra_reference.py's hand-written
ElectraForPreTraining, ElectraForMaskedLM or ElectraForSequenceClassification (chosen by config.json's
"architectures").

For each DIR, and DIR/generator when there is one: asserts config.json has the keys jgpt writes for ELECTRA
(model_type "electra", embedding_size, ...); reports missing and unexpected tensor names and wrong shapes (the tied
generator_lm_head.weight may be absent, as save_pretrained leaves it out); checks that a generator folder's
electra.embeddings.* equal its discriminator's (ELECTRA's generator and discriminator share them); runs a forward pass
on a fixed token sequence, <s> then ids 4, 5, ... (stepping through the vocabulary) then </s>, of --length tokens
(default min(8, max_position_embeddings)), or on --ids; prints the logits' shape and a few values: the
discriminator's one per token ([T]), the generator's [T, V], the classifier's one per label. With --logits FILE (a JSON list, nested or flat, of
jgpt's logits for the same sequence, one per folder checked, in order) compares them; --save-logits FILE writes
PyTorch's. Exits non-zero on any mismatch.

Usage:  /usr/bin/python3 scripts/reference/check_electra.py DIR [--ids "0 5 9 2"] [--logits FILE ...]
Example (the reference fixture; a jgpt run folder is checked the same way):
    /usr/bin/python3 scripts/reference/check_electra.py data/fixtures/electra/tiny
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import electra_reference as er  # noqa: E402
import roberta_reference as rr  # noqa: E402

BOS, EOS = 0, 2
HEADS = {"ElectraForPreTraining": "discriminator", "ElectraForMaskedLM": "generator",
         "ElectraForSequenceClassification": "classifier"}
LOGITS = {"discriminator": er.discriminator_logits, "generator": er.generator_logits,
          "classifier": er.classification_logits}
ALLOWED_MISSING = ("generator_lm_head.weight",)


def fixed_ids(cfg, length):
    v = cfg["vocab_size"]
    return [BOS] + [4 + (7 * i) % (v - 5) for i in range(length - 2)] + [EOS]


def flatten(x):
    return [z for y in x for z in flatten(y)] if isinstance(x, list) else [float(x)]


def check(folder, ids_arg, length, logits_file, save_file, tol, shared_with=None):
    """Checks one folder; returns (ok, its tensors)."""
    cfg = json.load(open(os.path.join(folder, "config.json")))
    missing_keys = [k for k in er.CONFIG_KEYS if k not in cfg]
    if missing_keys or cfg.get("model_type") != "electra":
        print(f"  config.json: missing keys {missing_keys}, model_type {cfg.get('model_type')!r}")
        return False, {}
    arch = cfg["architectures"][0]
    if arch not in HEADS:
        print(f"  unknown architecture {arch}")
        return False, {}
    head = HEADS[arch]
    print(f"  config.json: ELECTRA keys present, {arch}, embeddings {cfg['embedding_size']}, hidden {cfg['hidden_size']},"
          f" layers {cfg['num_hidden_layers']}, heads {cfg['num_attention_heads']}, vocab {cfg['vocab_size']}")
    w = rr.read_safetensors(os.path.join(folder, "model.safetensors"))
    expected = er.parameter_shapes(cfg, head)
    missing = [n for n in expected if n not in w]
    extra = [n for n in w if n not in expected and n not in ALLOWED_MISSING]
    shapes = [f"{n} {list(w[n].shape)} != {list(s)}" for n, s in expected.items() if n in w and w[n].shape != s]
    print(f"  tensors: {len(w)} read, {len(expected)} expected; missing {missing or 'none'}; "
          f"unexpected {extra or 'none'}; wrong shapes {shapes or 'none'}")
    if missing or shapes or extra:
        return False, w
    ok = True
    if shared_with is not None:
        unequal = [n for n in er.embedding_shapes(cfg) if not torch.equal(w[n], shared_with[n])]
        ok = not unequal
        print(f"  shared embeddings: {'equal to the discriminator' + chr(39) + 's' if ok else 'DIFFER: ' + str(unequal)}")

    ids = [int(i) for i in ids_arg.split()] if ids_arg else fixed_ids(cfg, length or min(8, cfg["max_position_embeddings"]))
    x = torch.tensor([ids])
    with torch.no_grad():
        hidden = er.encoder(w, cfg, x, torch.ones_like(x))
        logits = LOGITS[head](w, cfg, hidden)[0]
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
            return False, w
        diff = (theirs - mine).abs().max().item()
        bound = tol * max(1.0, mine.abs().max().item())
        ok = ok and diff <= bound
        print(f"  {logits_file}: max |torch - jgpt| = {diff:.3e} ({'ok' if diff <= bound else 'MISMATCH'}, bound {bound:.1e})")
    return ok, w


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dirs", nargs="+")
    parser.add_argument("--ids", help="token ids to run, space-separated (default: the fixed sequence)")
    parser.add_argument("--length", type=int, help="length of the fixed sequence")
    parser.add_argument("--logits", action="append", default=[], help="jgpt's logits (JSON), one per folder checked")
    parser.add_argument("--save-logits", action="append", default=[], help="write PyTorch's logits, one per folder")
    parser.add_argument("--tol", type=float, default=1e-4, help="max abs difference, relative to max(1, max |logit|)")
    args = parser.parse_args()
    folders = []
    for d in args.dirs:
        folders.append((d, None))
        if os.path.isfile(os.path.join(d, er.GENERATOR_FOLDER, "config.json")):
            folders.append((os.path.join(d, er.GENERATOR_FOLDER), d))
    if len(args.logits) > len(folders) or len(args.save_logits) > len(folders):
        parser.error(f"at most one --logits and one --save-logits per folder checked ({len(folders)})")
    failed, tensors = [], {}
    for i, (folder, discriminator) in enumerate(folders):
        print(folder)
        ok, tensors[folder] = check(folder, args.ids, args.length, args.logits[i] if i < len(args.logits) else None,
                                    args.save_logits[i] if i < len(args.save_logits) else None, args.tol,
                                    tensors.get(discriminator) if discriminator else None)
        if not ok:
            failed.append(folder)
    print("FAILED: " + " ".join(failed) if failed else f"all {len(folders)} folder(s) ok")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
