#!/usr/bin/python3
"""ref_paretoq.py TEST_FAKEQUANT: lowbit's QAT quantizers vs ParetoQ's autograd formulation in torch.

ParetoQ (facebookresearch/ParetoQ, models/utils_quant.py) defines SEQ ("StretchedElasticQuant",
2-bit and ternary) and LSQ (3/4-bit) as torch.autograd.Functions with hand-written backward passes.
They are re-written here from REFERENCE §2 / the paper (per-row alpha, grad_scale from the whole
matrix) and run through torch autograd on the inputs `TEST_FAKEQUANT --torch-case` uses; every
forward value, dL/dW and dL/dalpha is compared. Exit 0 ok, 1 mismatch, 77 no torch.
"""
import math
import subprocess
import sys

try:
    import torch
except ImportError:
    print("torch not installed: skip")
    sys.exit(77)

R, K = 4, 16
CLIP = 1 - 1e-2


class SEQ(torch.autograd.Function):
    """ParetoQ StretchedElasticQuant; bits 2 (n_levels 2, shift 0.5) or 0 = ternary (1.5, 0)."""

    @staticmethod
    def forward(ctx, w, alpha, bits):
        n_levels, shift = (1.5, 0.0) if bits == 0 else (2 ** (bits - 1), 0.5)
        ctx.save_for_backward(w, alpha)
        ctx.cfg = (n_levels, shift, 1.0 / math.sqrt(w.numel()), (n_levels - shift) / n_levels)
        q = (torch.round(torch.clamp(w / alpha, -CLIP, CLIP) * n_levels - shift) + shift) / n_levels
        return q * alpha

    @staticmethod
    def backward(ctx, g):
        w, alpha = ctx.saved_tensors
        n_levels, shift, gs, qp = ctx.cfg
        v = w / alpha
        small, big = (v < -CLIP).float(), (v > CLIP).float()
        mid = 1.0 - small - big
        q = (torch.round(torch.clamp(v, -CLIP, CLIP) * n_levels - shift) + shift) / n_levels
        ga = ((small * -qp + big * qp + mid * (q - v)) * g * gs).sum(dim=-1, keepdim=True)
        return mid * g, ga, None


class LSQ(torch.autograd.Function):
    @staticmethod
    def forward(ctx, w, alpha, bits):
        qn, qp = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
        ctx.save_for_backward(w, alpha)
        ctx.cfg = (qn, qp, 1.0 / math.sqrt(w.numel() * qp))
        return torch.clamp(torch.round(w / alpha), qn, qp) * alpha

    @staticmethod
    def backward(ctx, g):
        w, alpha = ctx.saved_tensors
        qn, qp, gs = ctx.cfg
        v = w / alpha
        small, big = (v < qn).float(), (v > qp).float()
        mid = 1.0 - small - big
        ga = ((small * qn + big * qp + mid * (torch.round(v) - v)) * g * gs).sum(dim=-1, keepdim=True)
        return mid * g, ga, None


def main():
    out = subprocess.run([sys.argv[1], "--torch-case"], check=True, capture_output=True, text=True).stdout
    got = {}
    for line in out.split("\n"):
        if line:
            name, kind, i, v = line.split()
            got[(name, kind, int(i))] = float(v)
    W0 = torch.tensor([[((r * 31 + k * 17) % 41 - 20) / 16.0 for k in range(K)] for r in range(R)], dtype=torch.float32)
    G = torch.tensor([[((r * 7 + k * 3) % 13 - 6) / 8.0 for k in range(K)] for r in range(R)], dtype=torch.float32)
    bad, checked, maxrel = 0, 0, 0.0
    for name, fn, bits, div in (("seq2", SEQ, 2, 1.0), ("seq_ternary", SEQ, 0, 1.0), ("lsq3", LSQ, 3, 3.0), ("lsq4", LSQ, 4, 7.0)):
        w = W0.clone().requires_grad_(True)
        alpha = torch.tensor([[(r + 3) / 4.0 / div] for r in range(R)], dtype=torch.float32)
        alpha = alpha.to(torch.float32).requires_grad_(True)
        y = fn.apply(w, alpha, bits)
        (y * G).sum().backward()
        for kind, t in (("fwd", y.detach()), ("dw", w.grad), ("dalpha", alpha.grad)):
            for i, v in enumerate(t.flatten().tolist()):
                mine = got[(name, kind, i)]
                rel = abs(mine - v) / (1e-6 + abs(v))
                checked += 1
                if kind != "dalpha":
                    maxrel = max(maxrel, rel)
                if rel > 2e-6 and abs(mine - v) > 1e-7:
                    print(f"{name} {kind}[{i}]: lowbit {mine!r} torch {v!r}")
                    bad += 1
    print(f"fakequant vs ParetoQ autograd (torch {torch.__version__}): {checked} values, {bad} mismatches")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
