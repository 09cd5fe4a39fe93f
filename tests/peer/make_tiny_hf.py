#!/usr/bin/python3
# make_tiny_hf.py: tiny random checkpoints in Hugging Face layout (config.json, *.safetensors,
# tokenizer.json) for llama, qwen2, qwen3 and hunyuan-dense, plus reference logits computed with
# Hugging Face SEMANTICS by a small independent torch implementation (below).
#
#   /usr/bin/python3 make_tiny_hf.py OUTDIR [--data LOWBIT_DATA]
#
# writes OUTDIR/tiny-{llama,qwen2,qwen3,hunyuan}/ each with
#   config.json tokenizer.json tokenizer_config.json generation_config.json
#   model.safetensors | model-0000K-of-0000N.safetensors + model.safetensors.index.json
#   ref_tokens.txt   64 token ids (BOS + 63 others), comma separated
#   ref_logits.bin   64 x vocab_size float32 LE: HF-semantics logits for those ids, positions 0..63
# and OUTDIR/stories260K/ref_{tokens.txt,logits.bin}: the same forward run on llama2.c's
# stories260K (LOWBIT_DATA), with Meta's interleaved RoPE, as llama2.c's run.c does.
#
# Why our own torch forward instead of transformers: it is not installed here, and an independent
# implementation written from the HF modeling code's semantics (rotate_half RoPE on the unpermuted
# q/k weights, repeat_kv GQA, qwen3 q/k RMSNorm before RoPE, hunyuan q/k RMSNorm after RoPE, q/k/v
# biases, tied head) checks the importer's q/k permutation and the runtime's graph at once.
#
# Everything is deterministic (fixed seeds), so the outputs are byte-identical on every run.
# Needs only numpy and torch (Debian python3-torch 1.13): safetensors are written by hand.
import argparse
import collections
import json
import math
import os
import re
import shutil
import struct
import sys

import numpy as np
import torch

N_REF_TOKENS = 64

# --- the four tiny architectures ------------------------------------------------------------
# Each one varies what an importer can get wrong: dtype, sharding, tied head, GQA, biases,
# explicit head_dim != hidden/heads, q/k norms, NTK-alpha RoPE, padded vocab.
ARCHS = {
    "llama": dict(
        config=dict(architectures=["LlamaForCausalLM"], model_type="llama",
                    hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                    num_attention_heads=4, num_key_value_heads=2, head_dim=16,
                    hidden_act="silu", max_position_embeddings=512, rms_norm_eps=1e-5,
                    rope_theta=10000.0, rope_scaling=None, attention_bias=False, mlp_bias=False,
                    tie_word_embeddings=False, bos_token_id=1, eos_token_id=2,
                    initializer_range=0.02, pretraining_tp=1, use_cache=True,
                    torch_dtype="float32", transformers_version="4.46.0"),
        dtype="F32", shards=2, tokenizer="spm", qkv_bias=False, qk_norm=None),
    "qwen2": dict(
        config=dict(architectures=["Qwen2ForCausalLM"], model_type="qwen2",
                    hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                    num_attention_heads=4, num_key_value_heads=2,
                    hidden_act="silu", max_position_embeddings=4096, max_window_layers=2,
                    sliding_window=4096, use_sliding_window=False, rms_norm_eps=1e-6,
                    rope_theta=1000000.0, attention_dropout=0.0, tie_word_embeddings=True,
                    initializer_range=0.02, use_cache=True,
                    torch_dtype="bfloat16", transformers_version="4.46.0"),
        dtype="BF16", shards=1, tokenizer="bpe", qkv_bias=True, qk_norm=None,
        pad_vocab_to=64),  # like Qwen: config vocab_size > tokenizer size (padding rows)
    "qwen3": dict(
        config=dict(architectures=["Qwen3ForCausalLM"], model_type="qwen3",
                    hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                    num_attention_heads=4, num_key_value_heads=2, head_dim=32,
                    hidden_act="silu", max_position_embeddings=4096, max_window_layers=2,
                    sliding_window=None, use_sliding_window=False, rms_norm_eps=1e-6,
                    rope_theta=1000000.0, rope_scaling=None, attention_bias=False,
                    attention_dropout=0.0, tie_word_embeddings=False,
                    initializer_range=0.02, use_cache=True,
                    torch_dtype="float16", transformers_version="4.51.0"),
        dtype="F16", shards=1, tokenizer="bpe", qkv_bias=False, qk_norm="pre_rope"),
    "hunyuan": dict(
        config=dict(architectures=["HunYuanDenseV1ForCausalLM"], model_type="hunyuan_v1_dense",
                    hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                    num_attention_heads=4, num_key_value_heads=2,
                    head_dim=16, attention_head_dim=16, hidden_act="silu",
                    max_position_embeddings=32768, rms_norm_eps=1e-5, rope_theta=10000.0,
                    rope_scaling=dict(alpha=1000.0, beta_fast=32, beta_slow=1, factor=1.0,
                                      mscale=1.0, mscale_all_dim=1.0, type="dynamic"),
                    attention_bias=False, mlp_bias=False, norm_type="rms", use_qk_norm=True,
                    use_cla=False, cla_share_factor=2, tie_word_embeddings=True,
                    initializer_range=0.02, use_cache=True,
                    torch_dtype="bfloat16", transformers_version="4.56.0"),
        dtype="BF16", shards=1, tokenizer="bpe", qkv_bias=False, qk_norm="post_rope"),
}

# --- safetensors writer (8-byte LE header length + JSON header + raw little-endian data) ------
TORCH_DTYPE = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}


def tensor_bytes(t, dtype):
    t = t.to(TORCH_DTYPE[dtype]).contiguous()
    if dtype == "BF16":  # numpy has no bfloat16: reinterpret the bits
        return t.view(torch.int16).numpy().astype("<i2").tobytes()
    return t.numpy().astype(t.numpy().dtype.newbyteorder("<")).tobytes()


def write_safetensors(path, tensors, dtype):
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name, t in tensors:
        b = tensor_bytes(t, dtype)
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    hjson = json.dumps(header, separators=(",", ":")).encode()
    hjson += b" " * (-len(hjson) % 8)  # data start aligned to 8, as the reference writer does
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for b in blobs:
            f.write(b)
    return offset


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write("\n")


# --- tokenizers --------------------------------------------------------------------------------
def bytes_to_unicode():
    # GPT-2's reversible byte -> printable unicode map (space -> 'Ġ', newline -> 'Ċ', ...)
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


# approximation of the Qwen2 pre-tokenizer with Python's re (no \p{L}); merges learned with it are
# valid BPE merges for any pre-tokenizer, which is all we need
PRETOK = re.compile(r"'s|'t|'re|'ve|'m|'ll|'d|[^\r\n\w]?[^\W\d_]+|\d| ?[^\s\w]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")

QWEN_PRETOKENIZER_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                           r"|\s*[\r\n]+|\s+(?!\S)|\s+")


def learn_bpe_merges(text, n_merges):
    b2u = bytes_to_unicode()
    words = collections.Counter(PRETOK.findall(text))
    corpus = [[tuple(b2u[b] for b in w.encode("utf-8")), c] for w, c in words.items()]
    merges = []
    for _ in range(n_merges):
        pairs = collections.Counter()
        for syms, c in corpus:
            for i in range(len(syms) - 1):
                pairs[syms[i], syms[i + 1]] += c
        if not pairs:
            break
        best = max(pairs.items(), key=lambda kv: (kv[1], kv[0]))[0]  # ties: deterministic
        merges.append(best)
        joined = best[0] + best[1]
        for item in corpus:
            syms = item[0]
            if len(syms) < 2:
                continue
            out, i = [], 0
            while i < len(syms):
                if i + 1 < len(syms) and syms[i] == best[0] and syms[i + 1] == best[1]:
                    out.append(joined)
                    i += 2
                else:
                    out.append(syms[i])
                    i += 1
            item[0] = tuple(out)
    return merges


def added_token(tid, content):
    return {"id": tid, "content": content, "single_word": False, "lstrip": False, "rstrip": False,
            "normalized": False, "special": True}


def build_bpe_tokenizer(text, n_merges, specials):
    """Byte-level BPE like Qwen2: 256 byte tokens (ids = byte values), merges, then specials."""
    b2u = bytes_to_unicode()
    vocab = {b2u[b]: b for b in range(256)}
    merges = learn_bpe_merges(text, n_merges)
    for a, b in merges:
        if a + b not in vocab:
            vocab[a + b] = len(vocab)
    added = []
    for s in specials:
        added.append(added_token(len(vocab) + len(added), s))
    tok = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": added,
        "normalizer": {"type": "NFC"},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": QWEN_PRETOKENIZER_REGEX}, "behavior": "Isolated", "invert": False},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}]},
        "post_processor": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False},
        "decoder": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False,
                  "ignore_merges": False, "vocab": vocab, "merges": [f"{a} {b}" for a, b in merges]},
    }
    n_vocab = len(vocab) + len(added)
    return tok, n_vocab, {t["content"]: t["id"] for t in added}


def read_llama2c_tokenizer(path, n_vocab):
    with open(path, "rb") as f:
        data = f.read()
    off, pieces, scores = 4, [], []
    for _ in range(n_vocab):
        score, n = struct.unpack_from("<fi", data, off)
        off += 8
        pieces.append(data[off:off + n].decode("utf-8"))
        scores.append(score)
        off += n
    return pieces, scores


def build_spm_tokenizer(tok512_path):
    """SentencePiece-style tokenizer.json (as HF ships for Llama 2): BPE with byte_fallback,
    '▁' for spaces, <unk> <s> </s> <0x00>..<0xFF> first, from llama2.c's tok512.bin."""
    pieces, scores = read_llama2c_tokenizer(tok512_path, 512)
    pieces[0:3] = ["<unk>", "<s>", "</s>"]  # llama2.c stores "\n<s>\n" etc.
    pieces = [p if i < 259 else p.replace(" ", "\u2581") for i, p in enumerate(pieces)]
    vocab = {p: i for i, p in enumerate(pieces)}
    # merges as HF's SpmConverter derives them: every split of a piece into two vocab pieces,
    # ordered by the merged piece's rank (its id, since scores descend with id), then by the parts
    merges = []
    for i, p in enumerate(pieces):
        if i < 259 or len(p) < 2:
            continue
        for k in range(1, len(p)):
            a, b = p[:k], p[k:]
            if a in vocab and b in vocab:
                merges.append((i, vocab[a], vocab[b], a, b))
    merges.sort()
    tok = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [added_token(0, "<unk>"), added_token(1, "<s>"), added_token(2, "</s>")],
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Prepend", "prepend": "\u2581"},
            {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]},
        "pre_tokenizer": None,
        "post_processor": {"type": "TemplateProcessing",
                           "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                                      {"Sequence": {"id": "A", "type_id": 0}}],
                           "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                                    {"Sequence": {"id": "A", "type_id": 0}},
                                    {"SpecialToken": {"id": "<s>", "type_id": 1}},
                                    {"Sequence": {"id": "B", "type_id": 1}}],
                           "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}},
        "decoder": {"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "},
            {"type": "ByteFallback"}, {"type": "Fuse"},
            {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
        "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": True,
                  "ignore_merges": False, "vocab": vocab, "merges": [f"{a} {b}" for _, _, _, a, b in merges]},
    }
    return tok, len(pieces)


# --- weights -----------------------------------------------------------------------------------
def hf_tensor_shapes(cfg, spec):
    """(name, shape, kind) in HF naming; kind picks the init."""
    H, F, L = cfg["hidden_size"], cfg["intermediate_size"], cfg["num_hidden_layers"]
    nh, nkv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd = cfg.get("head_dim") or H // nh
    V = cfg["vocab_size"]
    out = [("model.embed_tokens.weight", (V, H), "embed")]
    for i in range(L):
        p = f"model.layers.{i}."
        out += [(p + "input_layernorm.weight", (H,), "norm"),
                (p + "self_attn.q_proj.weight", (nh * hd, H), "linear"),
                (p + "self_attn.k_proj.weight", (nkv * hd, H), "linear"),
                (p + "self_attn.v_proj.weight", (nkv * hd, H), "linear")]
        if spec["qkv_bias"]:
            out += [(p + "self_attn.q_proj.bias", (nh * hd,), "bias"),
                    (p + "self_attn.k_proj.bias", (nkv * hd,), "bias"),
                    (p + "self_attn.v_proj.bias", (nkv * hd,), "bias")]
        if spec["qk_norm"] == "pre_rope":  # qwen3 names
            out += [(p + "self_attn.q_norm.weight", (hd,), "norm"), (p + "self_attn.k_norm.weight", (hd,), "norm")]
        if spec["qk_norm"] == "post_rope":  # hunyuan names
            out += [(p + "self_attn.query_layernorm.weight", (hd,), "norm"),
                    (p + "self_attn.key_layernorm.weight", (hd,), "norm")]
        out += [(p + "self_attn.o_proj.weight", (H, nh * hd), "linear"),
                (p + "post_attention_layernorm.weight", (H,), "norm"),
                (p + "mlp.gate_proj.weight", (F, H), "linear"),
                (p + "mlp.up_proj.weight", (F, H), "linear"),
                (p + "mlp.down_proj.weight", (H, F), "linear")]
    out.append(("model.norm.weight", (H,), "norm"))
    if not cfg["tie_word_embeddings"]:
        out.append(("lm_head.weight", (V, H), "linear"))
    return out


def make_weights(cfg, spec, seed):
    g = torch.Generator().manual_seed(seed)
    W = {}
    for name, shape, kind in hf_tensor_shapes(cfg, spec):
        x = torch.randn(shape, generator=g, dtype=torch.float32)
        if kind == "embed":  # small: a tied head then gives logits of a few units, not tens
            x = x * 0.3
        elif kind == "norm":
            x = 1.0 + 0.1 * x
        elif kind == "bias":
            x = 0.5 * x
        else:  # unit-variance outputs so that attention is far from uniform
            x = x / math.sqrt(shape[1])
        # round to the stored dtype now: the reference must see exactly the stored values
        W[name] = x.to(TORCH_DTYPE[spec["dtype"]]).to(torch.float64)
    return W


def write_weights(d, W, spec):
    names = list(W.keys())
    dtype = spec["dtype"]
    n = spec["shards"]
    if n == 1:
        write_safetensors(os.path.join(d, "model.safetensors"), [(k, W[k]) for k in names], dtype)
        return
    per = math.ceil(len(names) / n)
    weight_map, total = {}, 0
    for s in range(n):
        fname = f"model-{s + 1:05d}-of-{n:05d}.safetensors"
        part = names[s * per:(s + 1) * per]
        total += write_safetensors(os.path.join(d, fname), [(k, W[k]) for k in part], dtype)
        for k in part:
            weight_map[k] = fname
    write_json(os.path.join(d, "model.safetensors.index.json"),
               {"metadata": {"total_size": total}, "weight_map": weight_map})


# --- reference forward with Hugging Face semantics (float64) ------------------------------------
def rms_norm(x, w, eps):
    return x * torch.rsqrt((x * x).mean(-1, keepdim=True) + eps) * w


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def rope_interleaved(x, freqs):
    x0, x1 = x[..., 0::2], x[..., 1::2]
    c, s = freqs.cos()[None], freqs.sin()[None]
    return torch.stack((x0 * c - x1 * s, x0 * s + x1 * c), dim=-1).flatten(-2)


def rope_base(cfg):
    base = cfg["rope_theta"]
    rs = cfg.get("rope_scaling") or {}
    if cfg["model_type"] == "hunyuan_v1_dense" and rs.get("type") == "dynamic" and rs.get("alpha"):
        hd = cfg["head_dim"]  # HunYuan's DynamicNTKAlpha: base * alpha^(d/(d-2))
        base = base * rs["alpha"] ** (hd / (hd - 2))
    return base


def hf_forward(cfg, spec, W, tokens):
    H, L = cfg["hidden_size"], cfg["num_hidden_layers"]
    nh, nkv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd = cfg.get("head_dim") or H // nh
    eps = cfg["rms_norm_eps"]
    T = len(tokens)
    pos = torch.arange(T, dtype=torch.float64)
    inv_freq = 1.0 / (rope_base(cfg) ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
    freqs = torch.outer(pos, inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos()[None], emb.sin()[None]  # [1, T, hd]
    mask = torch.full((T, T), float("-inf"), dtype=torch.float64).triu(1)

    x = W["model.embed_tokens.weight"][torch.tensor(tokens)]
    for i in range(L):
        p = f"model.layers.{i}."
        h = rms_norm(x, W[p + "input_layernorm.weight"], eps)

        def proj(n):
            y = h @ W[p + f"self_attn.{n}_proj.weight"].T
            if spec["qkv_bias"]:
                y = y + W[p + f"self_attn.{n}_proj.bias"]
            return y
        q = proj("q").view(T, nh, hd).transpose(0, 1)  # [nh, T, hd]
        k = proj("k").view(T, nkv, hd).transpose(0, 1)
        v = proj("v").view(T, nkv, hd).transpose(0, 1)
        if spec["qk_norm"] == "pre_rope":  # Qwen3: per-head RMSNorm, then RoPE
            q = rms_norm(q, W[p + "self_attn.q_norm.weight"], eps)
            k = rms_norm(k, W[p + "self_attn.k_norm.weight"], eps)
        if spec.get("rope") == "interleaved":  # Meta/llama2.c layout: adjacent pairs (2i, 2i+1)
            q, k = rope_interleaved(q, freqs), rope_interleaved(k, freqs)
        else:  # HF layout: rotate_half pairs (i, i + hd/2)
            q = q * cos + rotate_half(q) * sin
            k = k * cos + rotate_half(k) * sin
        if spec["qk_norm"] == "post_rope":  # HunYuan: RoPE, then per-head RMSNorm
            q = rms_norm(q, W[p + "self_attn.query_layernorm.weight"], eps)
            k = rms_norm(k, W[p + "self_attn.key_layernorm.weight"], eps)
        rep = nh // nkv  # repeat_kv: query head j uses kv head j // rep
        k = k.repeat_interleave(rep, dim=0)
        v = v.repeat_interleave(rep, dim=0)
        att = (q @ k.transpose(1, 2)) / math.sqrt(hd) + mask
        att = torch.softmax(att, dim=-1)
        o = (att @ v).transpose(0, 1).reshape(T, nh * hd)
        x = x + o @ W[p + "self_attn.o_proj.weight"].T

        h = rms_norm(x, W[p + "post_attention_layernorm.weight"], eps)
        gate = h @ W[p + "mlp.gate_proj.weight"].T
        up = h @ W[p + "mlp.up_proj.weight"].T
        x = x + (torch.nn.functional.silu(gate) * up) @ W[p + "mlp.down_proj.weight"].T
    x = rms_norm(x, W["model.norm.weight"], eps)
    head = W["model.embed_tokens.weight"] if cfg["tie_word_embeddings"] else W["lm_head.weight"]
    return x @ head.T  # [T, V]


# --- llama2.c stories260K: the same forward on its weights (Meta layout, interleaved RoPE) ---------
def read_llama2c(path):
    with open(path, "rb") as f:
        data = f.read()
    dim, hidden, L, nh, nkv, vocab, seq = struct.unpack_from("<7i", data, 0)
    shared = vocab > 0
    V = abs(vocab)
    arr = np.frombuffer(data, dtype="<f4", offset=28)
    off = 0
    hd = dim // nh

    def take(*shape):
        nonlocal off
        n = int(np.prod(shape))
        t = torch.from_numpy(arr[off:off + n].astype(np.float64).reshape(shape))
        off += n
        return t
    emb = take(V, dim)
    rms_att = take(L, dim)
    wq, wk, wv, wo = take(L, dim, dim), take(L, nkv * hd, dim), take(L, nkv * hd, dim), take(L, dim, dim)
    rms_ffn = take(L, dim)
    w1, w2, w3 = take(L, hidden, dim), take(L, dim, hidden), take(L, hidden, dim)
    rms_final = take(dim)
    take(seq, hd // 2)  # freq_cis_real, freq_cis_imag: unused (recomputed)
    take(seq, hd // 2)
    wcls = emb if shared else take(V, dim)
    cfg = dict(model_type="llama", hidden_size=dim, intermediate_size=hidden, num_hidden_layers=L,
               num_attention_heads=nh, num_key_value_heads=nkv, head_dim=hd, rms_norm_eps=1e-5,
               rope_theta=10000.0, tie_word_embeddings=shared, vocab_size=V)
    W = {"model.embed_tokens.weight": emb, "model.norm.weight": rms_final}
    if not shared:
        W["lm_head.weight"] = wcls
    for i in range(L):
        p = f"model.layers.{i}."
        W.update({p + "input_layernorm.weight": rms_att[i], p + "self_attn.q_proj.weight": wq[i],
                  p + "self_attn.k_proj.weight": wk[i], p + "self_attn.v_proj.weight": wv[i],
                  p + "self_attn.o_proj.weight": wo[i], p + "post_attention_layernorm.weight": rms_ffn[i],
                  p + "mlp.gate_proj.weight": w1[i], p + "mlp.down_proj.weight": w2[i],
                  p + "mlp.up_proj.weight": w3[i]})
    return cfg, W


def make_stories_reference(outdir, bin_path, seed=4242):
    cfg, W = read_llama2c(bin_path)
    spec = dict(qkv_bias=False, qk_norm=None, rope="interleaved")
    tokens = ref_token_ids(seed, 1, 3, cfg["vocab_size"])
    logits = hf_forward(cfg, spec, W, tokens)
    d = os.path.join(outdir, "stories260K")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "ref_tokens.txt"), "w") as f:
        f.write(",".join(str(t) for t in tokens) + "\n")
    tmp = os.path.join(d, "ref_logits.bin.tmp")
    logits.to(torch.float32).numpy().astype("<f4").tofile(tmp)
    os.replace(tmp, os.path.join(d, "ref_logits.bin"))
    print(f"make_tiny_hf: {d}: llama2.c reference, max|logit|={logits.abs().max().item():.3f}")


# --- assembling one checkpoint dir ---------------------------------------------------------------
def ref_token_ids(seed, bos, lo, hi):
    """BOS + 63 ids drawn from the ordinary (non-special) range [lo, hi)."""
    g = torch.Generator().manual_seed(seed)
    return [bos] + torch.randint(lo, hi, (N_REF_TOKENS - 1,), generator=g).tolist()


def make_checkpoint(outdir, arch, spec, data_dir, shakespeare, seed):
    cfg = dict(spec["config"])
    d = os.path.join(outdir, f"tiny-{arch}")
    tmp = d + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)

    if spec["tokenizer"] == "spm":
        tok, n_tok = build_spm_tokenizer(os.path.join(data_dir, "stories260K", "tok512.bin"))
        bos, eos = 1, 2
        tok_cfg = {"add_bos_token": True, "add_eos_token": False, "bos_token": "<s>", "eos_token": "</s>",
                   "unk_token": "<unk>", "pad_token": None, "clean_up_tokenization_spaces": False,
                   "legacy": True, "model_max_length": cfg["max_position_embeddings"],
                   "tokenizer_class": "LlamaTokenizer"}
        lo = 3
    else:
        if arch == "hunyuan":
            specials = ["<|startoftext|>", "<|endoftext|>", "<|pad|>", "<|extra_0|>"]
        else:
            specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
        tok, n_tok, sid = build_bpe_tokenizer(shakespeare, 320, specials)
        if arch == "hunyuan":
            bos, eos = sid["<|startoftext|>"], sid["<|endoftext|>"]
            cfg.update(bos_token_id=bos, eos_token_id=eos, eod_token_id=eos, pad_token_id=sid["<|pad|>"])
            tok_cfg = {"add_bos_token": True, "add_eos_token": False, "bos_token": "<|startoftext|>",
                       "eos_token": "<|endoftext|>", "pad_token": "<|pad|>",
                       "model_max_length": cfg["max_position_embeddings"],
                       "tokenizer_class": "PreTrainedTokenizerFast"}
        else:
            bos = eos = sid["<|endoftext|>"]
            cfg.update(bos_token_id=bos, eos_token_id=eos)
            tok_cfg = {"add_prefix_space": False, "bos_token": None, "eos_token": "<|endoftext|>",
                       "pad_token": "<|endoftext|>", "errors": "replace", "split_special_tokens": False,
                       "model_max_length": cfg["max_position_embeddings"], "tokenizer_class": "Qwen2Tokenizer"}
        lo = 0
    pad = spec.get("pad_vocab_to", 1)
    cfg["vocab_size"] = (n_tok + pad - 1) // pad * pad
    # ordinary tokens: spm ids 3.. (after <unk> <s> </s>); bpe ids below the added specials
    hi = n_tok if spec["tokenizer"] == "spm" else n_tok - len(tok["added_tokens"])

    W = make_weights(cfg, spec, seed)
    write_weights(tmp, W, spec)
    write_json(os.path.join(tmp, "config.json"), cfg)
    write_json(os.path.join(tmp, "tokenizer.json"), tok)
    write_json(os.path.join(tmp, "tokenizer_config.json"), tok_cfg)
    write_json(os.path.join(tmp, "generation_config.json"),
               {"bos_token_id": bos, "eos_token_id": eos, "do_sample": False})

    tokens = ref_token_ids(seed + 1, bos, lo, hi)
    logits = hf_forward(cfg, spec, W, tokens)
    with open(os.path.join(tmp, "ref_tokens.txt"), "w") as f:
        f.write(",".join(str(t) for t in tokens) + "\n")
    logits.to(torch.float32).numpy().astype("<f4").tofile(os.path.join(tmp, "ref_logits.bin"))

    shutil.rmtree(d, ignore_errors=True)
    os.rename(tmp, d)
    amax = logits.abs().max().item()
    print(f"make_tiny_hf: {d}: {spec['dtype']} vocab {cfg['vocab_size']} (tokenizer {n_tok}) "
          f"tied={cfg['tie_word_embeddings']} max|logit|={amax:.3f}")


def main():
    ap = argparse.ArgumentParser(description="tiny random HF checkpoints + HF-semantics reference logits")
    ap.add_argument("outdir")
    ap.add_argument("--data", default=os.environ.get("LOWBIT_DATA", ""))
    ap.add_argument("--only", default="", help="comma list of archs (default all)")
    args = ap.parse_args()
    if not args.data:
        sys.exit("make_tiny_hf: set --data or LOWBIT_DATA")
    with open(os.path.join(args.data, "text", "tinyshakespeare.txt"), encoding="utf-8") as f:
        shakespeare = f.read(60000)  # enough for a few hundred frequent merges, and fast
    torch.set_num_threads(1)
    os.makedirs(args.outdir, exist_ok=True)
    only = [a for a in args.only.split(",") if a]
    for i, (arch, spec) in enumerate(ARCHS.items()):
        if only and arch not in only:
            continue
        make_checkpoint(args.outdir, arch, spec, args.data, shakespeare, seed=1000 + 17 * i)
    if not only or "stories260K" in only:
        make_stories_reference(args.outdir, os.path.join(args.data, "stories260K", "stories260K.bin"))


if __name__ == "__main__":
    main()
