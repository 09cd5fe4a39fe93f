#!/usr/bin/python3
"""ref_adamw.py TEST_OPTIM: lowbit's AdamW + global-norm clipping + cosine schedule vs torch.

Runs `TEST_OPTIM --torch-case` (a fixed 12-step run on exactly representable inputs, two parameter
groups: weights lr 1e-2 wd 0.1, scales lr 2e-3 wd 0), repeats it with torch.optim.AdamW,
torch.nn.utils.clip_grad_norm_ and the same warmup+cosine factor, and compares every printed value.
Exit 0 ok, 1 mismatch, 77 no torch (skip).
"""
import math
import subprocess
import sys

try:
    import torch
except ImportError:
    print("torch not installed: skip")
    sys.exit(77)

NW, NS, STEPS, WARM, MINR = 24, 4, 12, 3, 0.1


def factor(t):  # schedule.h: warmup (t+1)/warm, then cosine to min_ratio at STEPS
    if t < WARM:
        return (t + 1) / WARM
    p = (t - WARM) / (STEPS - WARM)
    return MINR + (1 - MINR) * 0.5 * (1 + math.cos(math.pi * p))


def main():
    out = subprocess.run([sys.argv[1], "--torch-case"], check=True, capture_output=True, text=True).stdout
    got = {}
    for line in out.split("\n"):
        if line:
            k, i, v = line.split()
            got[(k, int(i))] = float(v)

    w = torch.tensor([((i * 37) % 101 - 50) / 64.0 for i in range(NW)], dtype=torch.float32, requires_grad=True)
    s = torch.tensor([(i + 1) / 8.0 for i in range(NS)], dtype=torch.float32, requires_grad=True)
    opt = torch.optim.AdamW([{"params": [w], "lr": 1e-2, "weight_decay": 0.1},
                             {"params": [s], "lr": 2e-3, "weight_decay": 0.0}],
                            betas=(0.9, 0.95), eps=1e-8)
    bad = 0
    for t in range(STEPS):
        w.grad = torch.tensor([((i * 13 + t * 29) % 97 - 48) / 32.0 for i in range(NW)], dtype=torch.float32)
        s.grad = torch.tensor([((i * 7 + t * 5) % 11 - 5) / 16.0 for i in range(NS)], dtype=torch.float32)
        norm = float(torch.nn.utils.clip_grad_norm_([w, s], 4.0))
        if abs(norm - got[("norm", t)]) > 1e-5 * norm:
            print(f"step {t}: grad norm {got[('norm', t)]} torch {norm}")
            bad += 1
        f = factor(t)
        opt.param_groups[0]["lr"] = 1e-2 * f
        opt.param_groups[1]["lr"] = 2e-3 * f
        opt.step()
    maxerr = 0.0
    for name, tensor in (("w", w), ("s", s)):
        for i, v in enumerate(tensor.detach().tolist()):
            e = abs(v - got[(name, i)])
            maxerr = max(maxerr, e)
            if e > 2e-6 * (1 + abs(v)):
                print(f"{name}[{i}]: lowbit {got[(name, i)]!r} torch {v!r}")
                bad += 1
    print(f"adamw vs torch {torch.__version__}: {STEPS} steps, {NW + NS} params, max |diff| {maxerr:.3g}, {bad} mismatches")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
