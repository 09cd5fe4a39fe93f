#!/usr/bin/python3
"""check_h5py.py: read lowbit's HDF5 files with h5py (Debian python3-h5py), independently of lowbit.

  check_h5py.py formulas DIR      DIR/tokens.h5 and DIR/ckpt.h5 written by tests/test_h5.c: every
                                  value recomputed here from the same formulas
  check_h5py.py tokenize H5 REF   H5 written by `lowbit tokenize` (one file): /train + /val
                                  concatenated equals the ids in REF (llama.cpp's tokenization
                                  through node-llama-cpp, without BOS) with BOS in front

Token datasets use the HDF5 zstd filter 32015. Debian's python3-hdf5plugin ships no zstd
plugin; lowbit builds one (build/h5plugins/liblowbit_h5zstd.so; HDF5_PLUGIN_PATH, and
LOWBIT_H5_PLUGIN_REQUIRED=1 makes its absence an error). Independently of any plugin, each
chunk is also read raw (read_direct_chunk) and decompressed with libzstd through ctypes: this
checks the wire format, one zstd frame per chunk, and works where no plugin is available.
Exit 0 ok, 1 mismatch, 77 skip (h5py missing, outside CI)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from h5util import ZSTD_FILTER, attrs, fail, h5py, np, zstd_decompress  # noqa: E402,F401


def read_ids(f, name):
    """a 1-D zstd dataset, chunk by chunk through libzstd; and via h5py when it can"""
    d = f[name]
    if str(ZSTD_FILTER) not in d._filters:
        fail("/%s: filter %d missing (filters %s)" % (name, ZSTD_FILTER, d._filters))
    if d.dtype != np.int32 or d.ndim != 1:
        fail("/%s: %s %dD, want int32 1-D" % (name, d.dtype, d.ndim))
    n, chunk = d.shape[0], d.chunks[0]
    parts = []
    for off in range(0, n, chunk):
        mask, raw = d.id.read_direct_chunk((off,))
        if mask != 0:
            fail("/%s: chunk at %d stored unfiltered (mask %d)" % (name, off, mask))
        parts.append(np.frombuffer(zstd_decompress(raw), dtype="<i4"))
    ids = np.concatenate(parts)[:n] if parts else np.zeros(0, np.int32)
    try:
        direct = d[...]
    except OSError as e:
        if os.environ.get("LOWBIT_H5_PLUGIN_REQUIRED") == "1":
            fail("/%s: h5py cannot decode it with HDF5_PLUGIN_PATH=%s: %s" % (name, os.environ.get("HDF5_PLUGIN_PATH"), e))
        direct = None   # no 32015 plugin for h5py here: the raw path above is the check
    if direct is not None and not np.array_equal(direct, ids):
        fail("/%s: h5py's own zstd decoding disagrees with libzstd's" % name)
    print("/%s: %d ids in %d zstd chunks%s" % (name, n, len(parts), ", h5py decoded it too" if direct is not None else ""))
    return ids


def check_formulas(d):
    i = np.arange(300000, dtype=np.int64)
    train = ((i // 3 + (i % 7) * 11) % 509).astype(np.int32)
    i = np.arange(5003, dtype=np.int64)
    val = ((i * 13) % 512).astype(np.int32)
    with h5py.File(os.path.join(d, "tokens.h5"), "r") as f:
        a = attrs(f)
        if a["format"] != "lowbit-tokens" or a["version"] != 1 or a["n_vocab"] != 512 or a["bos_id"] != 1:
            fail("token attributes: %s" % dict(a))
        if a["n_train"] != 300000 or a["n_val"] != 5003 or a["sources"] != "a.txt\nb.txt\n" or a["val_fraction"] != 0.25:
            fail("token attributes: %s" % dict(a))
        if not np.array_equal(read_ids(f, "train"), train):
            fail("/train differs from the formula")
        if not np.array_equal(read_ids(f, "val"), val):
            fail("/val differs from the formula")
    names = ["weights/token_embd.weight", "weights/blk.0.attn_q.weight", "adam_m/blk.0.attn_q.weight",
             "scales/blk.0.attn_q.weight"]
    shapes = [(512, 64), (64, 64), (64, 64), (64,)]
    step = 7
    with h5py.File(os.path.join(d, "ckpt.h5"), "r") as f:
        for k, (name, shape) in enumerate(zip(names, shapes)):
            x = f[name]
            if x.dtype != np.float32 or x.shape != shape:
                fail("%s: %s %s, want float32 %s" % (name, x.dtype, x.shape, shape))
            i = np.arange(int(np.prod(shape)), dtype=np.int64)
            want = (((i * (k + 3)) % 1000 - 500).astype(np.float32) / np.float32(64) + np.float32(step)).reshape(shape)
            if not np.array_equal(x[...], want):
                fail("%s differs from the formula" % name)
        a = attrs(f)
        if a["format"] != "lowbit-checkpoint" or a["version"] != 1 or a["step"] != step or a["data_step"] != 3 * step:
            fail("checkpoint attributes: %s" % dict(a))
        if a["lr"] != 3e-4 or a["config_yaml"] != "model: stories260K.gguf\nlr: 3e-4 # comment\nquant:\n  type: seq2\n":
            fail("checkpoint lr / config_yaml: %r %r" % (a["lr"], a["config_yaml"]))
        rng = a["rng_state"]
        if rng.dtype != np.uint64 or list(rng) != [0x0123456789abcdef, 0xfedcba9876543210, step, 2**64 - 1]:
            fail("rng_state: %r" % rng)
        print("checkpoint: %d tensors and attributes match" % len(names))
    print("ok")


def check_tokenize(h5, ref):
    with open(ref) as fh:
        want = [int(s) for s in fh.read().replace(",", " ").split()]
    with h5py.File(h5, "r") as f:
        a = attrs(f)
        ids = np.concatenate([read_ids(f, "train"), read_ids(f, "val")])
        bos = int(a["bos_id"])
        if bos >= 0:
            want = [bos] + want
        if a["n_train"] + a["n_val"] != len(want):
            fail("%d + %d tokens, llama.cpp gives %d" % (a["n_train"], a["n_val"], len(want)))
        n_val = int(len(want) * float(a["val_fraction"]))
        if a["n_val"] != n_val:
            fail("n_val %d, the split rule gives %d" % (a["n_val"], n_val))
        if not np.array_equal(ids, np.array(want, dtype=np.int32)):
            k = int(np.argmax(ids != np.array(want, dtype=np.int32)))
            fail("token %d: lowbit %d, llama.cpp %d" % (k, ids[k], want[k]))
        print("%s: %d tokens (train %d, val %d) identical to llama.cpp's tokenization" %
              (h5, len(want), a["n_train"], a["n_val"]))
    print("ok")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "formulas":
        check_formulas(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "tokenize":
        check_tokenize(sys.argv[2], sys.argv[3])
    else:
        print(__doc__)
        sys.exit(2)
