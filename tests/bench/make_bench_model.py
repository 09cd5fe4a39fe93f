#!/usr/bin/python3
# make_bench_model.py: a random-weight Llama checkpoint in Hugging Face layout for benchmarks
# (default: the 125M shape of REFERENCE.md §6: dim 768, 12 layers, ffn 2048, 12 heads, 4 kv
# heads, vocab 32000), F16 safetensors, with a SentencePiece-style tokenizer.json whose pieces
# come from a real Llama vocabulary GGUF (shared/data/vocab/ggml-vocab-llama-spm.gguf).
#
#   /usr/bin/python3 make_bench_model.py OUTDIR --vocab-gguf FILE [--dim 768 --layers 12 ...]
#
# Only numpy: safetensors and the few GGUF fields we need are read/written by hand.
import argparse
import json
import os
import shutil
import struct

import numpy as np


# --- just enough GGUF to read tokenizer.ggml.tokens ------------------------------------------
GGUF_SCALAR = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}


def read_gguf_tokens(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"GGUF":
        raise SystemExit(f"{path}: not a GGUF file")
    off = 8
    _n_tensors, n_kv = struct.unpack_from("<QQ", data, off)
    off += 16

    def string():
        nonlocal off
        (n,) = struct.unpack_from("<Q", data, off)
        s = data[off + 8:off + 8 + n].decode("utf-8")
        off += 8 + n
        return s

    def value(t):
        nonlocal off
        if t == 8:
            return string()
        if t == 9:
            et, n = struct.unpack_from("<IQ", data, off)
            off += 12
            return [value(et) for _ in range(n)]
        fmt = GGUF_SCALAR[t]
        (v,) = struct.unpack_from(fmt, data, off)
        off += struct.calcsize(fmt)
        return v
    for _ in range(n_kv):
        key = string()
        (t,) = struct.unpack_from("<I", data, off)
        off += 4
        v = value(t)
        if key == "tokenizer.ggml.tokens":
            return v
    raise SystemExit(f"{path}: no tokenizer.ggml.tokens")


def spm_tokenizer_json(pieces):
    """HF tokenizer.json for a SentencePiece BPE vocab (ids 0..2 = <unk> <s> </s>, then
    <0x00>..<0xFF>, then pieces in merge-rank order, as Llama's)."""
    vocab = {p: i for i, p in enumerate(pieces)}
    merges = []
    for i, p in enumerate(pieces):
        if i < 259 or len(p) < 2:
            continue
        for k in range(1, len(p)):
            a, b = p[:k], p[k:]
            if a in vocab and b in vocab:
                merges.append((i, vocab[a], vocab[b], f"{a} {b}"))
    merges.sort()

    def added(i, s):
        return {"id": i, "content": s, "single_word": False, "lstrip": False, "rstrip": False,
                "normalized": False, "special": True}
    return {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [added(0, pieces[0]), added(1, pieces[1]), added(2, pieces[2])],
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Prepend", "prepend": "\u2581"},
            {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]},
        "pre_tokenizer": None,
        "post_processor": {"type": "TemplateProcessing",
                           "single": [{"SpecialToken": {"id": pieces[1], "type_id": 0}},
                                      {"Sequence": {"id": "A", "type_id": 0}}],
                           "pair": [{"SpecialToken": {"id": pieces[1], "type_id": 0}},
                                    {"Sequence": {"id": "A", "type_id": 0}},
                                    {"SpecialToken": {"id": pieces[1], "type_id": 1}},
                                    {"Sequence": {"id": "B", "type_id": 1}}],
                           "special_tokens": {pieces[1]: {"id": pieces[1], "ids": [1], "tokens": [pieces[1]]}}},
        "decoder": {"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "},
            {"type": "ByteFallback"}, {"type": "Fuse"},
            {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
        "model": {"type": "BPE", "dropout": None, "unk_token": pieces[0], "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": True,
                  "ignore_merges": False, "vocab": vocab, "merges": [m[3] for m in merges]},
    }


def main():
    ap = argparse.ArgumentParser(description="random-weight Llama HF checkpoint for benchmarks")
    ap.add_argument("outdir")
    ap.add_argument("--vocab-gguf", required=True)
    ap.add_argument("--dim", type=int, default=768)
    ap.add_argument("--layers", type=int, default=12)
    ap.add_argument("--ffn", type=int, default=2048)
    ap.add_argument("--heads", type=int, default=12)
    ap.add_argument("--kv-heads", type=int, default=4)
    ap.add_argument("--seed", type=int, default=125)
    a = ap.parse_args()

    pieces = read_gguf_tokens(a.vocab_gguf)
    V, D, F, L, nh, nkv = len(pieces), a.dim, a.ffn, a.layers, a.heads, a.kv_heads
    hd = D // nh
    rng = np.random.default_rng(a.seed)
    shapes = [("model.embed_tokens.weight", (V, D))]
    for i in range(L):
        p = f"model.layers.{i}."
        shapes += [(p + "input_layernorm.weight", (D,)), (p + "self_attn.q_proj.weight", (nh * hd, D)),
                   (p + "self_attn.k_proj.weight", (nkv * hd, D)), (p + "self_attn.v_proj.weight", (nkv * hd, D)),
                   (p + "self_attn.o_proj.weight", (D, nh * hd)), (p + "post_attention_layernorm.weight", (D,)),
                   (p + "mlp.gate_proj.weight", (F, D)), (p + "mlp.up_proj.weight", (F, D)),
                   (p + "mlp.down_proj.weight", (D, F))]
    shapes += [("model.norm.weight", (D,)), ("lm_head.weight", (V, D))]

    tmp = a.outdir.rstrip("/") + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    header, offset = {"__metadata__": {"format": "pt"}}, 0
    for name, shape in shapes:
        n = int(np.prod(shape)) * 2
        header[name] = {"dtype": "F16", "shape": list(shape), "data_offsets": [offset, offset + n]}
        offset += n
    hjson = json.dumps(header, separators=(",", ":")).encode()
    hjson += b" " * (-len(hjson) % 8)
    n_params = 0
    with open(os.path.join(tmp, "model.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for name, shape in shapes:
            if len(shape) == 1:
                x = 1.0 + 0.1 * rng.standard_normal(shape, dtype=np.float32)
            else:
                x = rng.standard_normal(shape, dtype=np.float32) * (1.0 / np.sqrt(shape[1]))
            f.write(x.astype("<f2").tobytes())
            n_params += x.size
    cfg = dict(architectures=["LlamaForCausalLM"], model_type="llama", hidden_size=D, intermediate_size=F,
               num_hidden_layers=L, num_attention_heads=nh, num_key_value_heads=nkv, head_dim=hd,
               hidden_act="silu", max_position_embeddings=2048, rms_norm_eps=1e-5, rope_theta=10000.0,
               tie_word_embeddings=False, vocab_size=V, bos_token_id=1, eos_token_id=2,
               torch_dtype="float16")
    with open(os.path.join(tmp, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    with open(os.path.join(tmp, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(spm_tokenizer_json(pieces), f, ensure_ascii=False)
    with open(os.path.join(tmp, "tokenizer_config.json"), "w") as f:
        json.dump({"add_bos_token": True, "add_eos_token": False, "bos_token": pieces[1],
                   "eos_token": pieces[2], "unk_token": pieces[0], "tokenizer_class": "LlamaTokenizer"}, f)
    shutil.rmtree(a.outdir, ignore_errors=True)
    os.rename(tmp, a.outdir)
    print(f"make_bench_model: {a.outdir}: llama {n_params / 1e6:.1f}M params, F16, vocab {V}")


if __name__ == "__main__":
    main()
