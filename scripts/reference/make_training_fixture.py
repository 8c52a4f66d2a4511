#!/usr/bin/env python3
"""One GPT-2 training step in PyTorch, independent of jgpt: the reference for jgpt's backward passes and AdamW.

Writes data/fixtures/training/step.json: a tiny config, the initial parameters (Hugging Face names, Conv1D [in, out]
layout, tied LM head), a batch of inputs and targets, the loss, every gradient, the global gradient norm, and the
parameters after one clipped AdamW step. Run with Debian's PyTorch:  /usr/bin/python3 scripts/reference/make_training_fixture.py
"""
import json
import math
import os

import torch
import torch.nn.functional as F

torch.manual_seed(1234)
CONFIG = dict(vocab_size=64, n_positions=16, n_embd=16, n_layer=2, n_head=2, n_inner=None, layer_norm_epsilon=1e-5,
              activation_function="gelu_new", scale_attn_weights=True, scale_attn_by_inverse_layer_idx=False,
              bos_token_id=63, eos_token_id=63, model_type="gpt2")
B, T = 2, 8
LR, BETAS, EPS, WEIGHT_DECAY, CLIP = 1e-3, (0.9, 0.95), 1e-8, 0.1, 1.0

C, L, V, H = CONFIG["n_embd"], CONFIG["n_layer"], CONFIG["vocab_size"], CONFIG["n_head"]


def parameter_shapes():
    shapes = {"wte.weight": (V, C), "wpe.weight": (CONFIG["n_positions"], C)}
    for l in range(L):
        p = f"h.{l}."
        shapes.update({p + "ln_1.weight": (C,), p + "ln_1.bias": (C,),
                       p + "attn.c_attn.weight": (C, 3 * C), p + "attn.c_attn.bias": (3 * C,),
                       p + "attn.c_proj.weight": (C, C), p + "attn.c_proj.bias": (C,),
                       p + "ln_2.weight": (C,), p + "ln_2.bias": (C,),
                       p + "mlp.c_fc.weight": (C, 4 * C), p + "mlp.c_fc.bias": (4 * C,),
                       p + "mlp.c_proj.weight": (4 * C, C), p + "mlp.c_proj.bias": (C,)})
    shapes.update({"ln_f.weight": (C,), "ln_f.bias": (C,)})
    return shapes


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def forward(params, idx, targets):
    """Hugging Face's GPT2LMHeadModel forward, written out: pre-LN blocks, Conv1D = addmm, tied head."""
    b, t = idx.shape
    x = params["wte.weight"][idx] + params["wpe.weight"][torch.arange(t)]
    mask = torch.tril(torch.ones(t, t, dtype=torch.bool))
    for l in range(L):
        p = lambda name: params[f"h.{l}.{name}"]
        h = F.layer_norm(x, (C,), p("ln_1.weight"), p("ln_1.bias"), CONFIG["layer_norm_epsilon"])
        qkv = torch.addmm(p("attn.c_attn.bias"), h.view(-1, C), p("attn.c_attn.weight")).view(b, t, 3 * C)
        q, k, v = qkv.split(C, dim=2)
        q, k, v = [z.view(b, t, H, C // H).transpose(1, 2) for z in (q, k, v)]
        att = (q @ k.transpose(-1, -2)) / math.sqrt(C // H)
        att = att.masked_fill(~mask, torch.finfo(att.dtype).min).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).reshape(b, t, C)
        x = x + torch.addmm(p("attn.c_proj.bias"), y.view(-1, C), p("attn.c_proj.weight")).view(b, t, C)
        h = F.layer_norm(x, (C,), p("ln_2.weight"), p("ln_2.bias"), CONFIG["layer_norm_epsilon"])
        h = gelu_new(torch.addmm(p("mlp.c_fc.bias"), h.view(-1, C), p("mlp.c_fc.weight")))
        x = x + torch.addmm(p("mlp.c_proj.bias"), h, p("mlp.c_proj.weight")).view(b, t, C)
    x = F.layer_norm(x, (C,), params["ln_f.weight"], params["ln_f.bias"], CONFIG["layer_norm_epsilon"])
    logits = x @ params["wte.weight"].T
    return F.cross_entropy(logits.view(-1, V), targets.view(-1))


def main():
    params = {}
    for name, shape in parameter_shapes().items():
        if name.endswith(("ln_1.weight", "ln_2.weight", "ln_f.weight")):
            value = 1.0 + 0.1 * torch.randn(shape)
        else:
            value = 0.2 * torch.randn(shape)
        params[name] = value.clone().requires_grad_(True)
    initial = {name: p.detach().clone() for name, p in params.items()}
    idx = torch.randint(0, V, (B, T))
    targets = torch.randint(0, V, (B, T))

    loss = forward(params, idx, targets)
    loss.backward()
    grads = {name: p.grad.detach().clone() for name, p in params.items()}
    grad_norm = torch.nn.utils.clip_grad_norm_(list(params.values()), CLIP)

    decay = [p for n, p in params.items() if p.dim() == 2]
    no_decay = [p for n, p in params.items() if p.dim() < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": WEIGHT_DECAY},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=LR, betas=BETAS, eps=EPS)
    optimizer.step()

    flat = lambda t: [float(v) for v in t.reshape(-1)]
    out = {
        "config": CONFIG, "batch": B, "seq_len": T,
        "optimizer": {"lr": LR, "beta1": BETAS[0], "beta2": BETAS[1], "eps": EPS, "weight_decay": WEIGHT_DECAY, "clip": CLIP},
        "inputs": flat(idx), "targets": flat(targets), "loss": float(loss), "grad_norm": float(grad_norm),
        "parameters": {n: flat(v) for n, v in initial.items()},
        "gradients": {n: flat(v) for n, v in grads.items()},
        "updated": {n: flat(p.detach()) for n, p in params.items()},
    }
    path = os.path.join(os.path.dirname(__file__), "..", "..", "data", "fixtures", "training", "step.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(out, f)
    print(f"wrote {os.path.normpath(path)}: loss {float(loss):.6f}, grad norm {float(grad_norm):.6f}")


if __name__ == "__main__":
    main()
