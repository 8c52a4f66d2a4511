#!/usr/bin/python3
"""PyTorch reference fixture for jgpt's GPT-1 (Hugging Face's openai-gpt): tokenizer, checkpoint loading, logits.

Independent of jgpt. Written by hand after Hugging Face's modeling_openai.py and tokenization_openai.py (transformers
is not installed here):
- the model: tokens_embed + positions_embed, post-LayerNorm blocks (n = ln_1(x + attn(x)); h = ln_2(n + mlp(n))),
  Conv1D = addmm with an [in, out] weight, attention scaled by 1/sqrt(head_dim) under a causal mask, afn "gelu" =
  ACT_FNS["gelu"] = gelu_new (the tanh approximation), no final LayerNorm, LM head tied to tokens_embed;
- the tokenizer as OpenAIGPTTokenizer runs without ftfy and spaCy: BERT's BasicTokenizer (clean control characters,
  whitespace to spaces, lower-case, strip accents, split off punctuation), then BPE per word with "</w>" on the last
  symbol, merges by rank; unknown symbols become <unk>.
A small BPE vocabulary is learnt here from a few sentences (the real openai-gpt files are not available offline).

Writes data/fixtures/gpt1/tiny: config.json (model_type openai-gpt), model.safetensors (OpenAIGPTLMHeadModel names,
"transformer." prefix), vocab.json, merges.txt, expected.json (texts, their tokens and ids, the logits of the ids).
    /usr/bin/python3 scripts/reference/make_gpt1_fixture.py
"""
import collections
import json
import math
import os
import sys
import unicodedata

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_gpt2_fixtures import write_safetensors  # noqa: E402  (the hand-written safetensors writer)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "data", "fixtures", "gpt1", "tiny")
CORPUS = ("The quick brown fox jumps over the lazy dog. The dog sleeps; the fox runs! "
          "Attention is all you need, they said: language models are unsupervised multitask learners. "
          "Improving language understanding by generative pre-training.")
TEXTS = ["The fox, the dog and the language model.", "Héllo WORLD!! it's   pre-training\ttime...", "zebra? qux 日本\u0007"]
N_MERGES = 60


# ---- BERT's BasicTokenizer (do_lower_case=True, tokenize_chinese_chars=True, strip_accents=None) ------------------

def is_whitespace(ch):
    return ch in (" ", "\t", "\n", "\r") or unicodedata.category(ch) == "Zs"


def is_control(ch):
    if ch in ("\t", "\n", "\r"):
        return False
    return unicodedata.category(ch).startswith("C")


def is_punctuation(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def is_chinese(cp):
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF or 0x2A700 <= cp <= 0x2B73F
            or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


def basic_tokenize(text):
    text = "".join(" " if is_whitespace(c) else c for c in text if not (ord(c) in (0, 0xFFFD) or is_control(c)))
    text = "".join(f" {c} " if is_chinese(ord(c)) else c for c in text)
    text = unicodedata.normalize("NFC", text)
    out = []
    for token in text.strip().split():
        token = token.lower()
        token = "".join(c for c in unicodedata.normalize("NFD", token) if unicodedata.category(c) != "Mn")
        word = []
        for c in token:
            if is_punctuation(c):
                if word:
                    out.append("".join(word))
                    word = []
                out.append(c)
            else:
                word.append(c)
        if word:
            out.append("".join(word))
    return out


# ---- OpenAIGPTTokenizer.bpe ---------------------------------------------------------------------------------------

def get_pairs(word):
    return {(word[i], word[i + 1]) for i in range(len(word) - 1)}


def bpe(token, ranks):
    word = tuple(token[:-1]) + (token[-1] + "</w>",)
    pairs = get_pairs(word)
    if not pairs:
        return token + "</w>"
    while True:
        bigram = min(pairs, key=lambda pair: ranks.get(pair, float("inf")))
        if bigram not in ranks:
            break
        first, second = bigram
        new_word, i = [], 0
        while i < len(word):
            try:
                j = word.index(first, i)
            except ValueError:
                new_word.extend(word[i:])
                break
            new_word.extend(word[i:j])
            i = j
            if word[i] == first and i < len(word) - 1 and word[i + 1] == second:
                new_word.append(first + second)
                i += 2
            else:
                new_word.append(word[i])
                i += 1
        word = tuple(new_word)
        if len(word) == 1:
            break
        pairs = get_pairs(word)
    return " ".join(word)


def tokenize(text, ranks):
    return [piece for token in basic_tokenize(text) for piece in bpe(token, ranks).split(" ")]


def learn_bpe(corpus):
    """A few merges by pair frequency over the corpus' words (ties by first occurrence), as subword-nmt would."""
    words = collections.Counter(basic_tokenize(corpus))
    split = {w: tuple(w[:-1]) + (w[-1] + "</w>",) for w in words}
    merges = []
    for _ in range(N_MERGES):
        counts = collections.Counter()
        for w, n in words.items():
            for pair in zip(split[w], split[w][1:]):
                counts[pair] += n
        if not counts:
            break
        best = max(counts, key=lambda p: counts[p])
        merges.append(best)
        for w in words:
            s, out, i = split[w], [], 0
            while i < len(s):
                if i < len(s) - 1 and (s[i], s[i + 1]) == best:
                    out.append(s[i] + s[i + 1])
                    i += 2
                else:
                    out.append(s[i])
                    i += 1
            split[w] = tuple(out)
    return merges


# ---- the model ------------------------------------------------------------------------------------------------

def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def forward(w, cfg, ids):
    t, c, nh = len(ids), cfg["n_embd"], cfg["n_head"]
    x = w["tokens_embed.weight"][torch.tensor(ids)] + w["positions_embed.weight"][torch.arange(t)]
    b = torch.tril(torch.ones(t, t))
    for l in range(cfg["n_layer"]):
        p = lambda name: w[f"h.{l}.{name}"]
        q, k, v = torch.addmm(p("attn.c_attn.bias"), x, p("attn.c_attn.weight")).split(c, dim=1)
        q, k, v = [z.view(t, nh, c // nh).transpose(0, 1) for z in (q, k, v)]
        att = (q @ k.transpose(-1, -2)) / math.sqrt(c // nh)
        att = (att * b + -1e4 * (1 - b)).softmax(dim=-1)  # modeling_openai's mask
        a = torch.addmm(p("attn.c_proj.bias"), (att @ v).transpose(0, 1).reshape(t, c), p("attn.c_proj.weight"))
        n = torch.nn.functional.layer_norm(x + a, (c,), p("ln_1.weight"), p("ln_1.bias"), cfg["layer_norm_epsilon"])
        m = torch.addmm(p("mlp.c_proj.bias"), gelu_new(torch.addmm(p("mlp.c_fc.bias"), n, p("mlp.c_fc.weight"))),
                        p("mlp.c_proj.weight"))
        x = torch.nn.functional.layer_norm(n + m, (c,), p("ln_2.weight"), p("ln_2.bias"), cfg["layer_norm_epsilon"])
    return x @ w["tokens_embed.weight"].T


def main():
    merges = learn_bpe(CORPUS)
    ranks = {m: i for i, m in enumerate(merges)}
    symbols = sorted({c for c in "abcdefghijklmnopqrstuvwxyz0123456789.,;:!?'-"})
    vocab = {}
    for s in symbols + [s + "</w>" for s in symbols] + [a + b for a, b in merges] + ["<unk>"]:
        vocab.setdefault(s, len(vocab))
    cfg = {"afn": "gelu", "architectures": ["OpenAIGPTLMHeadModel"], "attn_pdrop": 0.1, "embd_pdrop": 0.1,
           "initializer_range": 0.02, "layer_norm_epsilon": 1e-05, "model_type": "openai-gpt", "n_ctx": 32,
           "n_embd": 32, "n_head": 4, "n_layer": 2, "n_positions": 32, "n_special": 0, "predict_special_tokens": True,
           "resid_pdrop": 0.1, "vocab_size": len(vocab)}
    gen = torch.Generator().manual_seed(1818)
    c = cfg["n_embd"]
    shapes = {"tokens_embed.weight": (len(vocab), c), "positions_embed.weight": (cfg["n_positions"], c)}
    for l in range(cfg["n_layer"]):
        h = f"h.{l}."
        shapes.update({h + "attn.c_attn.weight": (c, 3 * c), h + "attn.c_attn.bias": (3 * c,),
                       h + "attn.c_proj.weight": (c, c), h + "attn.c_proj.bias": (c,),
                       h + "ln_1.weight": (c,), h + "ln_1.bias": (c,),
                       h + "mlp.c_fc.weight": (c, 4 * c), h + "mlp.c_fc.bias": (4 * c,),
                       h + "mlp.c_proj.weight": (4 * c, c), h + "mlp.c_proj.bias": (c,),
                       h + "ln_2.weight": (c,), h + "ln_2.bias": (c,)})
    w = {}
    for name, shape in shapes.items():
        if name.endswith(("ln_1.weight", "ln_2.weight")):
            w[name] = 1.0 + 0.1 * torch.randn(shape, generator=gen)
        else:
            w[name] = 0.3 * torch.randn(shape, generator=gen)

    expected = {"texts": [], "tokens": [], "ids": [], "logits": []}
    for text in TEXTS:
        tokens = tokenize(text, ranks)
        ids = [vocab.get(t, vocab["<unk>"]) for t in tokens]
        with torch.no_grad():
            logits = forward(w, cfg, ids)
        expected["texts"].append(text)
        expected["tokens"].append(tokens)
        expected["ids"].append(ids)
        expected["logits"].append([[float(f"{v:.7g}") for v in row] for row in logits])
    expected["decoded"] = ["".join(t).replace("</w>", " ").strip() for t in expected["tokens"]]

    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    write_safetensors(os.path.join(OUT, "model.safetensors"), {"transformer." + k: v.contiguous() for k, v in w.items()})
    with open(os.path.join(OUT, "vocab.json"), "w") as f:
        json.dump(vocab, f, ensure_ascii=False)
    with open(os.path.join(OUT, "merges.txt"), "w") as f:
        f.write("#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in merges))
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, ensure_ascii=False)
    for text, tokens in zip(TEXTS, expected["tokens"]):
        print(repr(text), tokens)
    print(f"wrote {OUT}: vocab {len(vocab)}, {len(merges)} merges")


if __name__ == "__main__":
    main()
