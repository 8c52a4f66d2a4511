#!/usr/bin/env python3
"""PyTorch anchor for jgpt's replaced-token detection: ELECTRA training tokens/s (ELECTRA-small shapes by default) with
AdamW, beside `jgpt bench train --objective rtd`.

The models are scripts/reference/electra_reference.py's hand-written ElectraForMaskedLM (generator) and
ElectraForPreTraining (discriminator), imported through a sys.path insert, sharing electra.embeddings.*, with Hugging
Face's initialisation and dropout 0.1 as in training. ELECTRA-small: discriminator 12 layers × 256, 4 heads,
feed-forward 1024, embeddings 128 (projected), vocabulary 30522 (BERT's, as google/electra-small-*), max positions
512; generator 1/4 as wide (64, 1 head, feed-forward 256). Random full-length sequences; 15% of the positions chosen
(Bernoulli per position, as jgpt's benchmark), 85% of those <mask> in the generator's input; the generator's head runs
on the chosen positions only (gathered first, as ELECTRA's own code and jgpt do); its samples (multinomial over the
softmax, no gradient) fill the chosen positions of the discriminator's input; loss = generator cross-entropy + 50 ×
discriminator BCE over every token; backward, global-norm clipping at 1 and an AdamW step (betas 0.9/0.999, eps 1e-6,
weight decay 0.01 on matrices) per iteration. Prints one JSON line with tokens_per_second (median over the timed
steps; the first step is a warm-up) and peak_rss_mb (ru_maxrss).
Run with Debian's PyTorch using OpenBLAS, both cores, and passive OpenMP waiting:
  apt-get install python3-torch libopenblas0-pthread
  OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 bench/python/torch_electra_rtd_train_speed.py --batch 8 --seq 128 --steps 5
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
import electra_reference as er  # noqa: E402

# discriminator (layers, heads, hidden, feed-forward, embedding size, vocab, max positions)
PRESETS = {"electra-small": (12, 4, 256, 1024, 128, 30522, 512), "tiny": (2, 4, 64, 256, 32, 30522, 512)}
MASK_FRACTION = 0.15
MASKED_SHARE = 0.85
GENERATOR_WIDTH = 0.25
LAMBDA = 50.0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--preset", default="electra-small", choices=PRESETS)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--seq", type=int, default=128)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    layers, heads, hidden, inner, embedding, vocab, positions = PRESETS[args.preset]
    assert args.seq <= positions
    disc_cfg = er.electra_config("ElectraForPreTraining", vocab, embedding, hidden, layers, heads, inner, positions,
                                 pad_token_id=0)
    gen_cfg = er.generator_config(disc_cfg, GENERATOR_WIDTH)
    disc_shapes = er.parameter_shapes(disc_cfg, "discriminator")
    gen_shapes = er.parameter_shapes(gen_cfg, "generator")
    shared = er.init_hf(er.embedding_shapes(disc_cfg), 0)
    disc = {**shared, **er.init_hf({n: s for n, s in disc_shapes.items() if n not in shared}, 0)}
    gen = {**shared, **er.init_hf({n: s for n, s in gen_shapes.items() if n not in shared}, 0)}
    params = {id(p): p.requires_grad_(True) for p in list(disc.values()) + list(gen.values())}.values()  # shared once
    decay = [p for p in params if p.dim() == 2]
    other = [p for p in params if p.dim() < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": other, "weight_decay": 0.0}],
                                  lr=5e-4, betas=(0.9, 0.999), eps=1e-6)
    mask_id = vocab - 1
    times, labelled = [], 0
    for step in range(args.steps + 1):
        original = torch.randint(4, mask_id, (args.batch, args.seq))
        chosen = torch.rand(args.batch, args.seq) < MASK_FRACTION
        masked = torch.where(chosen & (torch.rand(args.batch, args.seq) < MASKED_SHARE), mask_id, original)
        attention_mask = torch.ones_like(original)
        labelled = int(chosen.sum())
        start = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        gen_hidden = er.encoder(gen, gen_cfg, masked, attention_mask, dropout=True)
        gen_logits = er.generator_logits(gen, gen_cfg, gen_hidden[chosen])
        gen_loss = F.cross_entropy(gen_logits, original[chosen])
        corrupted = original.clone()
        corrupted[chosen] = er.sample(gen_logits)
        replaced = (corrupted != original).long()
        disc_logits = er.discriminator_logits(disc, disc_cfg, er.encoder(disc, disc_cfg, corrupted, attention_mask,
                                                                         dropout=True))
        loss = gen_loss + LAMBDA * er.discriminator_loss(disc_logits, replaced, attention_mask)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        if step > 0:  # the first step warms up allocations
            times.append(time.perf_counter() - start)
    seconds = statistics.median(times)
    print(json.dumps({"framework": "pytorch " + torch.__version__, "preset": args.preset, "batch": args.batch,
                      "seq": args.seq, "threads": args.threads, "steps": args.steps,
                      "generator_hidden": gen_cfg["hidden_size"], "labelled_last_step": labelled,
                      "seconds_per_step": round(seconds, 4),
                      "tokens_per_second": round(args.batch * args.seq / seconds, 1),
                      "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}))


if __name__ == "__main__":
    main()
