#!/usr/bin/env python3
"""One GPT-1-style fine-tuning step in PyTorch, independent of jgpt: the reference for org.jgpt.train.finetune.

A tiny GPT-2 (Hugging Face's GPT2Model written out, as in make_training_fixture.py) whose vocabulary ends in the three
special tokens start, delimiter and extract. For each task the script frames the examples as the GPT-1 paper does
(classification [s; text; e], entailment [s; premise; $; hypothesis; e], similarity both orderings with their final
extract states added, multiple choice one sequence per answer with a softmax over the answers), runs every sequence
on its own (no padding), applies the bias-free linear head score.weight to the final hidden state (after ln_f) at the
extract token, and computes loss = cross-entropy of the labels (mean over examples) + lambda * LM loss (next-token
cross-entropy of the same sequences, mean over all their predicted tokens). Writes data/fixtures/finetune/step.json:
parameters, examples (token segments), and per task and lambda (0.5 and 0) the task loss, LM loss, total loss and
the gradients (all of them for lambda 0.5); then the same for a GPT-1 (OpenAIGPTModel written out: post-LN blocks, no
final LayerNorm) on the classification and similarity examples.  Run with Debian's PyTorch:  /usr/bin/python3 scripts/reference/make_finetune_fixture.py
"""
import json
import math
import os

import torch
import torch.nn.functional as F

torch.manual_seed(4321)
BASE_VOCAB = 64
START, DELIM, EXTRACT = BASE_VOCAB, BASE_VOCAB + 1, BASE_VOCAB + 2
CONFIG = dict(vocab_size=BASE_VOCAB + 3, n_positions=24, n_embd=16, n_layer=2, n_head=2, n_inner=None,
              layer_norm_epsilon=1e-5, activation_function="gelu_new", scale_attn_weights=True,
              scale_attn_by_inverse_layer_idx=False, bos_token_id=63, eos_token_id=63, model_type="gpt2")
C, L, V, H = CONFIG["n_embd"], CONFIG["n_layer"], CONFIG["vocab_size"], CONFIG["n_head"]
MAX_LENGTH = CONFIG["n_positions"]


def parameter_shapes(gpt1=False):
    shapes = {"tokens_embed.weight" if gpt1 else "wte.weight": (V, C),
              "positions_embed.weight" if gpt1 else "wpe.weight": (CONFIG["n_positions"], C)}
    for l in range(L):
        p = f"h.{l}."
        shapes.update({p + "ln_1.weight": (C,), p + "ln_1.bias": (C,),
                       p + "attn.c_attn.weight": (C, 3 * C), p + "attn.c_attn.bias": (3 * C,),
                       p + "attn.c_proj.weight": (C, C), p + "attn.c_proj.bias": (C,),
                       p + "ln_2.weight": (C,), p + "ln_2.bias": (C,),
                       p + "mlp.c_fc.weight": (C, 4 * C), p + "mlp.c_fc.bias": (4 * C,),
                       p + "mlp.c_proj.weight": (4 * C, C), p + "mlp.c_proj.bias": (C,)})
    if not gpt1:
        shapes.update({"ln_f.weight": (C,), "ln_f.bias": (C,)})
    return shapes


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def hidden_states(params, ids):
    """GPT2Model on one sequence: the final hidden states after ln_f, [t, C]. With GPT-1's parameter names,
    OpenAIGPTModel: post-LN blocks (n = ln_1(x + attn(x)); h = ln_2(n + mlp(n))) and no final LayerNorm."""
    if "tokens_embed.weight" in params:
        return gpt1_hidden_states(params, ids)
    t = len(ids)
    idx = torch.tensor(ids)
    x = params["wte.weight"][idx] + params["wpe.weight"][torch.arange(t)]
    mask = torch.tril(torch.ones(t, t, dtype=torch.bool))
    for l in range(L):
        p = lambda name: params[f"h.{l}.{name}"]
        h = F.layer_norm(x, (C,), p("ln_1.weight"), p("ln_1.bias"), CONFIG["layer_norm_epsilon"])
        q, k, v = torch.addmm(p("attn.c_attn.bias"), h, p("attn.c_attn.weight")).split(C, dim=1)
        q, k, v = [z.view(t, H, C // H).transpose(0, 1) for z in (q, k, v)]
        att = (q @ k.transpose(-1, -2)) / math.sqrt(C // H)
        att = att.masked_fill(~mask, torch.finfo(att.dtype).min).softmax(dim=-1)
        y = (att @ v).transpose(0, 1).reshape(t, C)
        x = x + torch.addmm(p("attn.c_proj.bias"), y, p("attn.c_proj.weight"))
        h = F.layer_norm(x, (C,), p("ln_2.weight"), p("ln_2.bias"), CONFIG["layer_norm_epsilon"])
        h = gelu_new(torch.addmm(p("mlp.c_fc.bias"), h, p("mlp.c_fc.weight")))
        x = x + torch.addmm(p("mlp.c_proj.bias"), h, p("mlp.c_proj.weight"))
    return F.layer_norm(x, (C,), params["ln_f.weight"], params["ln_f.bias"], CONFIG["layer_norm_epsilon"])


def gpt1_hidden_states(params, ids):
    t = len(ids)
    x = params["tokens_embed.weight"][torch.tensor(ids)] + params["positions_embed.weight"][torch.arange(t)]
    b = torch.tril(torch.ones(t, t))
    eps = CONFIG["layer_norm_epsilon"]
    for l in range(L):
        p = lambda name: params[f"h.{l}.{name}"]
        q, k, v = torch.addmm(p("attn.c_attn.bias"), x, p("attn.c_attn.weight")).split(C, dim=1)
        q, k, v = [z.view(t, H, C // H).transpose(0, 1) for z in (q, k, v)]
        att = (q @ k.transpose(-1, -2)) / math.sqrt(C // H)
        att = (att * b + -1e4 * (1 - b)).softmax(dim=-1)  # modeling_openai's mask
        a = torch.addmm(p("attn.c_proj.bias"), (att @ v).transpose(0, 1).reshape(t, C), p("attn.c_proj.weight"))
        n = F.layer_norm(x + a, (C,), p("ln_1.weight"), p("ln_1.bias"), eps)
        m = torch.addmm(p("mlp.c_proj.bias"), gelu_new(torch.addmm(p("mlp.c_fc.bias"), n, p("mlp.c_fc.weight"))),
                        p("mlp.c_proj.weight"))
        x = F.layer_norm(n + m, (C,), p("ln_2.weight"), p("ln_2.bias"), eps)
    return x


def frame(*parts):
    seq = [START]
    for i, part in enumerate(parts):
        if i > 0:
            seq.append(DELIM)
        seq.extend(part)
    return seq + [EXTRACT]


def sequences(task, texts):
    if task == "classification":
        return [frame(texts[0])]
    if task == "entailment":
        return [frame(texts[0], texts[1])]
    if task == "similarity":
        return [frame(texts[0], texts[1]), frame(texts[1], texts[0])]
    return [frame(texts[0], answer) for answer in texts[1:]]


def losses(params, head, task, examples, lam):
    task_logits, lm_sum, lm_count = [], 0.0, 0
    for texts, _ in examples:
        states = []
        for seq in sequences(task, texts):
            hidden = hidden_states(params, seq)
            logits = hidden @ params["tokens_embed.weight" if "tokens_embed.weight" in params else "wte.weight"].T
            lm_sum = lm_sum + F.cross_entropy(logits[:-1], torch.tensor(seq[1:]), reduction="sum")
            lm_count += len(seq) - 1
            states.append(hidden[-1])
        if task == "choice":
            task_logits.append(torch.stack([s @ head.T for s in states]).view(-1))
        else:
            task_logits.append(sum(states) @ head.T)
    labels = torch.tensor([label for _, label in examples])
    task_loss = F.cross_entropy(torch.stack(task_logits), labels)
    lm_loss = lm_sum / lm_count
    return task_loss, lm_loss, task_loss + lam * lm_loss


def segment(length):
    return torch.randint(0, BASE_VOCAB, (length,)).tolist()


FLAT = lambda t: [float(f"{v:.8g}") for v in t.reshape(-1)]


def random_parameters(gpt1=False):
    params = {}
    for name, shape in parameter_shapes(gpt1).items():
        value = 1.0 + 0.1 * torch.randn(shape) if name.endswith(("ln_1.weight", "ln_2.weight", "ln_f.weight")) \
            else 0.2 * torch.randn(shape)
        params[name] = value.requires_grad_(True)
    return params


def task_record(params, task, outputs, examples):
    """A random head, then the losses and gradients with lambda 0.5 and 0."""
    head = (0.2 * torch.randn(outputs, C)).requires_grad_(True)
    embedding = "tokens_embed.weight" if "tokens_embed.weight" in params else "wte.weight"
    record = {"head": FLAT(head.detach()), "head_outputs": outputs,
              "examples": [{"texts": texts, "label": label} for texts, label in examples]}
    for lam in (0.5, 0.0):
        for p in list(params.values()) + [head]:
            p.grad = None
        task_loss, lm_loss, loss = losses(params, head, task, examples, lam)
        loss.backward()
        # every gradient with the auxiliary loss; without it the head's, the token embedding's (which loses the LM
        # head's share) and the first block's attention weights
        kept = params if lam else {n: params[n] for n in (embedding, "h.0.attn.c_attn.weight")}
        grads = {n: FLAT(p.grad) for n, p in kept.items()}
        grads["score.weight"] = FLAT(head.grad)
        record[f"lambda={lam}"] = {"lambda": lam, "task_loss": float(task_loss), "lm_loss": float(lm_loss),
                                  "loss": float(loss), "gradients": grads}
    print(f"{embedding.split('.')[0]} {task}: task loss {float(task_loss):.6f}, LM loss {float(lm_loss):.6f}")
    return record


def main():
    params = random_parameters()
    tasks = {
        "classification": (3, [([segment(5)], 2), ([segment(9)], 0), ([segment(3)], 1)]),
        "entailment": (3, [([segment(4), segment(6)], 1), ([segment(7), segment(2)], 2)]),
        "similarity": (2, [([segment(3), segment(5)], 1), ([segment(6), segment(4)], 0)]),
        "choice": (1, [([segment(4), segment(3), segment(5), segment(2)], 2), ([segment(6), segment(2), segment(3), segment(4)], 0)]),
    }
    out = {"config": CONFIG, "max_length": MAX_LENGTH, "start": START, "delimiter": DELIM, "extract": EXTRACT,
           "parameters": {n: FLAT(p.detach()) for n, p in params.items()}, "tasks": {}}
    for task, (outputs, examples) in tasks.items():
        out["tasks"][task] = task_record(params, task, outputs, examples)
    # GPT-1 (openai-gpt's post-LN blocks, no ln_f) on two of the tasks
    gpt1 = random_parameters(gpt1=True)
    out["gpt1"] = {"parameters": {n: FLAT(p.detach()) for n, p in gpt1.items()}, "tasks": {}}
    for task in ("classification", "similarity"):
        out["gpt1"]["tasks"][task] = task_record(gpt1, task, *tasks[task])
    path = os.path.join(os.path.dirname(__file__), "..", "..", "data", "fixtures", "finetune", "step.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(out, f)
    print(f"wrote {os.path.normpath(path)}")


if __name__ == "__main__":
    main()
