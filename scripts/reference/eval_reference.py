#!/usr/bin/python3
"""PyTorch reference for jgpt's evaluation tasks: per-example scores on the full-vocab fixture.

Independent of jgpt: the GPT-2 forward pass and the reference BPE are those of make_gpt2_fixtures.py (written from
Hugging Face's modeling_gpt2 and OpenAI's encoder.py), the weights are read from the safetensors file by hand, and
each task's protocol is re-implemented here from its description (the GPT-2 paper, Hugging Face's "Perplexity of
fixed-length models", lm-evaluation-harness's LAMBADA, Trinh & Le's WSC scoring). Reads the hand-made samples in
data/fixtures/eval/ and writes data/fixtures/eval/expected.json.

    /usr/bin/python3 scripts/reference/eval_reference.py

Needs Debian's python3-torch; deterministic.
"""
import json
import os
import re
import struct
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_gpt2_fixtures as ref  # noqa: E402

ROOT = ref.ROOT
MODEL = os.path.join(ROOT, "data", "fixtures", "gpt2", "full-vocab")
DATA = os.path.join(ROOT, "data", "fixtures", "eval")
EOT = 50256

# The settings the Java tests use with these samples (the fixture's context is only 64 tokens).
SETTINGS = {
    "perplexity": {"context": 16, "stride": 8},
    "wikitext": {"context": 32, "stride": 32},
    "coqa": {"max_tokens": 8},
    "qa": {"shots": 2, "max_tokens": 8},
    "translate": {"shots": 2, "max_tokens": 10},
    "summarize": {"max_tokens": 12},
    "classify": {"labels": ["positive", "negative"], "template": "The sentiment of this review is {}."},
}


def load_model():
    cfg = json.load(open(os.path.join(MODEL, "config.json")))
    raw = open(os.path.join(MODEL, "model.safetensors"), "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    dtypes = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}
    w = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        t = torch.frombuffer(bytearray(raw[8 + n + begin:8 + n + end]), dtype=dtypes[info["dtype"]])
        w[name.removeprefix("transformer.")] = t.reshape(info["shape"]).to(torch.float32)
    return w, cfg


W, CFG = load_model()
P = CFG["n_positions"]
VOCAB = json.load(open(os.path.join(MODEL, "vocab.json"), encoding="utf-8"))
ID_TO_TOKEN = {i: t for t, i in VOCAB.items()}
BYTE_DECODER = {c: b for b, c in ref.bytes_to_unicode().items()}


def encode(text):
    return ref.gpt2_encode(text, os.path.join(MODEL, "vocab.json"), os.path.join(MODEL, "merges.txt"))


def decode(ids):
    return bytes(BYTE_DECODER[c] for i in ids for c in ID_TO_TOKEN[i]).decode("utf-8", errors="replace")


def logits_of(ids):
    return ref.forward(W, CFG, ids, W["wte.weight"])


def score(context, continuation):
    """Sum of log p(continuation | context) and whether each token is the argmax; the context keeps its end."""
    tokens = (context + continuation)[-(P + 1):]
    rows = logits_of(tokens[:-1])[-len(continuation):].to(torch.float64)
    logprobs = torch.log_softmax(rows, dim=-1)
    total = sum(float(logprobs[i, t]) for i, t in enumerate(continuation))
    greedy = all(int(torch.argmax(rows[i])) == t for i, t in enumerate(continuation))
    return total, greedy


def generate(prompt_ids, max_tokens, stop="\n"):
    """Greedy decoding by full re-forwards; stops at end of text or once the text holds the stop string."""
    room = P + 1 - max_tokens
    prompt = prompt_ids[-room:]
    out = []
    while len(out) < max_tokens:
        nxt = int(torch.argmax(logits_of(prompt + out)[-1]))
        if nxt == EOT:
            return prompt, out, decode(out), "eot"
        out.append(nxt)
        text = decode(out)
        if stop is not None and stop in text:
            return prompt, out, text[:text.index(stop)], "stop"
    return prompt, out, decode(out), "length"


def perplexity(text, context, stride, bos=True):
    """Hugging Face's sliding-window loop, literally: labels -100 outside the last trg_len tokens of a window."""
    ids = ([EOT] if bos else []) + encode(text)
    nll, count, prev_end = 0.0, 0, 0
    for begin in range(0, len(ids), stride):
        end = min(begin + context, len(ids))
        trg_len = end - prev_end
        window = ids[begin:end]
        labels = list(window)
        for i in range(len(labels) - trg_len):
            labels[i] = -100
        logprobs = torch.log_softmax(logits_of(window).to(torch.float64), dim=-1)
        for t in range(1, len(window)):
            if labels[t] != -100:
                nll -= float(logprobs[t - 1, labels[t]])
                count += 1
        prev_end = end
        if end == len(ids):
            break
    return {"tokens": count, "logprob": -nll}


def wikitext_detok(s):
    """lm-evaluation-harness's wikitext detokenizer, the rules that these samples exercise."""
    s = s.replace("s '", "s'")
    s = s.replace(" @-@ ", "-").replace(" @,@ ", ",").replace(" @.@ ", ".")
    for p in [":", ";", ".", "!", "?", ","]:
        s = s.replace(" " + p + " ", p + " ")
    s = re.sub(r"\(\s*([^\)]*?)\s*\)", r"(\1)", s)
    s = s.replace("= = = =", "====").replace("= = =", "===").replace("= =", "==")
    s = s.replace(" \n", "\n").replace("\n ", "\n").replace(" N ", " 1 ").replace(" 's", "'s")
    return s


def lambada():
    stop_words = {l.strip().lower() for l in open(os.path.join(ROOT, "eval", "src", "main", "resources", "org", "jgpt",
                                                               "eval", "stopwords-en.txt")) if l.strip()}
    stop_ids = torch.tensor([decode([i]).strip().lower() in stop_words for i in range(CFG["vocab_size"])])
    out = []
    for line in open(os.path.join(DATA, "lambada.jsonl")):
        text = json.loads(line)["text"].strip()
        context, word = text.rsplit(" ", 1)
        c, t = encode(context), encode(" " + word)
        logprob, greedy = score(c, t)
        first = logits_of(c[-P:])[-1].masked_fill(stop_ids, float("-inf"))
        filtered = int(torch.argmax(first)) == t[0] and (len(t) == 1 or score(c + t[:1], t[1:])[1])
        all_ids = encode(text)
        last_logprob, last_greedy = score(all_ids[:-1], all_ids[-1:])
        out.append({"context_ids": c, "target_ids": t, "logprob": logprob, "correct": greedy,
                    "correct_stopword_filter": filtered, "last_token_logprob": last_logprob,
                    "correct_last_token": last_greedy})
    return out


def cbt():
    out, story = [], []
    for line in open(os.path.join(DATA, "cbt.txt")):
        line = line.rstrip("\n")
        if not line:
            continue
        number, body = line.split(" ", 1)
        if int(number) < 21:
            story.append(body)
            continue
        query, answer, _, candidates = body.split("\t")
        before, after = query.split("XXXXX")
        context = " ".join(story) + (" " + before.rstrip() if before.strip() else "")
        logprobs = [score(encode(context), encode(" " + c + after))[0] for c in candidates.split("|")]
        out.append({"answer": answer, "logprobs": logprobs})
        story = []
    return out


def winograd():
    out = []
    for line in open(os.path.join(DATA, "winograd.jsonl")):
        r = json.loads(line)
        text, at = r["text"], r["pronoun_loc"]
        after = text[at + len(r["pronoun"]):]
        full = [score([EOT], encode(text[:at] + o + after))[0] for o in r["options"]]
        partial = [score(encode(text[:at] + o), encode(after))[0] for o in r["options"]]
        out.append({"full_logprobs": full, "partial_logprobs": partial})
    return out


def coqa():
    data = json.load(open(os.path.join(DATA, "coqa.json")))["data"]
    out = []
    for story in data:
        history = story["story"].strip() + "\n\n"
        for q, a in zip(story["questions"], story["answers"]):
            prompt = history + "Q: " + q["input_text"] + "\nA:"
            fed, ids, text, _ = generate(encode(prompt), SETTINGS["coqa"]["max_tokens"])
            out.append({"prompt_ids": fed, "output_ids": ids, "prediction": text.strip()})
            history += "Q: " + q["input_text"] + "\nA: " + a["input_text"] + "\n\n"
    return out


def qa():
    rows = [json.loads(l) for l in open(os.path.join(DATA, "qa.jsonl"))]
    k = SETTINGS["qa"]["shots"]
    shots = "".join("Q: " + r["question"] + "\nA: " + r["answer"][0] + "\n\n" for r in rows[:k])
    out = []
    for r in rows[k:]:
        fed, ids, text, reason = generate(encode(shots + "Q: " + r["question"] + "\nA:"), SETTINGS["qa"]["max_tokens"])
        chosen = ids + ([EOT] if reason == "eot" else [])
        out.append({"prompt_ids": fed, "output_ids": ids, "prediction": text.strip(),
                    "confidence": score(fed, chosen)[0]})
    return out


def translate():
    rows = [json.loads(l) for l in open(os.path.join(DATA, "translate.jsonl"))]
    k = SETTINGS["translate"]["shots"]
    shots = "".join(r["en"] + " = " + r["fr"] + "\n" for r in rows[:k])
    out = []
    for r in rows[k:]:
        fed, ids, text, _ = generate(encode(shots + r["en"] + " ="), SETTINGS["translate"]["max_tokens"])
        first_sentence = re.split(r"(?<=[.!?])\s+", text.strip(), maxsplit=1)[0]
        out.append({"prompt_ids": fed, "output_ids": ids, "translation": first_sentence})
    return out


def summarize():
    """With k = 1 top-k sampling is greedy, so the reference can follow it exactly (no stop string)."""
    out = []
    for line in open(os.path.join(DATA, "summarize.jsonl")):
        r = json.loads(line)
        fed, ids, text, _ = generate(encode(r["article"].strip() + "\nTL;DR:"), SETTINGS["summarize"]["max_tokens"],
                                     stop=None)
        out.append({"prompt_ids": fed, "output_ids": ids})
    return out


def classify():
    s = SETTINGS["classify"]
    before, after = s["template"].split("{}")
    eye = torch.eye(CFG["n_embd"])

    def embed(text):
        return ref.forward(W, CFG, encode(text)[:P], eye).to(torch.float64).mean(dim=0)

    def cosine(a, b):
        return float(torch.dot(a, b) / torch.sqrt(torch.dot(a, a) * torch.dot(b, b)))

    label_vectors = [embed(s["template"].replace("{}", label)) for label in s["labels"]]
    out = []
    for line in open(os.path.join(DATA, "classify.jsonl")):
        r = json.loads(line)
        context = encode(r["text"].strip() + "\n" + before.rstrip())
        space = before[len(before.rstrip()):]
        logprobs = [score(context, encode(space + label + after))[0] for label in s["labels"]]
        v = embed(r["text"].strip())
        out.append({"logprobs": logprobs, "similarities": [cosine(v, u) for u in label_vectors]})
    return out


def main():
    torch.set_num_threads(2)
    text = open(os.path.join(DATA, "perplexity.txt")).read()
    wiki = [json.loads(l)["text"] for l in open(os.path.join(DATA, "wikitext.jsonl"))]
    expected = {
        "description": f"PyTorch {torch.__version__} reference (scripts/reference/eval_reference.py) on "
                       "data/fixtures/gpt2/full-vocab, float32 forward, log-softmax in float64",
        "settings": SETTINGS,
        "perplexity": [perplexity(text, **SETTINGS["perplexity"])],
        "wikitext": [perplexity(wikitext_detok(t), **SETTINGS["wikitext"]) for t in wiki],
        "lambada": lambada(),
        "cbt": cbt(),
        "winograd": winograd(),
        "coqa": coqa(),
        "qa": qa(),
        "translate": translate(),
        "summarize": summarize(),
        "classify": classify(),
    }
    with open(os.path.join(DATA, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")
    print("wrote", os.path.join(DATA, "expected.json"))


if __name__ == "__main__":
    sys.exit(main())
