#!/usr/bin/python3
"""ELECTRA written out by hand in PyTorch, independent of jgpt: the model shared by make_electra_fixture.py,
check_electra.py and bench/python/torch_electra_rtd_train_speed.py (which imports it through a sys.path insert).
Not a script; nothing to run.

Follows Hugging Face's modeling_electra (transformers is not installed here), parameters kept in a dict under Hugging
Face's tensor names, Linear weights in nn.Linear layout [out, in] (y = x Wᵀ + b):
- ElectraEmbeddings: word_embeddings (padding_idx pad_token_id: the lookup gives that row no gradient) +
  token_type_embeddings[0] + position_embeddings at positions 0, 1, ..., T-1 whatever the padding (no RoBERTa offset),
  each embedding_size wide; LayerNorm; dropout;
- ElectraModel: embeddings_project (Linear embedding_size -> hidden_size) when the two differ, then BERT's post-LN
  layers under electra.encoder.layer.N (as roberta_reference.py's, eps 1e-12): scores q kᵀ / sqrt(head_dim) plus
  finfo(float32).min on padded keys; no pooler;
- ElectraForMaskedLM (the generator): generator_predictions.dense (hidden -> embedding), exact GELU (whatever
  hidden_act), generator_predictions.LayerNorm, then generator_lm_head: the word embeddings (tied) plus
  generator_lm_head.bias;
- ElectraForPreTraining (the discriminator): discriminator_predictions.dense (hidden -> hidden), hidden_act,
  discriminator_predictions.dense_prediction (hidden -> 1), one logit per token; BCE with logits over the tokens with
  attention mask 1;
- ElectraForSequenceClassification (fine-tuning): ElectraClassificationHead on the first token's final hidden state,
  dropout, classifier.dense (hidden -> hidden), exact GELU (whatever hidden_act: the head asks for "gelu" by name),
  dropout, classifier.out_proj (hidden -> num_labels); cross-entropy over the sequences.
Replaced-token detection (Clark et al. 2020): generator and discriminator share electra.embeddings.* (one tensor each);
loss = the generator's masked-LM cross-entropy + λ × the discriminator's BCE, the replacements sampled from the
generator without gradient. Safetensors by roberta_reference.py's read_safetensors / write_safetensors.
"""
import math

import torch
import torch.nn.functional as F

# The keys of the ELECTRA config.json that jgpt writes (model_type "electra"; google/electra-small-*'s keys plus
# position_embedding_type and torch_dtype).
CONFIG_KEYS = ("architectures", "attention_probs_dropout_prob", "embedding_size", "hidden_act", "hidden_dropout_prob",
               "hidden_size", "initializer_range", "intermediate_size", "layer_norm_eps", "max_position_embeddings",
               "model_type", "num_attention_heads", "num_hidden_layers", "pad_token_id", "position_embedding_type",
               "torch_dtype", "type_vocab_size", "vocab_size")

GENERATOR_FOLDER = "generator"


def electra_config(architecture, vocab_size, embedding_size, hidden_size, num_hidden_layers, num_attention_heads,
                   intermediate_size, max_position_embeddings, pad_token_id=1, **extra):
    """A config.json dict in Hugging Face's ELECTRA form (sorted keys, as save_pretrained writes them)."""
    cfg = dict(architectures=[architecture], attention_probs_dropout_prob=0.1, embedding_size=embedding_size,
               hidden_act="gelu", hidden_dropout_prob=0.1, hidden_size=hidden_size, initializer_range=0.02,
               intermediate_size=intermediate_size, layer_norm_eps=1e-12,
               max_position_embeddings=max_position_embeddings, model_type="electra",
               num_attention_heads=num_attention_heads, num_hidden_layers=num_hidden_layers, pad_token_id=pad_token_id,
               position_embedding_type="absolute", torch_dtype="float32", type_vocab_size=2, vocab_size=vocab_size)
    cfg.update(extra)
    return dict(sorted(cfg.items()))


def generator_config(discriminator, width_ratio):
    """The ELECTRA paper's generator of a discriminator config: hidden size, feed-forward size and heads times
    width_ratio (at least one head), the same depth and embeddings; as jgpt's ElectraConfig.generator."""
    hidden = round(discriminator["hidden_size"] * width_ratio)
    return electra_config("ElectraForMaskedLM", discriminator["vocab_size"], discriminator["embedding_size"], hidden,
                          discriminator["num_hidden_layers"],
                          max(1, round(discriminator["num_attention_heads"] * width_ratio)),
                          round(discriminator["intermediate_size"] * width_ratio),
                          discriminator["max_position_embeddings"], discriminator["pad_token_id"])


def embedding_shapes(cfg):
    """electra.embeddings.*: what the generator and the discriminator share."""
    V, E, e = cfg["vocab_size"], cfg["embedding_size"], "electra.embeddings."
    return {e + "word_embeddings.weight": (V, E), e + "position_embeddings.weight": (cfg["max_position_embeddings"], E),
            e + "token_type_embeddings.weight": (cfg["type_vocab_size"], E), e + "LayerNorm.weight": (E,),
            e + "LayerNorm.bias": (E,)}


def parameter_shapes(cfg, head):
    """Hugging Face names and shapes of ElectraModel plus `head`: "generator" (ElectraForMaskedLM, without the tied
    generator_lm_head.weight), "discriminator" (ElectraForPreTraining) or "classifier"
    (ElectraForSequenceClassification, as many labels as cfg["id2label"])."""
    V, E, H, I = cfg["vocab_size"], cfg["embedding_size"], cfg["hidden_size"], cfg["intermediate_size"]
    shapes = embedding_shapes(cfg)
    if E != H:
        shapes.update({"electra.embeddings_project.weight": (H, E), "electra.embeddings_project.bias": (H,)})
    for n in range(cfg["num_hidden_layers"]):
        p = f"electra.encoder.layer.{n}."
        for lin in ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"):
            shapes.update({p + lin + ".weight": (H, H), p + lin + ".bias": (H,)})
        shapes.update({p + "attention.output.LayerNorm.weight": (H,), p + "attention.output.LayerNorm.bias": (H,),
                       p + "intermediate.dense.weight": (I, H), p + "intermediate.dense.bias": (I,),
                       p + "output.dense.weight": (H, I), p + "output.dense.bias": (H,),
                       p + "output.LayerNorm.weight": (H,), p + "output.LayerNorm.bias": (H,)})
    if head == "generator":
        shapes.update({"generator_predictions.dense.weight": (E, H), "generator_predictions.dense.bias": (E,),
                       "generator_predictions.LayerNorm.weight": (E,), "generator_predictions.LayerNorm.bias": (E,),
                       "generator_lm_head.bias": (V,)})
    elif head == "discriminator":
        shapes.update({"discriminator_predictions.dense.weight": (H, H), "discriminator_predictions.dense.bias": (H,),
                       "discriminator_predictions.dense_prediction.weight": (1, H),
                       "discriminator_predictions.dense_prediction.bias": (1,)})
    elif head == "classifier":
        labels = len(cfg["id2label"])
        shapes.update({"classifier.dense.weight": (H, H), "classifier.dense.bias": (H,),
                       "classifier.out_proj.weight": (labels, H), "classifier.out_proj.bias": (labels,)})
    else:
        raise ValueError(head)
    return shapes


def init_hf(shapes, pad_token_id, std=0.02):
    """Hugging Face's ElectraPreTrainedModel._init_weights: Linear and Embedding weights N(0, std), biases 0,
    LayerNorm 1 and 0, the word embeddings' padding row 0 (the position table has no padding row in ELECTRA)."""
    out = {}
    for n, s in shapes.items():
        if n.endswith("LayerNorm.weight"):
            out[n] = torch.ones(s)
        elif len(s) == 2:
            out[n] = torch.randn(s) * std
            if n.endswith("word_embeddings.weight"):
                out[n][pad_token_id] = 0.0
        else:
            out[n] = torch.zeros(s)
    return out


def activation(cfg, x):
    return F.gelu(x, approximate="none" if cfg["hidden_act"] == "gelu" else "tanh")


def encoder(w, cfg, ids, attention_mask, dropout=False):
    """Final hidden states [B, T, H] of ElectraModel. ids, attention_mask: [B, T] integer tensors."""
    b, t = ids.shape
    E, H, heads, eps = cfg["embedding_size"], cfg["hidden_size"], cfg["num_attention_heads"], cfg["layer_norm_eps"]
    hd = H // heads
    p_hidden = cfg["hidden_dropout_prob"] if dropout else 0.0
    p_attn = cfg["attention_probs_dropout_prob"] if dropout else 0.0
    e = "electra.embeddings."
    positions = torch.arange(t)[None, :].expand(b, t)
    x = (F.embedding(ids, w[e + "word_embeddings.weight"], padding_idx=cfg["pad_token_id"])
         + F.embedding(torch.zeros_like(ids), w[e + "token_type_embeddings.weight"])
         + F.embedding(positions, w[e + "position_embeddings.weight"]))
    x = F.layer_norm(x, (E,), w[e + "LayerNorm.weight"], w[e + "LayerNorm.bias"], eps)
    x = F.dropout(x, p_hidden, dropout)
    if "electra.embeddings_project.weight" in w:
        x = F.linear(x, w["electra.embeddings_project.weight"], w["electra.embeddings_project.bias"])
    additive = (1.0 - attention_mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
    for n in range(cfg["num_hidden_layers"]):
        p = lambda name: w[f"electra.encoder.layer.{n}.{name}"]
        lin = lambda z, name: F.linear(z, p(name + ".weight"), p(name + ".bias"))
        q, k, v = [lin(x, "attention.self." + s).view(b, t, heads, hd).transpose(1, 2) for s in ("query", "key", "value")]
        att = (q @ k.transpose(-1, -2)) / math.sqrt(hd) + additive
        att = F.dropout(att.softmax(dim=-1), p_attn, dropout)
        y = (att @ v).transpose(1, 2).reshape(b, t, H)
        y = F.dropout(lin(y, "attention.output.dense"), p_hidden, dropout)
        x = F.layer_norm(x + y, (H,), p("attention.output.LayerNorm.weight"), p("attention.output.LayerNorm.bias"), eps)
        y = activation(cfg, lin(x, "intermediate.dense"))
        y = F.dropout(lin(y, "output.dense"), p_hidden, dropout)
        x = F.layer_norm(x + y, (H,), p("output.LayerNorm.weight"), p("output.LayerNorm.bias"), eps)
    return x


def generator_logits(w, cfg, hidden):
    """ElectraForMaskedLM's head: dense, exact GELU, LayerNorm, tied word embeddings + generator_lm_head.bias."""
    y = F.gelu(F.linear(hidden, w["generator_predictions.dense.weight"], w["generator_predictions.dense.bias"]),
               approximate="none")
    y = F.layer_norm(y, (cfg["embedding_size"],), w["generator_predictions.LayerNorm.weight"],
                     w["generator_predictions.LayerNorm.bias"], cfg["layer_norm_eps"])
    decoder = w.get("generator_lm_head.weight", w["electra.embeddings.word_embeddings.weight"])
    return F.linear(y, decoder, w["generator_lm_head.bias"])


def discriminator_logits(w, cfg, hidden):
    """ElectraForPreTraining's head: dense, hidden_act, dense_prediction; one logit per token [B, T]."""
    y = activation(cfg, F.linear(hidden, w["discriminator_predictions.dense.weight"],
                                 w["discriminator_predictions.dense.bias"]))
    return F.linear(y, w["discriminator_predictions.dense_prediction.weight"],
                    w["discriminator_predictions.dense_prediction.bias"]).squeeze(-1)


def classification_logits(w, cfg, hidden, dropout=False):
    """ElectraForSequenceClassification's head on the first token: dropout, dense, exact GELU, dropout, out_proj;
    [B, num_labels]."""
    p = cfg["hidden_dropout_prob"] if dropout else 0.0
    x = F.dropout(hidden[:, 0, :], p, dropout)
    x = F.gelu(F.linear(x, w["classifier.dense.weight"], w["classifier.dense.bias"]), approximate="none")
    x = F.dropout(x, p, dropout)
    return F.linear(x, w["classifier.out_proj.weight"], w["classifier.out_proj.bias"])


def discriminator_loss(logits, replaced, attention_mask):
    """ElectraForPreTraining's loss: BCEWithLogits over the positions with attention mask 1."""
    active = attention_mask == 1
    return F.binary_cross_entropy_with_logits(logits[active], replaced[active].float())


def sample(logits, generator=None):
    """One token per row of `logits` [N, V] from its softmax (temperature 1), without gradient."""
    with torch.no_grad():
        return torch.multinomial(logits.softmax(dim=-1), 1, generator=generator).squeeze(-1)
