#!/usr/bin/python3
"""PyTorch speed anchor for jgpt's benchmarks: GPT-2 124M shapes, random weights, float32, CPU.

    OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 bench/python/torch_gpt2_speed.py --mode decode --prompt 16 --tokens 128
    OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 bench/python/torch_gpt2_speed.py --mode prefill --prompt 512

decode: prefill the prompt, then time --tokens greedy steps of one token each with a KV cache.
prefill: time one forward pass over the prompt (best of --repeats), logits for its last position only.
Prints one JSON line with tokens_per_second. The forward follows Hugging Face's modeling_gpt2 (Conv1D = addmm).
"""
import argparse
import json
import math
import time

import torch
import torch.nn.functional as F

C, H, L, V, P = 768, 12, 12, 50257, 1024


def random_weights(gen):
    def normal(*shape, std=0.02):
        return std * torch.randn(*shape, generator=gen)

    layers = []
    for _ in range(L):
        layers.append(dict(
            ln1=(torch.ones(C), torch.zeros(C)), attn=(normal(C, 3 * C), torch.zeros(3 * C)),
            proj=(normal(C, C, std=0.02 / math.sqrt(2 * L)), torch.zeros(C)), ln2=(torch.ones(C), torch.zeros(C)),
            fc=(normal(C, 4 * C), torch.zeros(4 * C)), fcproj=(normal(4 * C, C, std=0.02 / math.sqrt(2 * L)), torch.zeros(C))))
    return dict(wte=normal(V, C), wpe=normal(P, C), layers=layers, lnf=(torch.ones(C), torch.zeros(C)))


def conv1d(x, wb):
    return torch.addmm(wb[1], x, wb[0])


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def forward(w, ids, start, cache):
    """Logits [1, V] of the last of tokens ids at positions start..start+T-1, appending their keys and values to
    cache. Only the last position goes through the LM head, as in Hugging Face's generate (logits_to_keep=1) and in
    jgpt's prefill and decode: the same work on both sides."""
    T, D = len(ids), C // H
    x = w["wte"][ids] + w["wpe"][start:start + T]
    for i, l in enumerate(w["layers"]):
        a = F.layer_norm(x, (C,), *l["ln1"], 1e-5)
        q, k, v = conv1d(a, l["attn"]).split(C, dim=-1)
        q, k, v = (t.view(T, H, D).transpose(0, 1) for t in (q, k, v))
        if cache[i] is not None:
            k, v = torch.cat([cache[i][0], k], dim=1), torch.cat([cache[i][1], v], dim=1)
        cache[i] = (k, v)
        att = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(D)
        if T > 1:
            S = k.size(1)
            mask = torch.ones(T, S, dtype=torch.bool).tril(diagonal=S - T)
            att = att.masked_fill(~mask, float("-inf"))
        y = torch.matmul(torch.softmax(att, dim=-1), v).transpose(0, 1).reshape(T, C)
        x = x + conv1d(y, l["proj"])
        m = gelu_new(conv1d(F.layer_norm(x, (C,), *l["ln2"], 1e-5), l["fc"]))
        x = x + conv1d(m, l["fcproj"])
    x = F.layer_norm(x[-1:], (C,), *w["lnf"], 1e-5)
    return torch.matmul(x, w["wte"].t())


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mode", choices=["decode", "prefill"], required=True)
    p.add_argument("--prompt", type=int, default=16, help="prompt tokens")
    p.add_argument("--tokens", type=int, default=128, help="tokens to generate (decode)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3, help="prefill passes timed; the best counts")
    args = p.parse_args()
    if args.prompt + (args.tokens if args.mode == "decode" else 0) > P:
        p.error(f"prompt + tokens must fit the {P} positions")
    torch.set_num_threads(args.threads)
    gen = torch.Generator().manual_seed(0)
    w = random_weights(gen)
    prompt = torch.randint(0, V, (args.prompt,), generator=gen)
    with torch.no_grad():
        forward(w, prompt[:8], 0, [None] * L)  # warm-up
        if args.mode == "prefill":
            best = math.inf
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                forward(w, prompt, 0, [None] * L)
                best = min(best, time.perf_counter() - t0)
            seconds, tokens = best, args.prompt
        else:
            cache = [None] * L
            next_id = int(torch.argmax(forward(w, prompt, 0, cache)[-1]))
            t0 = time.perf_counter()
            for step in range(args.tokens):
                logits = forward(w, torch.tensor([next_id]), args.prompt + step, cache)
                next_id = int(torch.argmax(logits[-1]))
            seconds, tokens = time.perf_counter() - t0, args.tokens
    print(json.dumps({"engine": f"torch {torch.__version__}", "model": "gpt2-124M random f32", "mode": args.mode,
                      "prompt": args.prompt, "tokens": tokens, "threads": args.threads, "seconds": round(seconds, 4),
                      "tokens_per_second": round(tokens / seconds, 2)}))


if __name__ == "__main__":
    main()
