#!/usr/bin/python3
"""torch_qat_step.py: the PyTorch peer of bench_train_step.c -- the same QAT training step on
the same Llama shape, timed the same way. A benchmark, not a test (tests/bench/bench_train.sh).

    /usr/bin/python3 tests/bench/torch_qat_step.py [-w WARMUP] [-n STEPS] [-t THREADS] [-B B] [-T T]

Model: Llama, dim 512, 8 layers, 8 heads (8 kv heads), head_dim 64, ffn 1536 (SwiGLU), vocab
32000, tied embeddings, RMSNorm eps 1e-5, RoPE base 10000 on adjacent pairs (GGUF order, as
libtrain), causal attention as explicit matmul + mask + softmax (torch 1.13 has no
scaled_dot_product_attention). Every block linear (q, k, v, o, gate, up, down) goes through SEQ
2-bit fake quant with one learned scale per output row: ParetoQ's StretchedElasticQuant
(REFERENCE.md section 2.1) as a torch.autograd.Function. Optimizer: torch.optim.AdamW, betas
(0.9, 0.95), eps 1e-8, weights lr 3e-4 wd 0.1, scales lr 3e-4 wd 0 (libtrain's defaults).
Init as libtrain's: N(0, 0.02), attn_output/ffn_down scaled by 1/sqrt(2 n_layer), norms 1.
Output lines are "key: value", like the C program's.
"""
import argparse
import math
import resource
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Seq2Bit(torch.autograd.Function):
    """SEQ 2-bit: u = clamp(w/alpha, -c, c), q = (round(2u - 0.5) + 0.5) / 2, W^ = alpha q.
    Backward (ParetoQ): dW = g [|w/alpha| <= c]; dalpha_r = G sum_j g D, D = q - w/alpha inside,
    -Qp below, +Qp above, Qp = 0.75, G = 1/sqrt(numel)."""
    CLIP = 0.99
    QP = 0.75

    @staticmethod
    def forward(ctx, w, alpha):
        alpha = torch.where(alpha > 1e-5, alpha, torch.full_like(alpha, 1e-5))
        ctx.save_for_backward(w, alpha)
        u = torch.clamp(w / alpha, -Seq2Bit.CLIP, Seq2Bit.CLIP)
        q = (torch.round(u * 2 - 0.5) + 0.5) / 2
        return q * alpha

    @staticmethod
    def backward(ctx, g):
        w, alpha = ctx.saved_tensors
        v = w / alpha
        small = (v < -Seq2Bit.CLIP).float()
        big = (v > Seq2Bit.CLIP).float()
        mid = 1.0 - small - big
        q = (torch.round(torch.clamp(v, -Seq2Bit.CLIP, Seq2Bit.CLIP) * 2 - 0.5) + 0.5) / 2
        D = small * -Seq2Bit.QP + big * Seq2Bit.QP + mid * (q - v)
        G = 1.0 / math.sqrt(w.numel())
        dalpha = (D * g * G).sum(dim=-1, keepdim=True)
        return mid * g, dalpha


class QLinear(nn.Module):
    def __init__(self, n_in, n_out, std):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_out, n_in) * std)
        self.alpha = nn.Parameter(self.weight.detach().abs().amax(dim=1, keepdim=True).clone())

    def forward(self, x):
        return F.linear(x, Seq2Bit.apply(self.weight, self.alpha))


class RMSNorm(nn.Module):
    def __init__(self, dim, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope_tables(T, head_dim, base=10000.0):
    inv = base ** (-torch.arange(0, head_dim, 2).float() / head_dim)
    ang = torch.arange(T).float()[:, None] * inv[None, :]          # (T, head_dim/2)
    return torch.cos(ang), torch.sin(ang)


def apply_rope(x, cos, sin):
    # x (B, H, T, D); adjacent pairs (x0, x1), (x2, x3), ...
    x0, x1 = x[..., 0::2], x[..., 1::2]
    return torch.stack((x0 * cos - x1 * sin, x0 * sin + x1 * cos), dim=-1).flatten(-2)


class Block(nn.Module):
    def __init__(self, C, H, F_, n_layer):
        super().__init__()
        std, std_o = 0.02, 0.02 / math.sqrt(2 * n_layer)
        self.H = H
        self.attn_norm, self.ffn_norm = RMSNorm(C), RMSNorm(C)
        self.wq, self.wk, self.wv = QLinear(C, C, std), QLinear(C, C, std), QLinear(C, C, std)
        self.wo = QLinear(C, C, std_o)
        self.w_gate, self.w_up = QLinear(C, F_, std), QLinear(C, F_, std)
        self.w_down = QLinear(F_, C, std_o)

    def forward(self, x, cos, sin, mask):
        B, T, C = x.shape
        D = C // self.H
        h = self.attn_norm(x)
        q = self.wq(h).view(B, T, self.H, D).transpose(1, 2)
        k = self.wk(h).view(B, T, self.H, D).transpose(1, 2)
        v = self.wv(h).view(B, T, self.H, D).transpose(1, 2)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(D))
        att = torch.softmax(att.masked_fill(mask, float("-inf")), dim=-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, C)
        x = x + self.wo(y)
        h = self.ffn_norm(x)
        return x + self.w_down(F.silu(self.w_gate(h)) * self.w_up(h))


class Llama(nn.Module):
    def __init__(self, V, C, L, H, F_, T):
        super().__init__()
        self.tok_embd = nn.Parameter(torch.randn(V, C) * 0.02)
        self.blocks = nn.ModuleList(Block(C, H, F_, L) for _ in range(L))
        self.norm = RMSNorm(C)
        cos, sin = rope_tables(T, C // H)
        self.register_buffer("cos", cos)
        self.register_buffer("sin", sin)
        self.register_buffer("mask", torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1))

    def forward(self, tokens, targets):
        x = F.embedding(tokens, self.tok_embd)
        for b in self.blocks:
            x = b(x, self.cos, self.sin, self.mask)
        logits = F.linear(self.norm(x), self.tok_embd)   # tied head
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))


def matmul_peak(n=2048, reps=4):
    """torch's own fp32 matmul peak in this process (best of reps after a warmup). With the C
    program's sgemm peak it gives a load-normalised comparison on a shared machine."""
    x, y = torch.rand(n, n), torch.rand(n, n)
    best = 0.0
    for r in range(reps + 1):
        t0 = time.perf_counter()
        torch.mm(x, y)
        dt = time.perf_counter() - t0
        if r > 0:
            best = max(best, 2.0 * n ** 3 / dt * 1e-9)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-w", type=int, default=1)
    ap.add_argument("-n", type=int, default=3)
    ap.add_argument("-t", type=int, default=2)
    ap.add_argument("-B", type=int, default=8)
    ap.add_argument("-T", type=int, default=256)
    a = ap.parse_args()
    torch.set_num_threads(a.t)
    torch.manual_seed(1234)
    V, C, L, H, F_ = 32000, 512, 8, 8, 1536
    model = Llama(V, C, L, H, F_, a.T)
    scales = [p for n, p in model.named_parameters() if n.endswith("alpha")]
    weights = [p for n, p in model.named_parameters() if not n.endswith("alpha")]
    opt = torch.optim.AdamW([{"params": weights, "weight_decay": 0.1},
                             {"params": scales, "weight_decay": 0.0}],
                            lr=3e-4, betas=(0.9, 0.95), eps=1e-8)
    g = torch.Generator().manual_seed(1)
    seq = torch.randint(0, V, (a.B, a.T + 1), generator=g)
    tokens, targets = seq[:, :-1].contiguous(), seq[:, 1:].contiguous()
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, "
          f"params {sum(p.numel() for p in weights)} + {sum(p.numel() for p in scales)} scales")

    peak = matmul_peak(reps=4)
    times = []
    for step in range(a.w + a.n):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = model(tokens, targets)
        loss.backward()
        opt.step()
        dt = time.perf_counter() - t0
        print(f"step {step}: loss {loss.item():.4f}  {dt:.3f} s{' (warmup)' if step < a.w else ''}", flush=True)
        peak = max(peak, matmul_peak(reps=2))   # untimed probe between steps
        if step >= a.w:
            times.append(dt)
    mean = sum(times) / len(times)
    ntok = a.B * a.T
    print(f"step time: mean {mean:.3f} s, best {min(times):.3f} s over {a.n} steps (warmup {a.w})")
    print(f"torch tokens/s: {ntok / mean:.1f} (best step {ntok / min(times):.1f})")
    peak = max(peak, matmul_peak(reps=4))
    print(f"matmul peak: {peak:.1f} GFLOP/s (2048^3, {torch.get_num_threads()} threads, "
          f"best probe before, between and after the steps)")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0:.1f} MiB")


if __name__ == "__main__":
    main()
