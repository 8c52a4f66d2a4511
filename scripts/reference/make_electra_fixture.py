#!/usr/bin/python3
"""PyTorch reference fixture for jgpt's replaced-token detection (ELECTRA's generator and discriminator sharing their
embeddings, Hugging Face's ElectraForMaskedLM and ElectraForPreTraining) and for fine-tuning the discriminator
(ElectraForSequenceClassification), independent of jgpt.

The model is electra_reference.py's, written by hand after Hugging Face's modeling_electra; dropout is off. A tiny
random pair: vocab 64, embeddings 12 wide, discriminator 16 wide (2 layers, 2 heads, feed-forward 64), generator half
as wide (8, 1 head, feed-forward 32; width ratio 0.5), so that both project their embeddings; max positions 8, pad 1.
One batch of 2 sequences of 8 tokens, the second padded from length 5.

Writes data/fixtures/electra/:
- tiny/: the discriminator, config.json (ElectraForPreTraining) and model.safetensors (electra.*,
  discriminator_predictions.*); tiny/generator/: the generator, config.json (ElectraForMaskedLM) and model.safetensors
  (electra.*, generator_predictions.*, generator_lm_head.bias; the tied generator_lm_head.weight left out, as
  save_pretrained leaves it out). Both hold the same electra.embeddings.* tensors, the shared ones.
- step.json: the batch and two cases, each with its losses, the discriminator's logits, and the gradient of every
  parameter under Hugging Face's names, flattened row-major in Hugging Face's layout: "shared" (electra.embeddings.*,
  the sum of both models' gradients), "generator" and "discriminator" (each model's own tensors).
  - "rtd": the generator's input has <mask> at some chosen positions and the original token at others (ELECTRA's 15%
    kept); its samples are given (the same tokens for Java and Python; one equals the original, which the
    discriminator must label original); loss = generator cross-entropy + 50 × discriminator BCE.
  - "rtd_random": no generator; chosen positions replaced by given tokens (one equal to the original); loss = BCE.
- tiny-classifier/: the discriminator's electra.* tensors with a classifier.* head of 2 labels (drawn after everything
  above, so that step.json stays as it was), config.json (ElectraForSequenceClassification, id2label ham/spam).
- classify.json: one fine-tuning step of tiny-classifier on 2 rows framed as RoBERTa frames them, of unequal length:
  a pair <s> a </s></s> b </s> of 8 tokens and a single text <s> a </s> of 5, right-padded; their texts' ids, the
  logits [2·2], the loss (mean cross-entropy) and the gradient of every parameter (electra.*, classifier.*).
Floats are written as the shortest decimal that reads back to the same float32.
Run with Debian's PyTorch (1.13, CPU; deterministic):  /usr/bin/python3 scripts/reference/make_electra_fixture.py
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import electra_reference as er  # noqa: E402
import roberta_reference as rr  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "data", "fixtures", "electra")

BOS, PAD, EOS, MASK = 0, 1, 2, 63
B, T = 2, 8
LENGTHS = [8, 5]
WIDTH_RATIO = 0.5
LAMBDA = 50.0
CHOSEN = [(0, 2), (0, 4), (0, 5), (1, 1), (1, 3)]  # (row, position) the masking chose: labelled for the generator
KEPT = [(0, 4), (1, 1)]                             # chosen but left as they are in the generator's input
SAMPLE_EQUALS_ORIGINAL = (0, 2)                      # the generator "draws" the original token here
RANDOM_EQUALS_ORIGINAL = (1, 3)                      # rtd-random "draws" the original token here
SIZES = dict(vocab_size=64, embedding_size=12, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
             intermediate_size=64, max_position_embeddings=T, pad_token_id=PAD)
ID2LABEL = {"0": "ham", "1": "spam"}
CLASSIFY_TEXT_LENGTHS = [(3, 1), (3,)]  # row 0 a pair, 3 + 1 tokens (8 framed); row 1 one text of 3 (5 framed)
CLASSIFY_LABELS = [1, 0]


def flat(t):
    """Row-major list of the shortest decimals that read back to the same float32 values."""
    return [float(str(np.float32(v))) for v in t.detach().reshape(-1).tolist()]


def scalar(t):
    return float(str(np.float32(t.item())))


def replacements(original, equal_at, rng):
    """A token per chosen position, different from the original there except at `equal_at`."""
    out = original.clone()
    for r, t in CHOSEN:
        if (r, t) == equal_at:
            continue
        token = original[r, t]
        while token == original[r, t]:
            token = torch.randint(4, MASK, (1,), generator=rng)[0]
        out[r, t] = token
    return out


def main():
    torch.manual_seed(20240901)
    disc_cfg = er.electra_config("ElectraForPreTraining", **SIZES)
    gen_cfg = er.generator_config(disc_cfg, WIDTH_RATIO)
    disc_shapes = er.parameter_shapes(disc_cfg, "discriminator")
    gen_shapes = er.parameter_shapes(gen_cfg, "generator")
    shared = list(er.embedding_shapes(disc_cfg))
    disc_own = [n for n in disc_shapes if n not in shared]
    gen_own = [n for n in gen_shapes if n not in shared]
    # one draw for the shared tensors, then each model's own (the names of the two models' electra.* overlap)
    initial_shared = rr.init_fixture({n: disc_shapes[n] for n in shared})
    initial_gen = rr.init_fixture({n: gen_shapes[n] for n in gen_own})
    initial_disc = rr.init_fixture({n: disc_shapes[n] for n in disc_own})

    original = torch.full((B, T), PAD, dtype=torch.long)
    for r, n in enumerate(LENGTHS):
        original[r, 0], original[r, n - 1] = BOS, EOS
        original[r, 1:n - 1] = torch.randint(4, MASK, (n - 2,))
    masked = original.clone()
    labels = torch.full((B, T), -100, dtype=torch.long)
    for r, t in CHOSEN:
        labels[r, t] = original[r, t]
        if (r, t) not in KEPT:
            masked[r, t] = MASK
    attention_mask = (torch.arange(T)[None, :] < torch.tensor(LENGTHS)[:, None]).long()
    rng = torch.Generator().manual_seed(7)
    sampled = replacements(original, SAMPLE_EQUALS_ORIGINAL, rng)
    randomised = replacements(original, RANDOM_EQUALS_ORIGINAL, rng)
    V = SIZES["vocab_size"]

    def run(with_generator, corrupted):
        s = {n: initial_shared[n].clone().requires_grad_(True) for n in shared}
        g = {n: initial_gen[n].clone().requires_grad_(True) for n in gen_own}
        d = {n: initial_disc[n].clone().requires_grad_(True) for n in disc_own}
        replaced = (corrupted != original).long()
        disc_logits = er.discriminator_logits({**s, **d}, disc_cfg, er.encoder({**s, **d}, disc_cfg, corrupted, attention_mask))
        disc_loss = er.discriminator_loss(disc_logits, replaced, attention_mask)
        out = {"discriminator_inputs": corrupted.view(-1).tolist(), "replaced": replaced.view(-1).tolist()}
        if with_generator:
            gen_logits = er.generator_logits({**s, **g}, gen_cfg, er.encoder({**s, **g}, gen_cfg, masked, attention_mask))
            gen_loss = F.cross_entropy(gen_logits.view(-1, V), labels.view(-1), ignore_index=-100)
            loss = gen_loss + LAMBDA * disc_loss
            out["generator_loss"] = scalar(gen_loss)
        else:
            loss = disc_loss
        loss.backward()
        out.update({"discriminator_loss": scalar(disc_loss), "loss": scalar(loss), "discriminator_logits": flat(disc_logits),
                    "gradients": {"shared": {n: flat(p.grad) for n, p in s.items()},
                                  "discriminator": {n: flat(p.grad) for n, p in d.items()}}})
        if with_generator:
            out["gradients"]["generator"] = {n: flat(p.grad) for n, p in g.items()}
        return out

    step = {"discriminator_config": disc_cfg, "generator_config": gen_cfg, "generator_width_ratio": WIDTH_RATIO,
            "discriminator_weight": LAMBDA, "batch": B, "seq_len": T, "original": original.view(-1).tolist(),
            "lengths": LENGTHS, "masked": masked.view(-1).tolist(), "labels": labels.view(-1).tolist(),
            "rtd": run(True, sampled), "rtd_random": run(False, randomised)}

    tiny = os.path.join(OUT, "tiny")
    for folder, cfg, tensors in ((tiny, disc_cfg, {**initial_shared, **initial_disc}),
                                 (os.path.join(tiny, er.GENERATOR_FOLDER), gen_cfg, {**initial_shared, **initial_gen})):
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "config.json"), "w") as f:
            json.dump(cfg, f, indent=2)
            f.write("\n")
        rr.write_safetensors(os.path.join(folder, "model.safetensors"), tensors)
    with open(os.path.join(OUT, "step.json"), "w") as f:
        json.dump(step, f)
    print(f"wrote {os.path.relpath(OUT, ROOT)}: original {original.tolist()}")
    print(f"rtd: generator {step['rtd']['generator_loss']:.6f} + {LAMBDA} x discriminator "
          f"{step['rtd']['discriminator_loss']:.6f} = {step['rtd']['loss']:.6f}; "
          f"rtd_random: {step['rtd_random']['loss']:.6f}")
    classify(initial_shared, {n: initial_disc[n] for n in disc_own if n.startswith("electra.")})


def frame(texts):
    """RoBERTa's framing, as jgpt's RobertaInput: <s> a </s>, or <s> a </s></s> b </s>."""
    framed = [BOS] + texts[0] + [EOS]
    if len(texts) == 2:
        framed += [EOS] + texts[1] + [EOS]
    return framed


def classify(initial_shared, initial_electra):
    """tiny-classifier/ and classify.json: one step of ElectraForSequenceClassification from the discriminator's body."""
    cfg = er.electra_config("ElectraForSequenceClassification", **SIZES, id2label=ID2LABEL,
                            label2id={v: int(k) for k, v in ID2LABEL.items()})
    head = {n: s for n, s in er.parameter_shapes(cfg, "classifier").items() if n.startswith("classifier.")}
    initial = {**initial_shared, **initial_electra, **rr.init_fixture(head)}
    texts = [[torch.randint(4, MASK, (n,)).tolist() for n in lengths] for lengths in CLASSIFY_TEXT_LENGTHS]
    rows = [frame(t) for t in texts]
    lengths = [len(r) for r in rows]
    ids = torch.full((len(rows), T), PAD, dtype=torch.long)
    for r, row in enumerate(rows):
        ids[r, :len(row)] = torch.tensor(row)
    attention_mask = (torch.arange(T)[None, :] < torch.tensor(lengths)[:, None]).long()

    w = {n: p.clone().requires_grad_(True) for n, p in initial.items()}
    logits = er.classification_logits(w, cfg, er.encoder(w, cfg, ids, attention_mask))
    loss = F.cross_entropy(logits, torch.tensor(CLASSIFY_LABELS))
    loss.backward()
    case = {"config": cfg, "batch": len(rows), "seq_len": T, "texts": texts, "inputs": ids.view(-1).tolist(),
            "lengths": lengths, "class_labels": CLASSIFY_LABELS, "logits": flat(logits), "loss": scalar(loss),
            "gradients": {n: flat(p.grad) for n, p in w.items()}}

    folder = os.path.join(OUT, "tiny-classifier")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    rr.write_safetensors(os.path.join(folder, "model.safetensors"), initial)
    with open(os.path.join(OUT, "classify.json"), "w") as f:
        json.dump(case, f)
    print(f"classify: inputs {ids.tolist()}, loss {case['loss']:.6f}")


if __name__ == "__main__":
    main()
