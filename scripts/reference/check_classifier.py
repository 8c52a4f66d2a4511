#!/usr/bin/python3
"""Checks a folder saved by `jgpt finetune` (classification or entailment) against PyTorch, as Hugging Face's
GPT2ForSequenceClassification would run it: GPT2Model (pre-LN blocks, ln_f) on [start; text; extract], then
score.weight ([labels, n_embd], no bias) on the last token's hidden state, softmax.

Usage:  /usr/bin/python3 scripts/reference/check_classifier.py MODEL_DIR IDS_FILE PROBS_FILE
IDS_FILE: one line of GPT-2 token ids per text (e.g. `./jgpt tokenize` of one file per text); PROBS_FILE: jgpt's
`classify` output for the same texts ("label<TAB>probability" per line). Prints the largest probability difference.
"""
import json
import math
import struct
import sys

import torch
import torch.nn.functional as F

DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        begin, end = e["data_offsets"]
        t = torch.frombuffer(bytearray(data[begin:end]), dtype=DTYPES[e["dtype"]]).float()
        out[name.removeprefix("transformer.")] = t.view(e["shape"])
    return out


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def hidden(w, cfg, ids):
    t, c, h, eps = len(ids), cfg["n_embd"], cfg["n_head"], cfg["layer_norm_epsilon"]
    x = w["wte.weight"][torch.tensor(ids)] + w["wpe.weight"][torch.arange(t)]
    mask = torch.tril(torch.ones(t, t, dtype=torch.bool))
    for l in range(cfg["n_layer"]):
        p = lambda name: w[f"h.{l}.{name}"]
        y = F.layer_norm(x, (c,), p("ln_1.weight"), p("ln_1.bias"), eps)
        q, k, v = torch.addmm(p("attn.c_attn.bias"), y, p("attn.c_attn.weight")).split(c, dim=1)
        q, k, v = [z.view(t, h, c // h).transpose(0, 1) for z in (q, k, v)]
        att = ((q @ k.transpose(-1, -2)) / math.sqrt(c // h)).masked_fill(~mask, float("-inf")).softmax(-1)
        x = x + torch.addmm(p("attn.c_proj.bias"), (att @ v).transpose(0, 1).reshape(t, c), p("attn.c_proj.weight"))
        y = F.layer_norm(x, (c,), p("ln_2.weight"), p("ln_2.bias"), eps)
        x = x + torch.addmm(p("mlp.c_proj.bias"), gelu_new(torch.addmm(p("mlp.c_fc.bias"), y, p("mlp.c_fc.weight"))),
                            p("mlp.c_proj.weight"))
    return F.layer_norm(x, (c,), w["ln_f.weight"], w["ln_f.bias"], eps)


def main():
    model, ids_file, probs_file = sys.argv[1:4]
    cfg = json.load(open(f"{model}/config.json"))
    task = cfg["jgpt_task"]
    w = read_safetensors(f"{model}/model.safetensors")
    labels = [cfg["id2label"][str(i)] for i in range(len(cfg["id2label"]))]
    worst = 0.0
    for line, out in zip(open(ids_file), open(probs_file)):
        ids = [int(i) for i in line.split()][: task["max_length"] - 2]
        seq = [task["start_token_id"]] + ids + [task["extract_token_id"]]
        with torch.no_grad():
            p = (hidden(w, cfg, seq)[-1] @ w["score.weight"].T).softmax(-1)
        label, prob = out.rstrip("\n").split("\t")
        worst = max(worst, abs(float(p[labels.index(label)]) - float(prob)))
        if labels[int(p.argmax())] != label and abs(float(p.max()) - 0.5) > 1e-3:
            print(f"label differs: torch {labels[int(p.argmax())]}, jgpt {label}")
    print(f"max |p_torch - p_jgpt| = {worst:.2e} (jgpt prints 4 decimals)")


if __name__ == "__main__":
    main()
