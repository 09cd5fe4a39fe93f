#!/usr/bin/python3
# train_tiny_llama.py: a small real Llama for PTQ experiments (rows that fit every block):
# default dim 512, 2 layers, ffn 1536, 8 heads of 64 (512-multiples: q2_0c's block is 512
# weights; --dim 256 --layers 4 --ffn 768 fits only the 256 blocks), tok512 vocabulary (llama2.c's
# stories260K tokenizer), trained for a few minutes on CPU (torch 1.13) on a text file, saved
# as a Hugging Face checkpoint (config.json, model.safetensors, tokenizer.json) that
# `lowbit import` converts.
#
#   /usr/bin/python3 recipes/train_tiny_llama.py OUTDIR --text TRAIN.txt --tok512 tok512.bin
#                    [--minutes 5] [--seq 256] [--batch 16] [--lr 2e-3] [--seed 1]
#                    [--dim 512] [--layers 2] [--ffn 1536] [--heads 8]
#
# The model follows Hugging Face Llama semantics (rotate_half RoPE on unpermuted q/k weights,
# untied lm_head), which is what lowbit's importer expects. Tokenization: llama2.c's encoder
# (dummy-prefix space, characters, byte fallback, then repeated best-score merges) applied to
# space-separated segments (SentencePiece pieces never span a space boundary mid-piece).
import argparse
import math
import os
import re
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "peer"))
import make_tiny_hf as mt  # noqa: E402  (safetensors/json writers, tok512 -> tokenizer.json)


# --- tokenizer (llama2.c's encode) ---------------------------------------------------------------
def load_tok512(path):
    with open(path, "rb") as f:
        data = f.read()
    off, pieces, scores = 4, [], []
    for _ in range(512):
        score, n = struct.unpack_from("<fi", data, off)
        off += 8
        pieces.append(data[off:off + n].decode("utf-8"))
        scores.append(score)
        off += n
    return pieces, scores


class Encoder:
    def __init__(self, pieces, scores):
        self.ids = {p: i for i, p in enumerate(pieces) if i >= 3}
        self.pieces, self.scores, self.cache = pieces, scores, {}

    def segment(self, s):
        if s in self.cache:
            return self.cache[s]
        toks = []
        for ch in s:
            if ch in self.ids:
                toks.append(self.ids[ch])
            else:
                toks.extend(b + 3 for b in ch.encode("utf-8"))
        while True:
            best, best_i, best_id = -1e10, -1, -1
            for i in range(len(toks) - 1):
                m = self.ids.get(self.pieces[toks[i]] + self.pieces[toks[i + 1]])
                if m is not None and self.scores[m] > best:
                    best, best_i, best_id = self.scores[m], i, m
            if best_i < 0:
                break
            toks[best_i:best_i + 2] = [best_id]
        self.cache[s] = toks
        return toks

    def encode(self, text):
        out = []
        for seg in re.split(r"(?= )", " " + text):
            if seg:
                out.extend(self.segment(seg))
        return out


# --- model (Hugging Face Llama semantics) -------------------------------------------------------------
class RMSNorm(nn.Module):
    def __init__(self, d, eps=1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


class Block(nn.Module):
    def __init__(self, d, n_head, ffn):
        super().__init__()
        self.n_head, self.hd = n_head, d // n_head
        self.input_layernorm, self.post_attention_layernorm = RMSNorm(d), RMSNorm(d)
        self.q_proj, self.k_proj = nn.Linear(d, d, bias=False), nn.Linear(d, d, bias=False)
        self.v_proj, self.o_proj = nn.Linear(d, d, bias=False), nn.Linear(d, d, bias=False)
        self.gate_proj, self.up_proj = nn.Linear(d, ffn, bias=False), nn.Linear(d, ffn, bias=False)
        self.down_proj = nn.Linear(ffn, d, bias=False)

    def forward(self, x, cos, sin, mask):
        B, T, D = x.shape
        h = self.input_layernorm(x)
        q, k, v = (p(h).view(B, T, self.n_head, self.hd).transpose(1, 2) for p in (self.q_proj, self.k_proj, self.v_proj))
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        att = (q @ k.transpose(-1, -2)) / math.sqrt(self.hd) + mask
        y = (att.softmax(-1) @ v).transpose(1, 2).reshape(B, T, D)
        x = x + self.o_proj(y)
        h = self.post_attention_layernorm(x)
        return x + self.down_proj(F.silu(self.gate_proj(h)) * self.up_proj(h))


class Llama(nn.Module):
    def __init__(self, vocab, d, n_layer, n_head, ffn, theta=10000.0):
        super().__init__()
        self.embed_tokens = nn.Embedding(vocab, d)
        self.layers = nn.ModuleList(Block(d, n_head, ffn) for _ in range(n_layer))
        self.norm = RMSNorm(d)
        self.lm_head = nn.Linear(d, vocab, bias=False)
        hd = d // n_head
        self.inv_freq = 1.0 / (theta ** (torch.arange(0, hd, 2).float() / hd))
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, std=0.02)

    def forward(self, idx):
        T = idx.shape[1]
        f = torch.outer(torch.arange(T).float(), self.inv_freq)
        emb = torch.cat((f, f), dim=-1)
        cos, sin = emb.cos()[None, None], emb.sin()[None, None]
        mask = torch.full((T, T), float("-inf")).triu(1)
        x = self.embed_tokens(idx)
        for b in self.layers:
            x = b(x, cos, sin, mask)
        return self.lm_head(self.norm(x))


def main():
    ap = argparse.ArgumentParser(description="train a tiny Llama (tok512 vocabulary) and save it HF-style")
    ap.add_argument("outdir")
    ap.add_argument("--text", required=True)
    ap.add_argument("--tok512", required=True)
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--seq", type=int, default=256)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--dim", type=int, default=512)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--ffn", type=int, default=1536)
    ap.add_argument("--heads", type=int, default=8)
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    d, n_layer, n_head, ffn, vocab = a.dim, a.layers, a.heads, a.ffn, 512

    pieces, scores = load_tok512(a.tok512)
    with open(a.text, encoding="utf-8") as f:
        text = f.read()
    t0 = time.time()
    ids = np.array(Encoder(pieces, scores).encode(text), dtype=np.int64)
    print(f"train: {len(text)} chars -> {len(ids)} tokens ({time.time() - t0:.1f} s)", flush=True)

    model = Llama(vocab, d, n_layer, n_head, ffn)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=a.lr, betas=(0.9, 0.95))
    rng = np.random.default_rng(a.seed)
    budget, warmup = a.minutes * 60.0, 30
    t_start, step, est_steps = time.time(), 0, None
    while True:
        elapsed = time.time() - t_start
        if elapsed >= budget:
            break
        if step == 10:  # estimate the total from the first steps' speed, for the cosine schedule
            est_steps = max(int(budget / (elapsed / 10)), 20)
        total = est_steps or 10**9
        lr = a.lr * min(1.0, (step + 1) / warmup) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(step / total, 1.0))))
        for g in opt.param_groups:
            g["lr"] = lr
        starts = rng.integers(0, len(ids) - a.seq - 1, size=a.batch)
        batch = torch.from_numpy(np.stack([ids[s:s + a.seq + 1] for s in starts]))
        logits = model(batch[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, vocab), batch[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % 20 == 0:
            print(f"step {step:5d}  loss {loss.item():.4f}  lr {lr:.2e}  {time.time() - t_start:6.1f} s", flush=True)
        step += 1

    # --- save as a Hugging Face checkpoint ---
    os.makedirs(a.outdir, exist_ok=True)
    sd = {"model.embed_tokens.weight": model.embed_tokens.weight}
    for i, b in enumerate(model.layers):
        p = f"model.layers.{i}."
        sd[p + "input_layernorm.weight"] = b.input_layernorm.weight
        for n in ("q_proj", "k_proj", "v_proj", "o_proj"):
            sd[p + f"self_attn.{n}.weight"] = getattr(b, n).weight
        sd[p + "post_attention_layernorm.weight"] = b.post_attention_layernorm.weight
        for n in ("gate_proj", "up_proj", "down_proj"):
            sd[p + f"mlp.{n}.weight"] = getattr(b, n).weight
    sd["model.norm.weight"] = model.norm.weight
    sd["lm_head.weight"] = model.lm_head.weight
    mt.write_safetensors(os.path.join(a.outdir, "model.safetensors"),
                         [(k, v.detach().float()) for k, v in sd.items()], "F32")
    cfg = dict(architectures=["LlamaForCausalLM"], model_type="llama", hidden_size=d, intermediate_size=ffn,
               num_hidden_layers=n_layer, num_attention_heads=n_head, num_key_value_heads=n_head,
               hidden_act="silu", max_position_embeddings=1024, rms_norm_eps=1e-5, rope_theta=10000.0,
               rope_scaling=None, attention_bias=False, mlp_bias=False, tie_word_embeddings=False,
               bos_token_id=1, eos_token_id=2, vocab_size=vocab, torch_dtype="float32",
               transformers_version="4.46.0")
    tok, _ = mt.build_spm_tokenizer(a.tok512)
    mt.write_json(os.path.join(a.outdir, "config.json"), cfg)
    mt.write_json(os.path.join(a.outdir, "tokenizer.json"), tok)
    mt.write_json(os.path.join(a.outdir, "tokenizer_config.json"),
                  {"add_bos_token": True, "add_eos_token": False, "bos_token": "<s>", "eos_token": "</s>",
                   "unk_token": "<unk>", "pad_token": None, "clean_up_tokenization_spaces": False, "legacy": True,
                   "model_max_length": 1024, "tokenizer_class": "LlamaTokenizer"})
    print(f"train: {step} steps, final loss {loss.item():.4f}; wrote {a.outdir}")


if __name__ == "__main__":
    main()
