#!/usr/bin/env python3
"""ref_train_step.py DIR: the PyTorch (autograd, float64) reference of one training step.

test_train_model.c dumps a tiny model to DIR: config.json (hyper-parameters, the parameter
table in GGUF naming/orientation, batch shape), one raw little-endian float32 file per
parameter (row-major: GGUF ne[0] is the fastest dimension, so a 2-D weight is (out, in)),
tokens.i32 and targets.i32 (B*T each; target -1 = ignored). This script builds the same
model independently of the C code -- Hugging Face semantics written with torch ops (angles
in float64, rotate pairs or halves, repeat_interleave for GQA, F.cross_entropy with
ignore_index) -- and writes loss.f64 (one float64) and NAME.grad.f64 per parameter.
Exit 77 when torch is missing (the C test then skips).
"""
import json
import math
import os
import sys

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except ImportError as e:  # pragma: no cover
    print(f"ref_train_step.py: {e}; skipping", file=sys.stderr)
    sys.exit(77)

torch.set_default_dtype(torch.float64)


def rmsnorm(x, w, eps):
    return x * torch.rsqrt((x * x).mean(-1, keepdim=True) + eps) * w


def rope(x, base, style):
    """x is (B, T, H, D); position of (b, t) is t. style 0: adjacent pairs, 1: NEOX halves."""
    B, T, H, D = x.shape
    half = D // 2
    i = torch.arange(half, dtype=torch.float64)
    theta = torch.arange(T, dtype=torch.float64)[:, None] * base ** (-2.0 * i / D)  # (T, half)
    cos, sin = theta.cos()[None, :, None, :], theta.sin()[None, :, None, :]
    if style == 0:
        x0, x1 = x[..., 0::2], x[..., 1::2]
        return torch.stack([x0 * cos - x1 * sin, x0 * sin + x1 * cos], dim=-1).flatten(-2)
    x0, x1 = x[..., :half], x[..., half:]
    return torch.cat([x0 * cos - x1 * sin, x0 * sin + x1 * cos], dim=-1)


def attention(q, k, v, n_head, n_head_kv, hd):
    B, T, _ = q.shape
    q = q.view(B, T, n_head, hd).transpose(1, 2)
    k = k.view(B, T, n_head_kv, hd).transpose(1, 2).repeat_interleave(n_head // n_head_kv, dim=1)
    v = v.view(B, T, n_head_kv, hd).transpose(1, 2).repeat_interleave(n_head // n_head_kv, dim=1)
    s = q @ k.transpose(-1, -2) / math.sqrt(hd)
    mask = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
    p = torch.softmax(s.masked_fill(mask, float("-inf")), dim=-1)
    return (p @ v).transpose(1, 2).reshape(B, T, n_head * hd)


def main():
    d = sys.argv[1]
    cfg = json.load(open(os.path.join(d, "config.json")))
    B, T = cfg["B"], cfg["T"]
    V, C, L = cfg["n_vocab"], cfg["n_embd"], cfg["n_layer"]
    NH, NKV, HD = cfg["n_head"], cfg["n_head_kv"], cfg["head_dim"]
    eps, base, style, qk_norm = cfg["norm_eps"], cfg["rope_base"], cfg["rope_style"], cfg["qk_norm"]
    P = {}
    for p in cfg["params"]:
        a = np.fromfile(os.path.join(d, p["name"] + ".f32"), dtype="<f4").astype(np.float64)
        shape = (p["ne1"], p["ne0"]) if p["n_dims"] == 2 else (p["ne0"],)
        P[p["name"]] = torch.tensor(a.reshape(shape), requires_grad=True)
    tokens = torch.tensor(np.fromfile(os.path.join(d, "tokens.i32"), dtype="<i4").astype(np.int64)).view(B, T)
    targets = torch.tensor(np.fromfile(os.path.join(d, "targets.i32"), dtype="<i4").astype(np.int64)).view(B, T)

    def lin(x, name, bias=None):
        y = x @ P[name].t()
        return y + P[bias] if bias is not None and bias in P else y

    x = P["token_embd.weight"][tokens]  # (B, T, C)
    for l in range(L):
        b = f"blk.{l}."
        h = rmsnorm(x, P[b + "attn_norm.weight"], eps)
        q = lin(h, b + "attn_q.weight", b + "attn_q.bias").view(B, T, NH, HD)
        k = lin(h, b + "attn_k.weight", b + "attn_k.bias").view(B, T, NKV, HD)
        v = lin(h, b + "attn_v.weight", b + "attn_v.bias")
        if qk_norm == 1:  # qwen3: norm then rope
            q = rope(rmsnorm(q, P[b + "attn_q_norm.weight"], eps), base, style)
            k = rope(rmsnorm(k, P[b + "attn_k_norm.weight"], eps), base, style)
        elif qk_norm == 2:  # hunyuan-dense: rope then norm
            q = rmsnorm(rope(q, base, style), P[b + "attn_q_norm.weight"], eps)
            k = rmsnorm(rope(k, base, style), P[b + "attn_k_norm.weight"], eps)
        else:
            q, k = rope(q, base, style), rope(k, base, style)
        a = attention(q.reshape(B, T, NH * HD), k.reshape(B, T, NKV * HD), v, NH, NKV, HD)
        x = x + lin(a, b + "attn_output.weight")
        h = rmsnorm(x, P[b + "ffn_norm.weight"], eps)
        x = x + lin(F.silu(lin(h, b + "ffn_gate.weight")) * lin(h, b + "ffn_up.weight"), b + "ffn_down.weight")
    h = rmsnorm(x, P["output_norm.weight"], eps)
    head = P["output.weight"] if "output.weight" in P else P["token_embd.weight"]
    logits = h @ head.t()
    loss = F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1), ignore_index=-1)
    loss.backward()

    np.array([loss.item()], dtype="<f8").tofile(os.path.join(d, "loss.f64"))
    for name, t in P.items():
        t.grad.detach().numpy().astype("<f8").tofile(os.path.join(d, name + ".grad.f64"))
    print(f"ref_train_step.py: {cfg['arch']} loss {loss.item():.10f}")


if __name__ == "__main__":
    main()
