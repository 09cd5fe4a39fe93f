#!/usr/bin/python3
"""check_compare.py: `lowbit compare` end to end (tests/compare.cmake).

    check_compare.py table|independent|types|plot|errors WORKDIR

Models: karpathy's stories260K imported as the f32 teacher, plus f16 / q8_0 imports and a
`quantize --type tq2_0 --embeddings f16` file (stories260K's rows of 64 fall back to q8_0);
`types` also builds a random 256-wide llama2.c checkpoint so tq2_0 / q2_K really hold the
block linears. Text: the first 20000 bytes of tinyshakespeare (no trailing newline).

  table        CSV header and rows; the teacher's row (KL 0 exactly, top-1 100%, ratio 1);
               PPL == `lowbit perplexity` (same string); size / bpw / main type against
               `lowbit inspect`'s tensor list; the markdown table has the same rows.
  independent  KL(teacher || model), top-1 agreement and PPL recomputed with numpy from
               `lowbit logits` dumps of the same chunks, token ids read back from
               `lowbit tokenize` (HDF5, zstd chunks decoded through libzstd with ctypes).
               Tolerance: |KL - KL_np| <= 5e-8 + 1e-6 * KL_np (the CSV has 8 decimals),
               top-1 exactly, PPL within 1e-6 relative.
  types        main type and bits per weight of tq2_0 / q2_K files: 66 / 84 bytes per 256
               weights (llama.cpp's block sizes) -> 2.0625 / 2.6250 bpw over the block linears.
  plot         --plot writes a PNG (magic bytes, plausible size, no temp files left behind);
               skipped (77) without gnuplot unless CI=true.
  errors       missing model / teacher / text, not a GGUF, truncated GGUF, vocabulary of
               another size, same size but a different token, text too short for one
               chunk, --plot without gnuplot: exit 1, nothing on stdout, one line on stderr
               naming the file.
Exit 0 pass, 1 fail, 77 skip (data missing and CI not set).
"""
import csv
import ctypes
import ctypes.util
import io
import os
import re
import shutil
import struct
import subprocess
import sys

import numpy as np

CI = os.environ.get("CI") == "true"
CTX = 64
CHUNKS = 3
CSV_COLS = ["model", "type", "size_mb", "bpw", "bpw_linear", "ppl", "ppl_ratio", "kl_mean", "top1_pct", "decode_tok_s"]


def skip_or_fail(msg):
    print(("FAIL: " if CI else "SKIP: ") + msg)
    return 1 if CI else 77


def run(args, ok=True, **kw):
    r = subprocess.run([str(a) for a in args], capture_output=True, text=True, **kw)
    if ok and r.returncode != 0:
        raise SystemExit(f"FAIL: {' '.join(map(str, args))} -> exit {r.returncode}\n{r.stderr}")
    return r


class Env:
    def __init__(self, d):
        self.d = d
        self.lowbit = os.environ.get("LOWBIT")
        self.data = os.environ.get("LOWBIT_DATA", "")
        self.bin = os.path.join(self.data, "stories260K", "stories260K.bin")
        self.tok = os.path.join(self.data, "stories260K", "tok512.bin")
        self.shakespeare = os.path.join(self.data, "text", "tinyshakespeare.txt")

    def missing(self):
        if not self.lowbit or not os.access(self.lowbit, os.X_OK):
            return "LOWBIT must point at the lowbit binary"
        for f in (self.bin, self.tok, self.shakespeare):
            if not os.path.isfile(f):
                return f"test data missing: {f} (shared/data; set LOWBIT_DATA)"
        return None

    def p(self, name):
        return os.path.join(self.d, name)

    def build(self):
        """teacher + variants + the test text, in self.d"""
        if os.path.isdir(self.d):
            shutil.rmtree(self.d)
        os.makedirs(self.d)
        lb = self.lowbit
        run([lb, "import", self.bin, "--tokenizer", self.tok, "-o", self.p("teacher.gguf")])
        run([lb, "import", self.p("teacher.gguf"), "--type", "f16", "-o", self.p("f16.gguf")])
        run([lb, "import", self.p("teacher.gguf"), "--type", "q8_0", "-o", self.p("q8.gguf")])
        run([lb, "quantize", self.p("teacher.gguf"), self.p("tq2.gguf"), "--type", "tq2_0", "--embeddings", "f16"])
        with open(self.shakespeare, "rb") as f:
            text = f.read(20000).rstrip(b"\n")
        with open(self.p("text.txt"), "wb") as f:
            f.write(text)
        self.models = [self.p(n) for n in ("teacher.gguf", "f16.gguf", "q8.gguf", "tq2.gguf")]

    def compare(self, models, *extra, ok=True, env=None):
        return run([self.lowbit, "compare", "--teacher", self.p("teacher.gguf"), "--text", self.p("text.txt"), *models,
                    "--ctx", CTX, "--chunks", CHUNKS, "-t", 1, "--decode-tokens", 8, *extra], ok=ok, env=env)


def parse_csv(out):
    rows = list(csv.reader(io.StringIO(out)))
    if not rows or rows[0] != CSV_COLS:
        raise SystemExit(f"FAIL: CSV header {rows[0] if rows else None}, expected {CSV_COLS}")
    for r in rows[1:]:
        if len(r) != len(CSV_COLS):
            raise SystemExit(f"FAIL: CSV row with {len(r)} fields: {r}")
    return [dict(zip(CSV_COLS, r)) for r in rows[1:]]


class Checker:
    def __init__(self):
        self.failed = 0

    def check(self, ok, what):
        print(("ok    " if ok else "FAIL  ") + what)
        self.failed += not ok


# --- inspect: the tensor list, read independently of compare's own accounting ------------------
TENSOR_RE = re.compile(r"^\s+(\S+)\s+(\S+)\s+\{([\d, ]+)\}\s+(\d+) bytes")


def tensor_facts(lowbit, path):
    out = run([lowbit, "inspect", path]).stdout
    bits = weights = lin_bits = lin_weights = 0
    by_type = {}
    for line in out.splitlines():
        m = TENSOR_RE.match(line)
        if not m:
            continue
        name, ty, dims, nbytes = m.group(1), m.group(2), [int(x) for x in m.group(3).split(",")], int(m.group(4))
        n = int(np.prod(dims))
        bits += 8 * nbytes
        weights += n
        if name.startswith("blk.") and name.endswith(".weight") and len(dims) == 2:
            lin_bits += 8 * nbytes
            lin_weights += n
            by_type[ty] = by_type.get(ty, 0) + n
    main = max(sorted(by_type), key=lambda t: by_type[t])
    return bits / weights, lin_bits / lin_weights, main


# --- token ids from `lowbit tokenize` (HDF5 with lowbit's zstd filter) ---------------------------
def read_token_store(path):
    import h5py
    zstd = ctypes.CDLL(ctypes.util.find_library("zstd") or "libzstd.so.1")
    zstd.ZSTD_decompress.restype = ctypes.c_size_t
    zstd.ZSTD_decompress.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t]
    zstd.ZSTD_isError.argtypes = [ctypes.c_size_t]
    parts = []
    with h5py.File(path, "r") as f:
        d = f["train"]
        n, chunk = d.shape[0], d.chunks[0]
        for i in range(0, n, chunk):
            mask, raw = d.id.read_direct_chunk((i,))
            want = min(chunk, n - i) * 4
            if mask == 0:   # the zstd filter was applied
                buf = ctypes.create_string_buffer(chunk * 4)
                got = zstd.ZSTD_decompress(buf, chunk * 4, raw, len(raw))
                if zstd.ZSTD_isError(got):
                    raise SystemExit(f"FAIL: {path}: chunk {i} does not decompress")
                raw = buf.raw[:got]
            parts.append(np.frombuffer(raw[:want], dtype="<i4"))
    return np.concatenate(parts)


def log_softmax(x):
    x = x.astype(np.float64)
    m = x.max(axis=1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=1, keepdims=True))


# --- the tests ----------------------------------------------------------------------------------
def test_table(e, c):
    rows = parse_csv(e.compare(e.models, "--csv").stdout)
    c.check(len(rows) == len(e.models) + 1, f"{len(rows)} rows for the teacher + {len(e.models)} models")
    c.check([r["model"] for r in rows] == ["teacher.gguf"] + [os.path.basename(m) for m in e.models],
            "rows in order, teacher first, named by file basename")
    for r in (rows[0], rows[1]):   # the teacher, and the teacher file passed again as a model
        c.check(r["kl_mean"] == "0.00000000" and float(r["kl_mean"]) == 0.0, f"{r['model']}: KL {r['kl_mean']} == 0 exactly")
        c.check(r["top1_pct"] == "100.0000", f"{r['model']}: top-1 {r['top1_pct']} == 100%")
        c.check(r["ppl_ratio"] == "1.000000", f"{r['model']}: PPL ratio {r['ppl_ratio']} == 1")
    ppl_t = float(rows[0]["ppl"])
    for r, m in zip(rows[1:], e.models):
        out = run([e.lowbit, "perplexity", m, "--text", e.p("text.txt"), "--ctx", CTX, "--chunks", CHUNKS, "-t", 1]).stdout
        ppl = re.search(r"^PPL = (\S+)$", out, re.M).group(1)
        c.check(r["ppl"] == ppl, f"{r['model']}: PPL {r['ppl']} == lowbit perplexity's {ppl}")
        c.check(abs(float(r["ppl_ratio"]) - float(ppl) / ppl_t) <= 1e-6, f"{r['model']}: ratio {r['ppl_ratio']}")
        kl, top1 = float(r["kl_mean"]), float(r["top1_pct"])
        c.check(0 <= kl < 1 and 0 <= top1 <= 100, f"{r['model']}: KL {kl} and top-1 {top1} in range")
        c.check(float(r["decode_tok_s"]) > 0, f"{r['model']}: decode {r['decode_tok_s']} tok/s")
        size = os.path.getsize(m) / 1e6
        c.check(abs(float(r["size_mb"]) - size) <= 0.0005, f"{r['model']}: size {r['size_mb']} MB (file {size:.4f})")
        bpw, bpw_lin, main = tensor_facts(e.lowbit, m)
        c.check(abs(float(r["bpw"]) - bpw) <= 5e-5 and abs(float(r["bpw_linear"]) - bpw_lin) <= 5e-5,
                f"{r['model']}: bpw {r['bpw']} / {r['bpw_linear']} vs inspect {bpw:.4f} / {bpw_lin:.4f}")
        c.check(r["type"] == main, f"{r['model']}: main type {r['type']} == inspect's majority {main}")
    c.check(rows[0]["type"] == "f32" and rows[0]["bpw"] == "32.0000", "teacher: f32, 32 bpw")
    c.check(rows[2]["type"] == "f16" and rows[2]["bpw_linear"] == "16.0000", "f16: 16 bpw over the block linears")
    c.check(rows[2]["kl_mean"] != "0.00000000" and float(rows[2]["kl_mean"]) < float(rows[3]["kl_mean"]),
            f"KL grows as bits shrink: f16 {rows[2]['kl_mean']} < q8_0 {rows[3]['kl_mean']}")
    # every column but the speed is the same with 2 threads (the later "-t 2" overrides "-t 1")
    rows2 = parse_csv(e.compare(e.models, "--csv", "-t", 2).stdout)
    drop = lambda rs: [{k: v for k, v in r.items() if k != "decode_tok_s"} for r in rs]
    c.check(drop(rows2) == drop(rows), "-t 2 gives the same table (decode speed aside)")
    # the markdown table: header, alignment row, one row per model with the same names and PPL
    csv_file = e.p("table.csv")
    md = e.compare(e.models, "--csv-file", csv_file).stdout.splitlines()
    with open(csv_file) as f:
        rows3 = parse_csv(f.read())
    c.check(drop(rows3) == drop(rows), "--csv-file writes the same CSV table next to the markdown")
    c.check(len(md) == 2 + len(rows) and all(l.startswith("|") and l.endswith("|") for l in md),
            f"markdown: {len(md)} lines, all table rows")
    cells = [[x.strip() for x in l.strip("|").split("|")] for l in md[2:]]
    c.check([x[0] for x in cells] == [r["model"] for r in rows] and [x[5] for x in cells] == [r["ppl"] for r in rows],
            "markdown rows: same models and PPL as the CSV")


def test_independent(e, c):
    rows = parse_csv(e.compare(e.models[1:], "--csv").stdout)
    run([e.lowbit, "tokenize", "--vocab", e.p("teacher.gguf"), e.p("text.txt"), "-o", e.p("text.h5"),
         "--val-fraction", "0", "-q"])
    ids = read_token_store(e.p("text.h5"))
    c.check(ids[0] == 1 and len(ids) >= 2 * CTX * CHUNKS, f"{len(ids)} tokens, BOS first")
    first = CTX // 2
    logp = {}   # model -> list of per-chunk scored rows (log-softmax, float64)
    nll = {}
    for m in e.models:
        logp[m], nll[m] = [], []
        for ch in range(CHUNKS):
            tokens = ids[ch * CTX:(ch + 1) * CTX].copy()
            tokens[0] = 1   # BOS
            tf = e.p(f"chunk{ch}.txt")
            with open(tf, "w") as f:
                f.write(",".join(map(str, tokens)))
            out = e.p("logits.bin")
            run([e.lowbit, "logits", m, "--tokens-file", tf, "-o", out, "-t", 1])
            x = np.fromfile(out, dtype="<f4").reshape(CTX, -1)
            lp = log_softmax(x[first:CTX - 1])   # positions first .. ctx-2 predict the next token
            nxt = ids[ch * CTX + first + 1:(ch + 1) * CTX]
            logp[m].append(lp)
            nll[m].append(-lp[np.arange(len(nxt)), nxt])
    t = np.concatenate(logp[e.models[0]])
    for r, m in zip(rows, e.models):
        q = np.concatenate(logp[m])
        kl = float(np.mean(np.sum(np.exp(t) * (t - q), axis=1)))
        top1 = 100.0 * float(np.mean(t.argmax(axis=1) == q.argmax(axis=1)))
        ppl = float(np.exp(np.mean(np.concatenate(nll[m]))))
        got_kl, got_top1, got_ppl = float(r["kl_mean"]), float(r["top1_pct"]), float(r["ppl"])
        c.check(abs(got_kl - kl) <= 5e-8 + 1e-6 * kl, f"{r['model']}: KL {r['kl_mean']} vs numpy {kl:.10f}")
        c.check(abs(got_top1 - top1) <= 5e-5, f"{r['model']}: top-1 {r['top1_pct']} vs numpy {top1:.4f}")
        c.check(abs(got_ppl - ppl) <= 1e-6 * ppl, f"{r['model']}: PPL {r['ppl']} vs numpy {ppl:.6f}")


def write_llama2c(path, dim, hidden, n_layers, n_heads, n_kv, vocab, seq_len, seed):
    """a legacy (v0) llama2.c checkpoint with random weights and a shared classifier"""
    hs = dim // n_heads
    kv = hs * n_kv
    n = (vocab * dim + 2 * n_layers * dim + dim + 2 * n_layers * dim * dim + 2 * n_layers * dim * kv
         + 3 * n_layers * dim * hidden + seq_len * hs)
    w = np.random.default_rng(seed).standard_normal(n).astype("<f4") * 0.3
    with open(path, "wb") as f:
        f.write(struct.pack("<7i", dim, hidden, n_layers, n_heads, n_kv, vocab, seq_len))
        f.write(w.tobytes())


def test_types(e, c):
    lb = e.lowbit
    write_llama2c(e.p("wide.bin"), 256, 256, 1, 4, 4, 512, 128, seed=11)
    run([lb, "import", e.p("wide.bin"), "--tokenizer", e.tok, "-o", e.p("wide.gguf")])
    for t, name in (("tq2_0", "w-tq2.gguf"), ("q2_k", "w-q2k.gguf")):
        run([lb, "quantize", e.p("wide.gguf"), e.p(name), "--type", t])
    r = run([lb, "compare", "--teacher", e.p("wide.gguf"), "--text", e.p("text.txt"), e.p("w-tq2.gguf"),
             e.p("w-q2k.gguf"), "--ctx", CTX, "--chunks", 1, "-t", 1, "--decode-tokens", 0, "--csv"])
    rows = parse_csv(r.stdout)
    want = [("wide.gguf", "f32", "32.0000"), ("w-tq2.gguf", "tq2_0", "2.0625"), ("w-q2k.gguf", "q2_K", "2.6250")]
    for row, (name, ty, bpw_lin) in zip(rows, want):
        c.check((row["model"], row["type"], row["bpw_linear"]) == (name, ty, bpw_lin),
                f"{row['model']}: main type {row['type']}, {row['bpw_linear']} bpw linear (want {ty}, {bpw_lin})")
        c.check(row["decode_tok_s"] == "", f"{row['model']}: --decode-tokens 0 leaves decode empty")
    c.check(all(float(row["kl_mean"]) > 0 for row in rows[1:]), "2-bit files differ from the teacher (KL > 0)")


def test_plot(e, c):
    if not shutil.which("gnuplot"):
        return skip_or_fail("gnuplot not on PATH (.ci/install-deps.sh installs gnuplot-nox)")
    png = e.p("plot.png")
    e.compare(e.models[1:], "--plot", png)
    with open(png, "rb") as f:
        data = f.read()
    c.check(data[:8] == b"\x89PNG\r\n\x1a\n", f"{png}: PNG magic bytes")
    c.check(5000 < len(data) < 2_000_000, f"{png}: {len(data)} bytes")
    left = sorted(x for x in os.listdir(e.d) if "tmp" in x)
    c.check(not left, f"no temp files left behind ({left})")
    return None


def expect_error(e, c, what, args, name, env=None):
    r = run([e.lowbit, "compare", *args], ok=False, env=env)
    lines = r.stderr.strip("\n").split("\n")
    ok = r.returncode == 1 and r.stdout == "" and len(lines) == 1 and lines[0].startswith("lowbit: ") and name in lines[0]
    c.check(ok, f"{what}: exit {r.returncode}, stderr {r.stderr.strip()!r}")


def test_errors(e, c):
    lb, T, X = e.lowbit, e.p("teacher.gguf"), e.p("text.txt")
    base = ["--ctx", CTX, "--chunks", 1, "-t", 1, "--decode-tokens", 4]
    # a truncated GGUF, the same vocabulary size with one token changed, a vocabulary of 300 tokens
    with open(T, "rb") as f:
        gguf = f.read()
    with open(e.p("truncated.gguf"), "wb") as f:
        f.write(gguf[:5000])
    assert gguf.count(b"<unk>") == 1
    with open(e.p("othertok.gguf"), "wb") as f:
        f.write(gguf.replace(b"<unk>", b"<unq>"))
    with open(e.tok, "rb") as f:
        tok = f.read()
    off = 4
    for _ in range(300):   # keep the first 300 entries: float score, int32 length, bytes
        off += 8 + struct.unpack_from("<i", tok, off + 4)[0]
    with open(e.p("tok300.bin"), "wb") as f:
        f.write(tok[:off])
    write_llama2c(e.p("v300.bin"), 64, 128, 1, 4, 4, 300, 64, seed=5)
    run([lb, "import", e.p("v300.bin"), "--tokenizer", e.p("tok300.bin"), "-o", e.p("v300.gguf")])
    with open(e.p("short.txt"), "w") as f:
        f.write("Once upon a time there was a tiny model.")

    expect_error(e, c, "missing model", ["--teacher", T, "--text", X, e.p("nope.gguf"), *base], "nope.gguf")
    expect_error(e, c, "missing teacher", ["--teacher", e.p("gone.gguf"), "--text", X, T, *base], "gone.gguf")
    expect_error(e, c, "missing text", ["--teacher", T, "--text", e.p("nothing.txt"), T, *base], "nothing.txt")
    expect_error(e, c, "not a GGUF", ["--teacher", T, "--text", X, X, *base], "text.txt")
    expect_error(e, c, "truncated GGUF", ["--teacher", T, "--text", X, e.p("truncated.gguf"), *base], "truncated.gguf")
    expect_error(e, c, "vocabulary of another size", ["--teacher", T, "--text", X, e.p("v300.gguf"), *base], "v300.gguf")
    expect_error(e, c, "a different token", ["--teacher", T, "--text", X, T, e.p("othertok.gguf"), *base],
                 "othertok.gguf")
    expect_error(e, c, "text too short", ["--teacher", T, "--text", e.p("short.txt"), T, *base], "short.txt")
    env = dict(os.environ, PATH=e.p("empty-path"))
    expect_error(e, c, "--plot without gnuplot", ["--teacher", T, "--text", X, T, "--plot", e.p("x.png"), *base],
                 "gnuplot", env=env)
    c.check(not os.path.exists(e.p("x.png")), "no plot written")
    r = run([lb, "compare", "--teacher", T, "--text", X, T, "--ctx", "zero"], ok=False)
    c.check(r.returncode == 2 and r.stdout == "", f"bad --ctx value: exit {r.returncode} (usage)")


TESTS = {"table": test_table, "independent": test_independent, "types": test_types, "plot": test_plot,
         "errors": test_errors}


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in TESTS:
        print(__doc__)
        return 2
    e = Env(sys.argv[2])
    why = e.missing()
    if why:
        return skip_or_fail(why)
    e.build()
    c = Checker()
    rc = TESTS[sys.argv[1]](e, c)
    if rc is not None:
        return rc
    print(f"{sys.argv[1]}: {'FAIL' if c.failed else 'ok'} ({c.failed} failed)")
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
