#!/usr/bin/python3
"""A RoBERTa encoder written out by hand in PyTorch, independent of jgpt: the model shared by
make_encoder_fixture.py, check_encoder.py and bench/python/torch_roberta_mlm_train_speed.py (which imports it through
a sys.path insert). Not a script; nothing to run.

Follows Hugging Face's modeling_roberta (transformers is not installed here), parameters kept in a dict under Hugging
Face's tensor names, Linear weights in nn.Linear layout [out, in] (y = x Wᵀ + b):
- embeddings: word_embeddings (padding_idx 1: the lookup gives row 1 no gradient) + position_embeddings at
  position ids cumsum(ids != 1) * (ids != 1) + 1 (a real token at index t gets t + 2, a pad gets 1; padding_idx 1
  again) + token_type_embeddings[0], then LayerNorm and dropout; or, when given, Hugging Face's explicit
  token_type_ids and position_ids (XLM's translation LM: a language and positions per segment);
- BERT post-LN layers: q, k, v Linear; scores q kᵀ / sqrt(head_dim) plus an additive mask (0 for keys with attention
  mask 1, finfo(float32).min for padded keys); softmax; dropout; @ v; attention.output.dense, dropout,
  LayerNorm(x + ·); intermediate.dense, exact erf GELU; output.dense, dropout, LayerNorm(x1 + ·);
- lm_head: dense, erf GELU, layer_norm, decoder tied to word_embeddings plus lm_head.bias;
- classification heads (RobertaClassificationHead, under "classifier." or jgpt's "sop_classifier."): the hidden state
  at position 0 (<s>), dropout, dense, tanh, dropout, out_proj.
Safetensors are read and written by hand (8-byte little-endian header length, JSON header, raw little-endian data).
"""
import json
import math
import struct

import torch
import torch.nn.functional as F

PAD = 1

# The keys of a Hugging Face RoBERTa config.json that jgpt reads and writes (model_type "roberta").
CONFIG_KEYS = ("architectures", "model_type", "vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
               "intermediate_size", "hidden_act", "hidden_dropout_prob", "attention_probs_dropout_prob",
               "max_position_embeddings", "type_vocab_size", "initializer_range", "layer_norm_eps", "pad_token_id",
               "bos_token_id", "eos_token_id", "position_embedding_type", "torch_dtype")


def roberta_config(architecture, vocab_size, hidden_size, num_hidden_layers, num_attention_heads, intermediate_size,
                   max_position_embeddings, **extra):
    """A config.json dict in Hugging Face's RoBERTa form (sorted keys, as save_pretrained writes them)."""
    cfg = dict(architectures=[architecture], model_type="roberta", vocab_size=vocab_size, hidden_size=hidden_size,
               num_hidden_layers=num_hidden_layers, num_attention_heads=num_attention_heads,
               intermediate_size=intermediate_size, hidden_act="gelu", hidden_dropout_prob=0.1,
               attention_probs_dropout_prob=0.1, max_position_embeddings=max_position_embeddings, type_vocab_size=1,
               initializer_range=0.02, layer_norm_eps=1e-5, pad_token_id=1, bos_token_id=0, eos_token_id=2,
               position_embedding_type="absolute", torch_dtype="float32")
    cfg.update(extra)
    return dict(sorted(cfg.items()))


def parameter_shapes(cfg, heads=("lm_head",)):
    """Hugging Face names and shapes: roberta.* then each head asked for ("lm_head", "sop_classifier", "classifier")."""
    V, H, I = cfg["vocab_size"], cfg["hidden_size"], cfg["intermediate_size"]
    e = "roberta.embeddings."
    shapes = {e + "word_embeddings.weight": (V, H), e + "position_embeddings.weight": (cfg["max_position_embeddings"], H),
              e + "token_type_embeddings.weight": (cfg["type_vocab_size"], H),
              e + "LayerNorm.weight": (H,), e + "LayerNorm.bias": (H,)}
    for n in range(cfg["num_hidden_layers"]):
        p = f"roberta.encoder.layer.{n}."
        for lin, (out, inp) in (("attention.self.query", (H, H)), ("attention.self.key", (H, H)),
                                ("attention.self.value", (H, H)), ("attention.output.dense", (H, H))):
            shapes.update({p + lin + ".weight": (out, inp), p + lin + ".bias": (out,)})
        shapes.update({p + "attention.output.LayerNorm.weight": (H,), p + "attention.output.LayerNorm.bias": (H,),
                       p + "intermediate.dense.weight": (I, H), p + "intermediate.dense.bias": (I,),
                       p + "output.dense.weight": (H, I), p + "output.dense.bias": (H,),
                       p + "output.LayerNorm.weight": (H,), p + "output.LayerNorm.bias": (H,)})
    for head in heads:
        if head == "lm_head":
            shapes.update({"lm_head.dense.weight": (H, H), "lm_head.dense.bias": (H,),
                           "lm_head.layer_norm.weight": (H,), "lm_head.layer_norm.bias": (H,), "lm_head.bias": (V,)})
        else:
            labels = 2 if head == "sop_classifier" else len(cfg.get("id2label", {0: 0, 1: 1}))
            shapes.update({head + ".dense.weight": (H, H), head + ".dense.bias": (H,),
                           head + ".out_proj.weight": (labels, H), head + ".out_proj.bias": (labels,)})
    return shapes


def is_layer_norm_weight(name):
    return name.endswith(("LayerNorm.weight", "layer_norm.weight"))


def init_fixture(shapes):
    """Fixture parameters, drawn in the order of `shapes` from the current torch seed: LayerNorm weights
    1 + 0.1·randn, everything else (biases included) 0.2·randn."""
    return {n: (1.0 + 0.1 * torch.randn(s)) if is_layer_norm_weight(n) else 0.2 * torch.randn(s)
            for n, s in shapes.items()}


def init_hf(shapes, std=0.02):
    """Hugging Face's RobertaPreTrainedModel._init_weights: Linear and Embedding weights N(0, std), biases 0,
    LayerNorm 1 and 0, the padding rows of the embeddings 0."""
    out = {}
    for n, s in shapes.items():
        if is_layer_norm_weight(n):
            out[n] = torch.ones(s)
        elif len(s) == 2:
            out[n] = torch.randn(s) * std
            if n.endswith(("word_embeddings.weight", "position_embeddings.weight")):
                out[n][PAD] = 0.0
        else:
            out[n] = torch.zeros(s)
    return out


def position_ids(ids):
    """Hugging Face's create_position_ids_from_input_ids (padding_idx 1, no past)."""
    mask = ids.ne(PAD).int()
    return (torch.cumsum(mask, dim=1).type_as(mask) * mask).long() + PAD


def encoder(w, cfg, ids, attention_mask, dropout=False, masks=None, token_type_ids=None, explicit_position_ids=None):
    """Final hidden states [B, T, H] of RobertaModel (no pooler). ids, attention_mask: [B, T] integer tensors;
    token_type_ids and explicit_position_ids, [B, T] too, replace type 0 and position_ids(ids) when given.
    `masks`, when given, replaces each dropout by a product with a given mask (0 or 1/(1-p)): "embeddings" [B, T, H],
    and per layer "attention" [B, heads, T, T] (on the probabilities), "attention_output" and "output" [B, T, H]."""
    b, t = ids.shape
    H, heads, eps = cfg["hidden_size"], cfg["num_attention_heads"], cfg["layer_norm_eps"]
    hd = H // heads
    p_hidden = cfg["hidden_dropout_prob"] if dropout else 0.0
    p_attn = cfg["attention_probs_dropout_prob"] if dropout else 0.0
    e = "roberta.embeddings."
    types = torch.zeros_like(ids) if token_type_ids is None else token_type_ids
    positions = position_ids(ids) if explicit_position_ids is None else explicit_position_ids
    x = (F.embedding(ids, w[e + "word_embeddings.weight"], padding_idx=PAD)
         + F.embedding(types, w[e + "token_type_embeddings.weight"])
         + F.embedding(positions, w[e + "position_embeddings.weight"], padding_idx=PAD))
    x = F.layer_norm(x, (H,), w[e + "LayerNorm.weight"], w[e + "LayerNorm.bias"], eps)

    def drop(z, p, key, layer=None):
        if masks is None:
            return F.dropout(z, p, dropout)
        return z * (masks[key] if layer is None else masks[key][layer])

    x = drop(x, p_hidden, "embeddings")
    additive = (1.0 - attention_mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
    for n in range(cfg["num_hidden_layers"]):
        p = lambda name: w[f"roberta.encoder.layer.{n}.{name}"]
        lin = lambda z, name: F.linear(z, p(name + ".weight"), p(name + ".bias"))
        q, k, v = [lin(x, "attention.self." + s).view(b, t, heads, hd).transpose(1, 2) for s in ("query", "key", "value")]
        att = (q @ k.transpose(-1, -2)) / math.sqrt(hd) + additive
        att = drop(att.softmax(dim=-1), p_attn, "attention", n)
        y = (att @ v).transpose(1, 2).reshape(b, t, H)
        y = drop(lin(y, "attention.output.dense"), p_hidden, "attention_output", n)
        x = F.layer_norm(x + y, (H,), p("attention.output.LayerNorm.weight"), p("attention.output.LayerNorm.bias"), eps)
        y = F.gelu(lin(x, "intermediate.dense"), approximate="none")
        y = drop(lin(y, "output.dense"), p_hidden, "output", n)
        x = F.layer_norm(x + y, (H,), p("output.LayerNorm.weight"), p("output.LayerNorm.bias"), eps)
    return x


def mlm_logits(w, cfg, hidden):
    """RobertaLMHead: dense, erf GELU, layer_norm, tied decoder (word_embeddings) + lm_head.bias. [B, T, V]."""
    y = F.gelu(F.linear(hidden, w["lm_head.dense.weight"], w["lm_head.dense.bias"]), approximate="none")
    y = F.layer_norm(y, (cfg["hidden_size"],), w["lm_head.layer_norm.weight"], w["lm_head.layer_norm.bias"],
                     cfg["layer_norm_eps"])
    decoder = w.get("lm_head.decoder.weight", w["roberta.embeddings.word_embeddings.weight"])
    return F.linear(y, decoder, w["lm_head.bias"])


def classification_logits(w, cfg, hidden, prefix, dropout=False):
    """RobertaClassificationHead under `prefix` ("classifier" or "sop_classifier") on the <s> position. [B, labels]."""
    p = cfg["hidden_dropout_prob"] if dropout else 0.0
    x = F.dropout(hidden[:, 0, :], p, dropout)
    x = torch.tanh(F.linear(x, w[prefix + ".dense.weight"], w[prefix + ".dense.bias"]))
    x = F.dropout(x, p, dropout)
    return F.linear(x, w[prefix + ".out_proj.weight"], w[prefix + ".out_proj.bias"])


# ---- safetensors, by hand -----------------------------------------------------------------------------------------

DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}


def write_safetensors(path, tensors, metadata={"format": "pt"}):
    """F32 tensors in sorted name order; header JSON padded with spaces to a multiple of 8."""
    header, offset, names = {"__metadata__": metadata}, 0, sorted(tensors)
    for name in names:
        size = tensors[name].numel() * 4
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + size]}
        offset += size
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text)
        for name in names:  # x86 is little-endian
            f.write(tensors[name].detach().to(torch.float32).contiguous().numpy().tobytes())


def read_safetensors(path):
    """{name: float32 tensor} from a safetensors file (F32, F16 or BF16 entries)."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        begin, end = e["data_offsets"]
        t = torch.frombuffer(bytearray(data[begin:end]), dtype=DTYPES[e["dtype"]]) if end > begin else torch.zeros(0)
        out[name] = t.float().view(e["shape"])
    return out
