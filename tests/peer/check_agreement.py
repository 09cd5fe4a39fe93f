#!/usr/bin/python3
# check_agreement.py: lowbit vs real llama.cpp (node-llama-cpp's prebuilt libllama) vs an
# independent HF-semantics torch reference, on tiny models. Driven by tests/peer.cmake.
#
#   check_agreement.py setup MODELS_DIR
#       tiny HF checkpoints + reference logits (make_tiny_hf.py), the perplexity text slice.
#   check_agreement.py check MODELS_DIR NAME TYPE [--ppl]
#       NAME = stories260K | llama | qwen2 | qwen3 | hunyuan; TYPE = f32 | f16 | bf16 | q8_0
#       1. lowbit import SRC -o MODELS_DIR/NAME-TYPE.gguf --type TYPE
#       2. (a) lowbit logits vs llama_logits.mjs on the same 64 ids (BOS + 63 others)
#          (b) lowbit logits vs the torch reference (only where TYPE stores the source exactly)
#          (c) with --ppl: lowbit perplexity vs llama_perplexity.mjs, ctx 128, 8 chunks
#
# Tolerances, relative to max|logit| (logits) or to llama.cpp's PPL:
#   f32, f16 GGUFs: (a),(b) 1e-3, (c) 1e-3 (0.1%).
#   bf16, q8_0 GGUFs: llama.cpp rounds the activations of every weight matmul to bf16 / q8_0
#   blocks, and lowbit must do the same to agree. But two correct implementations whose f32
#   sums differ in the last bit (summation order) now and then round one activation to the
#   other side of a rounding boundary, and on these models ONE such flip moves logits by
#   1e-3..3e-3 (bf16) or ~1e-2 (q8_0) of max|logit| at that position and every later one
#   (measured by perturbing single activations in the torch reference). A 1e-3 bound over all
#   64 positions would be a coin toss, so for these types:
#     (a)  all positions: 1e-2 (bf16) / 3e-2 (q8_0): catches layout, scale and semantics bugs;
#     (a0) position 0, every type: 1e-4: before any flip could accumulate, the same rounding
#          scheme agrees to ~1e-7, while f32 activations against llama.cpp's rounded ones
#          differ by 2e-3..9e-3 there: this is what proves the activation rounding is emulated;
#     (c)  3e-3 (PPL averages over 1024 positions, i.e. ~16x more activations that can flip).
# Exit 0 pass, 1 fail, 77 skip (node_modules / torch / data missing; a failure under CI=true).
import os
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
LOGIT_TOL = {"f32": 1e-3, "f16": 1e-3, "bf16": 1e-2, "q8_0": 3e-2}
FIRST_POS_TOL = 1e-4
PPL_TOL = {"f32": 1e-3, "f16": 1e-3, "bf16": 3e-3, "q8_0": 3e-3}
REF_TOL = 1e-3  # (b): lowbit vs exact math, only on GGUFs that hold the source weights exactly
PPL_CTX, PPL_CHUNKS = 128, 8
PPL_TEXT_CHARS = 12000  # plenty of tokens for 8 chunks of 128 with any of the tiny vocabularies
THREADS = "2"

# (b) needs the GGUF to hold the source weights exactly. bf16 is left out although it is exact:
# llama.cpp multiplies bf16 weights with bf16-rounded activations (measured 5e-3..1e-2 of max|logit|
# away from exact f32 math on these models), so a runtime can agree to 1e-3 with llama.cpp (a) or
# with exact math (b) but not both; (a) is the contract there. f16 activations cost only ~3e-4.
SOURCE_DTYPE = {"stories260K": "f32", "llama": "f32", "qwen2": "bf16", "qwen3": "f16", "hunyuan": "bf16"}
EXACT_TYPES = {"f32": {"f32"}, "f16": {"f32", "f16"}, "bf16": {"f32"}}


def skip_or_fail(msg):
    if os.environ.get("CI") == "true":
        print(f"FAIL (CI=true): {msg}")
        return 1
    print(f"SKIP: {msg}")
    return 77


def env_path(name, default=None):
    v = os.environ.get(name, default)
    if not v:
        raise SystemExit(f"check_agreement: env {name} not set (run through ctest)")
    return v


def run(cmd, log_prefix=""):
    t0 = time.time()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    dt = time.time() - t0
    print(f"{log_prefix}$ {' '.join(cmd)}  [{dt:.2f}s, exit {p.returncode}]")
    if p.returncode != 0:
        sys.stdout.write(p.stdout[-2000:])
        sys.stdout.write(p.stderr[-2000:])
        raise RuntimeError(f"command failed (exit {p.returncode}): {cmd[0]} {cmd[1] if len(cmd) > 1 else ''}")
    return p.stdout


def node_modules_ok():
    return os.path.isdir(os.path.join(HERE, "node_modules", "node-llama-cpp"))


# --- setup -------------------------------------------------------------------------------------
def setup(models_dir):
    if not node_modules_ok():  # nothing to compare against: the checks will skip/fail themselves
        return skip_or_fail(f"{HERE}/node_modules missing (cd tests/peer && npm ci --omit=optional)")
    data = env_path("LOWBIT_DATA")
    if not os.path.isfile(os.path.join(data, "stories260K", "stories260K.bin")):
        return skip_or_fail(f"test data missing in {data} (shared/data; set LOWBIT_DATA)")
    try:
        import torch  # noqa: F401  (make_tiny_hf needs it)
    except ImportError:
        return skip_or_fail(f"{sys.executable} has no torch (apt-get install python3-torch)")
    sys.path.insert(0, HERE)
    import make_tiny_hf
    sys.argv = ["make_tiny_hf.py", models_dir, "--data", data]
    make_tiny_hf.main()
    with open(os.path.join(data, "text", "tinyshakespeare.txt"), encoding="utf-8") as f:
        text = f.read(PPL_TEXT_CHARS)
    tmp = os.path.join(models_dir, "ppl_text.txt.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, os.path.join(models_dir, "ppl_text.txt"))
    print(f"setup: {models_dir} ready")
    return 0


# --- comparisons -------------------------------------------------------------------------------
def read_logits(path, n_tokens):
    a = np.fromfile(path, dtype="<f4")
    if a.size % n_tokens != 0:
        raise RuntimeError(f"{path}: {a.size} floats is not a multiple of {n_tokens} tokens")
    return a.reshape(n_tokens, -1).astype(np.float64)


def compare_logits(label, got, want, tol, first_pos_tol=None):
    """max|got - want| <= tol * max|want| over all positions (and <= first_pos_tol * max|want|
    at position 0 when given); prints the measured ratios."""
    if got.shape != want.shape:
        print(f"  {label}: FAIL shape {got.shape} vs {want.shape}")
        return False
    if not np.all(np.isfinite(got)):
        print(f"  {label}: FAIL non-finite values")
        return False
    scale = np.abs(want).max()
    diff = np.abs(got - want)
    ratio = diff.max() / scale
    pos, tok = np.unravel_index(diff.argmax(), diff.shape)
    ok = ratio <= tol
    agree_top1 = np.mean(got.argmax(1) == want.argmax(1))
    print(f"  {label}: max|diff|/max|logit| = {ratio:.3e} (tol {tol:.0e}; max|logit| {scale:.3f}; "
          f"worst at pos {pos} tok {tok}; top-1 agree {agree_top1:.3f}) {'ok' if ok else 'FAIL'}")
    if first_pos_tol is not None:
        r0 = diff[0].max() / scale
        ok0 = r0 <= first_pos_tol
        ok &= ok0
        print(f"  (a0) position 0 only: {r0:.3e} (tol {first_pos_tol:.0e}) {'ok' if ok0 else 'FAIL'}")
    return ok


def parse_ppl(out, who):
    lines = [ln for ln in out.strip().splitlines() if ln.strip()]
    if not lines or not lines[-1].startswith("PPL = "):
        raise RuntimeError(f"{who}: last stdout line is not 'PPL = <value>': {lines[-1:]}")
    return float(lines[-1].split("=", 1)[1])


def check(models_dir, name, qtype, want_ppl):
    if not node_modules_ok():
        return skip_or_fail(f"{HERE}/node_modules missing (cd tests/peer && npm ci --omit=optional)")
    data = env_path("LOWBIT_DATA")
    lowbit = env_path("LOWBIT")
    ref_dir = os.path.join(models_dir, "stories260K" if name == "stories260K" else f"tiny-{name}")
    tokens_file = os.path.join(ref_dir, "ref_tokens.txt")
    if not os.path.isfile(tokens_file):
        return skip_or_fail(f"{tokens_file} missing (the peer_setup fixture did not run or skipped)")
    if name == "stories260K":
        src = [os.path.join(data, "stories260K", "stories260K.bin"),
               "--tokenizer", os.path.join(data, "stories260K", "tok512.bin")]
    else:
        src = [ref_dir]

    tag = f"{name}-{qtype}"
    gguf = os.path.join(models_dir, f"{tag}.gguf")
    work = os.path.join(models_dir, tag)
    os.makedirs(work, exist_ok=True)
    with open(tokens_file) as f:
        tokens = [int(t) for t in f.read().replace(",", " ").split()]
    n = len(tokens)
    print(f"== {tag}: {n} tokens")

    ok = True
    try:
        run([lowbit, "import", *src, "-o", gguf, "--type", qtype])
        lb_bin = os.path.join(work, "lowbit_logits.bin")
        pe_bin = os.path.join(work, "llama_logits.bin")
        run([lowbit, "logits", gguf, "--tokens-file", tokens_file, "-o", lb_bin, "-t", THREADS])
        run(["node", os.path.join(HERE, "llama_logits.mjs"), gguf, tokens_file, pe_bin, THREADS])
        got, peer = read_logits(lb_bin, n), read_logits(pe_bin, n)
        ok &= compare_logits("(a) lowbit vs llama.cpp", got, peer, LOGIT_TOL[qtype], FIRST_POS_TOL)

        if qtype in EXACT_TYPES[SOURCE_DTYPE[name]]:
            ref = read_logits(os.path.join(ref_dir, "ref_logits.bin"), n)
            ok &= compare_logits("(b) lowbit vs torch HF-semantics reference", got, ref, REF_TOL)
            # not a pass/fail criterion: llama.cpp itself rounds activations for f16/bf16/q8_0
            r = np.abs(peer - ref).max() / np.abs(ref).max()
            print(f"  (info) llama.cpp vs torch reference: {r:.3e}")
        else:
            print(f"  (b) not run for --type {qtype} of a {SOURCE_DTYPE[name]} source (see EXACT_TYPES)")

        if want_ppl:
            text = os.path.join(models_dir, "ppl_text.txt")
            out_lb = run([lowbit, "perplexity", gguf, "--text", text, "--ctx", str(PPL_CTX),
                          "--chunks", str(PPL_CHUNKS), "-t", THREADS])
            out_pe = run(["node", os.path.join(HERE, "llama_perplexity.mjs"), gguf, text,
                          str(PPL_CTX), str(PPL_CHUNKS), THREADS])
            p_lb, p_pe = parse_ppl(out_lb, "lowbit perplexity"), parse_ppl(out_pe, "llama_perplexity.mjs")
            rel = abs(p_lb / p_pe - 1.0)
            good = rel <= PPL_TOL[qtype]
            ok &= good
            print(f"  (c) PPL lowbit {p_lb:.6f} vs llama.cpp {p_pe:.6f}: rel diff {rel:.3e} "
                  f"(tol {PPL_TOL[qtype]:.0e}, ctx {PPL_CTX}, {PPL_CHUNKS} chunks) {'ok' if good else 'FAIL'}")
    except (RuntimeError, OSError) as e:
        print(f"  FAIL: {e}")
        return 1
    print(f"== {tag}: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


def main():
    args = sys.argv[1:]
    if len(args) == 2 and args[0] == "setup":
        return setup(os.path.abspath(args[1]))
    if len(args) in (4, 5) and args[0] == "check" and args[3] in LOGIT_TOL and args[2] in SOURCE_DTYPE \
            and (len(args) == 4 or args[4] == "--ppl"):
        return check(os.path.abspath(args[1]), args[2], args[3], len(args) == 5)
    print("usage: check_agreement.py setup MODELS_DIR | check MODELS_DIR NAME TYPE [--ppl]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
