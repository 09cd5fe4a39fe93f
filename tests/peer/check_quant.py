#!/usr/bin/python3
# check_quant.py: `lowbit quantize` end to end, against real llama.cpp where the type exists
# upstream. Driven by tests/quantize.cmake.
#
#   check_quant.py setup DIR
#       three tiny Llamas whose rows fit the blocks (hidden 256, ffn 512, 2 layers, 4 heads of 64,
#       2 kv heads, tok512 SentencePiece vocab), imported to F32 GGUFs:
#         rand    random weights (make_tiny_hf.py's init)
#         seq2    hidden 512, ffn 1024, 8 heads, 4 kv heads (rows fit q2_0c's 512 block); every
#                 linear weight on a 2-bit grid (2c-3)*d, one fp16 d per 512 weights of a row
#                 (what q2_0c stores exactly)
#         sherry  every linear weight 3:4 sparse ternary in STQ1_0's grouping, one fp16 d per 256
#                 weights (what stq1_0, tq1_0 and tq2_0 store exactly)
#       plus the perplexity text and a calibration text (disjoint slices of tinyshakespeare).
#   check_quant.py peer DIR MODEL TYPE [--vs PEER_TYPE] [--emb E]
#       lowbit quantize DIR/MODEL-f32.gguf --type TYPE; checks every tensor's type in the file;
#       then lowbit perplexity on it vs llama_perplexity.mjs (llama.cpp) on
#         - the same file (no --vs: TYPE exists upstream), or
#         - MODEL quantized to PEER_TYPE (--vs; f32 = the source GGUF itself): native types,
#           which llama.cpp cannot load, against an upstream file holding the same weights.
#       pass: |PPL_lowbit / PPL_llama.cpp - 1| <= 0.5% (the bound).
#   check_quant.py gptq DIR TYPE
#       --method gptq with --calib on the rand model runs, writes TYPE, and lowbit scores it.
#   check_quant.py cli DIR
#       fallback reporting on stories260K (rows of 64 / 172 fit no 256 block) and bad arguments:
#       clear one-line errors, exit status 2 (usage) or 1 (failure), and never an output file.
# Exit 0 pass, 1 fail, 77 skip (node_modules / torch / data missing; a failure under CI=true).
import math
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PPL_TOL = 5e-3
PPL_CTX, PPL_CHUNKS = 128, 8
THREADS = "2"
MODELS = ("rand", "seq2", "sherry")
CONFIG = dict(architectures=["LlamaForCausalLM"], model_type="llama", hidden_size=256, intermediate_size=512,
              num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, head_dim=64, hidden_act="silu",
              max_position_embeddings=512, rms_norm_eps=1e-5, rope_theta=10000.0, rope_scaling=None,
              attention_bias=False, mlp_bias=False, tie_word_embeddings=False, bos_token_id=1, eos_token_id=2,
              initializer_range=0.02, pretraining_tp=1, use_cache=True, torch_dtype="float32",
              transformers_version="4.46.0")
WIDE = dict(hidden_size=512, intermediate_size=1024, num_attention_heads=8, num_key_value_heads=4)
SPEC = dict(dtype="F32", shards=1, tokenizer="spm", qkv_bias=False, qk_norm=None)
LINEAR = ("attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down")


def skip_or_fail(msg):
    if os.environ.get("CI") == "true":
        print(f"FAIL (CI=true): {msg}")
        return 1
    print(f"SKIP: {msg}")
    return 77


def env_path(name):
    v = os.environ.get(name)
    if not v:
        raise SystemExit(f"check_quant: env {name} not set (run through ctest)")
    return v


def run(cmd, check=True):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    print(f"$ {' '.join(cmd)}  [exit {p.returncode}]")
    if check and p.returncode != 0:
        sys.stdout.write(p.stdout[-2000:])
        sys.stdout.write(p.stderr[-3000:])
        raise RuntimeError(f"command failed (exit {p.returncode}): {cmd[0]} {cmd[1] if len(cmd) > 1 else ''}")
    return p


def parse_ppl(out, who):
    lines = [ln for ln in out.strip().splitlines() if ln.strip()]
    if not lines or not lines[-1].startswith("PPL = "):
        raise RuntimeError(f"{who}: last stdout line is not 'PPL = <value>': {lines[-1:]}")
    return float(lines[-1].split("=", 1)[1])


def tensor_types(lowbit, gguf):
    """{name: type} from `lowbit inspect`"""
    out = run([lowbit, "inspect", gguf]).stdout
    types = {}
    for m in re.finditer(r"^\s+(\S+\.weight|\S+\.bias)\s+(\S+)\s+\{", out, re.M):
        types[m.group(1)] = m.group(2).lower()
    if not types:
        raise RuntimeError(f"{gguf}: no tensors in `lowbit inspect` output")
    return types


# --- setup -------------------------------------------------------------------------------------
def grid_weights(W, kind, seed):
    """Replace every linear weight (not embeddings / head / norms) by one on an exact grid."""
    import numpy as np
    import torch
    rng = np.random.default_rng(seed)
    for name in list(W):
        if not re.search(r"(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)\.weight$", name):
            continue
        rows, k = W[name].shape
        if kind == "seq2":
            blk = 512 if k % 512 == 0 else None
            assert blk, f"{name}: rows of {k} do not fit 512"
            nb = k // blk
            base = 1.0 / math.sqrt(5.0 * k)  # E[((2c-3)d)^2] = 5 d^2: unit-variance outputs
            d = (base * np.exp(0.2 * rng.standard_normal((rows, nb)))).astype(np.float16).astype(np.float64)
            c = rng.integers(0, 4, size=(rows, nb, blk))
            c[:, :, 0] = 3  # every block reaches 3d, so amax/3 recovers d exactly
            w = (2 * c - 3) * d[:, :, None]
        else:  # sherry: 3:4 in groups {g, g+16, g+32, g+48} of each 64 weights, one d per 256
            nb = k // 256
            base = 1.0 / math.sqrt(0.75 * k)
            d = (base * np.exp(0.2 * rng.standard_normal((rows, nb)))).astype(np.float16).astype(np.float64)
            sign = rng.choice([-1.0, 1.0], size=(rows, k // 64, 4, 16))
            zero = rng.integers(0, 4, size=(rows, k // 64, 16))
            mask = np.ones((rows, k // 64, 4, 16))
            for p in range(4):
                mask[:, :, p, :] = (zero != p)
            w = (sign * mask).reshape(rows, nb, 256) * d[:, :, None]
        W[name] = torch.from_numpy(w.reshape(rows, k))
    return W


def setup(d):
    data = env_path("LOWBIT_DATA")
    lowbit = env_path("LOWBIT")
    if not os.path.isfile(os.path.join(data, "stories260K", "tok512.bin")):
        return skip_or_fail(f"test data missing in {data} (shared/data; set LOWBIT_DATA)")
    try:
        import torch  # noqa: F401  (make_tiny_hf needs it)
    except ImportError:
        return skip_or_fail(f"{sys.executable} has no torch (apt-get install python3-torch)")
    sys.path.insert(0, HERE)
    import make_tiny_hf as mt
    os.makedirs(d, exist_ok=True)
    tok, n_tok = mt.build_spm_tokenizer(os.path.join(data, "stories260K", "tok512.bin"))
    cfg = dict(CONFIG, vocab_size=n_tok)
    tok_cfg = {"add_bos_token": True, "add_eos_token": False, "bos_token": "<s>", "eos_token": "</s>",
               "unk_token": "<unk>", "pad_token": None, "clean_up_tokenization_spaces": False, "legacy": True,
               "model_max_length": 512, "tokenizer_class": "LlamaTokenizer"}
    for i, name in enumerate(MODELS):
        # q2_0c blocks are 512 weights: the seq2 model is twice as wide so every row fits
        cfg = dict(cfg, **(WIDE if name == "seq2" else {}))
        W = mt.make_weights(cfg, SPEC, seed=7000 + i)
        if name != "rand":
            W = grid_weights(W, name, seed=8000 + i)
        hf = os.path.join(d, f"hf-{name}")
        os.makedirs(hf, exist_ok=True)
        mt.write_weights(hf, W, SPEC)
        mt.write_json(os.path.join(hf, "config.json"), cfg)
        mt.write_json(os.path.join(hf, "tokenizer.json"), tok)
        mt.write_json(os.path.join(hf, "tokenizer_config.json"), tok_cfg)
        run([lowbit, "import", hf, "-o", os.path.join(d, f"{name}-f32.gguf"), "--type", "f32"])
    with open(os.path.join(data, "text", "tinyshakespeare.txt"), encoding="utf-8") as f:
        text = f.read()
    for fname, part in (("ppl_text.txt", text[200000:215000]), ("calib_text.txt", text[:60000])):
        with open(os.path.join(d, fname + ".tmp"), "w", encoding="utf-8") as f:
            f.write(part)
        os.replace(os.path.join(d, fname + ".tmp"), os.path.join(d, fname))
    print(f"setup: {d} ready")
    return 0


# --- checks ------------------------------------------------------------------------------------
FTYPE = {"q8_0": 7, "q2_k": 10, "tq1_0": 36, "tq2_0": 37, "q2_0c": 512 + 96, "stq1_0": 512 + 97}  # docs/formats.md


def check_types(lowbit, gguf, qtype, emb):
    types = tensor_types(lowbit, gguf)
    ok = True
    # metadata: general.file_type, and lowbit.* keys exactly when native tensors are present
    meta = run([lowbit, "inspect", gguf]).stdout
    m = re.search(r"general\.file_type\s+u32\s+(\d+)", meta)
    native = qtype in ("q2_0c", "stq1_0")
    good = bool(m) and int(m.group(1)) == FTYPE[qtype]
    good &= ("lowbit.format_version" in meta and f'["{qtype}"]' in meta) if native else "lowbit." not in meta
    print(f"  metadata: file_type {m.group(1) if m else None}, lowbit keys {'present' if 'lowbit.' in meta else 'absent'}: "
          f"{'ok' if good else 'FAIL'}")
    ok &= good
    for name, ty in sorted(types.items()):
        if name in ("token_embd.weight", "output.weight"):
            want = emb
        elif any(f".{s}.weight" in name for s in LINEAR):
            want = qtype
        else:
            want = "f32"
        if ty != want:
            print(f"  FAIL: {name} is {ty}, expected {want}")
            ok = False
    print(f"  tensor types: {'ok' if ok else 'FAIL'} ({len(types)} tensors; linear {qtype}, embeddings {emb})")
    return ok


def lowbit_ppl(lowbit, gguf, text):
    return parse_ppl(run([lowbit, "perplexity", gguf, "--text", text, "--ctx", str(PPL_CTX), "--chunks",
                          str(PPL_CHUNKS), "-t", THREADS]).stdout, "lowbit perplexity")


def peer(d, model, qtype, vs, emb):
    if not os.path.isdir(os.path.join(HERE, "node_modules", "node-llama-cpp")):
        return skip_or_fail(f"{HERE}/node_modules missing (cd tests/peer && npm ci --omit=optional)")
    lowbit = env_path("LOWBIT")
    src = os.path.join(d, f"{model}-f32.gguf")
    if not os.path.isfile(src):
        return skip_or_fail(f"{src} missing (the quant_setup fixture did not run or skipped)")
    text = os.path.join(d, "ppl_text.txt")
    ok = True
    try:
        out = os.path.join(d, f"{model}-{qtype}-emb{emb}.gguf")
        run([lowbit, "quantize", src, out, "--type", qtype, "--embeddings", emb, "-t", THREADS])
        ok &= check_types(lowbit, out, qtype, emb)
        if vs is None:
            peer_file = out
        elif vs == "f32":
            peer_file = src
        else:
            peer_file = os.path.join(d, f"{model}-{vs}-emb{emb}.gguf")
            run([lowbit, "quantize", src, peer_file, "--type", vs, "--embeddings", emb, "-t", THREADS])
        p_lb = lowbit_ppl(lowbit, out, text)
        p_pe = parse_ppl(run(["node", os.path.join(HERE, "llama_perplexity.mjs"), peer_file, text, str(PPL_CTX),
                              str(PPL_CHUNKS), THREADS]).stdout, "llama_perplexity.mjs")
        p_f32 = lowbit_ppl(lowbit, src, text)
        rel = abs(p_lb / p_pe - 1.0)
        good = rel <= PPL_TOL and math.isfinite(p_lb)
        ok &= good
        what = "the same file" if vs is None else f"{os.path.basename(peer_file)}"
        print(f"  PPL lowbit {qtype} {p_lb:.6f} vs llama.cpp on {what} {p_pe:.6f}: rel diff {rel:.3e} "
              f"(tol {PPL_TOL:.0e}) {'ok' if good else 'FAIL'}   [f32 model: {p_f32:.6f}]")
    except (RuntimeError, OSError) as e:
        print(f"  FAIL: {e}")
        return 1
    print(f"== {model} {qtype}: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


def gptq(d, qtype):
    lowbit = env_path("LOWBIT")
    model = "seq2" if qtype == "q2_0c" else "rand"   # rows of 512 for q2_0c
    src = os.path.join(d, f"{model}-f32.gguf")
    if not os.path.isfile(src):
        return skip_or_fail(f"{src} missing (the quant_setup fixture did not run or skipped)")
    out = os.path.join(d, f"{model}-{qtype}-gptq.gguf")
    try:
        p = run([lowbit, "quantize", src, out, "--type", qtype, "--method", "gptq", "--calib",
                 os.path.join(d, "calib_text.txt"), "--calib-ctx", "128", "--calib-chunks", "16", "-t", THREADS])
        print(p.stderr[-1500:])
        ok = check_types(lowbit, out, qtype, "q8_0")
        ppl = lowbit_ppl(lowbit, out, os.path.join(d, "ppl_text.txt"))
        good = math.isfinite(ppl) and ppl > 1.0
        print(f"  PPL lowbit {qtype} gptq {ppl:.4f} {'ok' if good else 'FAIL'}")
        ok &= good
        # the bytes do not depend on how the Hessians are split into calibration passes
        # (--calib-mem 1: one layer per pass) nor on the thread count
        out1 = os.path.join(d, f"{model}-{qtype}-gptq-1pass.gguf")
        p = run([lowbit, "quantize", src, out1, "--type", qtype, "--method", "gptq", "--calib",
                 os.path.join(d, "calib_text.txt"), "--calib-ctx", "128", "--calib-chunks", "16", "--calib-mem", "1",
                 "-t", "1"])
        same = open(out, "rb").read() == open(out1, "rb").read()
        passes = "1 layer per pass" in p.stderr
        print(f"  one layer per pass, 1 thread: {'identical bytes' if same else 'DIFFERENT bytes'}, "
              f"{'1 layer per pass' if passes else 'pass split not applied'} {'ok' if same and passes else 'FAIL'}")
        ok &= same and passes
    except (RuntimeError, OSError) as e:
        print(f"  FAIL: {e}")
        return 1
    return 0 if ok else 1


def cli(d):
    data = env_path("LOWBIT_DATA")
    lowbit = env_path("LOWBIT")
    s260 = os.path.join(data, "stories260K", "stories260K.bin")
    if not os.path.isfile(s260):
        return skip_or_fail(f"test data missing in {data}")
    os.makedirs(d, exist_ok=True)
    src = os.path.join(d, "stories260K-f32.gguf")
    ok = True
    try:
        run([lowbit, "import", s260, "--tokenizer", os.path.join(data, "stories260K", "tok512.bin"), "-o", src])
        # fallback: rows of 64 fit q8_0, rows of 172 (ffn_down) fit nothing but f16
        out = os.path.join(d, "stories260K-q2_k.gguf")
        p = run([lowbit, "quantize", src, out, "--type", "q2_k", "-t", THREADS])
        types = tensor_types(lowbit, out)
        notes = re.findall(r"^lowbit: note: (\S+) falls back to (\S+): (.*)$", p.stderr, re.M)
        noted = {n: t for n, t, _ in notes}
        for name, ty in types.items():
            if name.endswith("norm.weight"):
                want, why = "f32", None
            elif ".ffn_down." in name:
                want, why = "f16", "rows of 172"
            else:
                want, why = "q8_0", "rows of 64"
            if name in ("token_embd.weight", "output.weight"):
                why = None  # embeddings are q8_0 by default: not a fallback
            good = ty == want and (noted.get(name) == want if why else name not in noted)
            if not good:
                print(f"  FAIL fallback: {name}: type {ty} (want {want}), note {noted.get(name)}")
            ok &= good
        ok &= all("not a multiple of the q2_K block (256)" in r for _, _, r in notes)
        print(f"  fallback: {len(notes)} notes, types checked: {'ok' if ok else 'FAIL'}")
        # the quantized file runs
        ppl = lowbit_ppl(lowbit, out, os.path.join(data, "text", "tinyshakespeare.txt"))
        ok &= math.isfinite(ppl)

        # bad arguments: (argv, exit status, text the message must contain)
        bad_out = os.path.join(d, "must-not-exist.gguf")
        trunc = os.path.join(d, "truncated.gguf")
        with open(src, "rb") as f:
            blob = f.read()
        with open(trunc, "wb") as f:
            f.write(blob[: len(blob) // 2])
        cases = [
            ([src, bad_out], 2, "--type is required"),
            ([src, bad_out, "--type", "q3_k"], 2, "--type must be"),
            ([src, bad_out, "--type", "q2_k", "--method", "gptq"], 2, "needs --calib"),
            ([src, bad_out, "--type", "q2_k", "--method", "nope"], 2, "--method must be"),
            ([src, bad_out, "--type", "q2_k", "--calib", src], 2, "only used by --method gptq"),
            ([src, bad_out, "--type", "q2_k", "--embeddings", "q9"], 2, "--embeddings must be"),
            ([src, bad_out, "--type", "q2_k", "-t", "0"], 2, "bad option value"),
            ([src, "--type", "q2_k"], 2, "need IN.gguf and OUT.gguf"),
            ([src, src, "--type", "q2_k"], 2, "OUT must differ"),
            ([os.path.join(d, "missing.gguf"), bad_out, "--type", "q2_k"], 1, "missing.gguf"),
            ([trunc, bad_out, "--type", "q2_k"], 1, "truncated.gguf"),
            ([src, bad_out, "--type", "q2_k", "--method", "gptq", "--calib", os.path.join(d, "nocalib.txt")], 1,
             "nocalib.txt"),
            ([src, os.path.join(d, "no-such-dir", "x.gguf"), "--type", "q2_k"], 1, "no-such-dir"),
        ]
        for argv, status, text in cases:
            p = run([lowbit, "quantize", *argv], check=False)
            err_lines = [ln for ln in p.stderr.splitlines() if ln.startswith("lowbit")]
            good = p.returncode == status and text in p.stderr and not os.path.exists(bad_out)
            if status == 1:  # failures: exactly one "lowbit: ..." line
                good &= len([ln for ln in err_lines if not ln.startswith("lowbit: note")]) == 1
            leftovers = [f for f in os.listdir(d) if ".tmp" in f]
            good &= not leftovers
            print(f"  {'ok  ' if good else 'FAIL'} exit {p.returncode} (want {status}): {p.stderr.strip().splitlines()[:1]}")
            ok &= good
    except (RuntimeError, OSError) as e:
        print(f"  FAIL: {e}")
        return 1
    print(f"== quantize cli: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


def main():
    a = sys.argv[1:]
    if len(a) == 2 and a[0] == "setup":
        return setup(os.path.abspath(a[1]))
    if len(a) == 2 and a[0] == "cli":
        return cli(os.path.abspath(a[1]))
    if len(a) == 3 and a[0] == "gptq":
        return gptq(os.path.abspath(a[1]), a[2])
    if len(a) >= 4 and a[0] == "peer" and a[2] in MODELS:
        vs, emb, rest = None, "q8_0", a[4:]
        while rest:
            if rest[0] == "--vs" and len(rest) > 1:
                vs, rest = rest[1], rest[2:]
            elif rest[0] == "--emb" and len(rest) > 1:
                emb, rest = rest[1], rest[2:]
            else:
                break
        if not rest:
            return peer(os.path.abspath(a[1]), a[2], a[3], vs, emb)
    print("usage: check_quant.py setup DIR | peer DIR MODEL TYPE [--vs T] [--emb E] | gptq DIR TYPE | cli DIR",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
