#!/usr/bin/python3
"""check_logits.py: read `lowbit teacher`'s stores with h5py (Debian python3-h5py + numpy),
independently of lowbit.

  check_logits.py DIR TOKENS.h5

DIR holds full.h5, topk.h5, sampled.h5 (one run each over the same windows) and
dump-<mode>.{ids,logits,counts}: what lowbit's reader returned for every window
(tests/teacher/test_h5_logits dump). Checks, per mode:
  - datasets, shapes, dtypes (float16 / int32 / uint8), chunk = one window, filter 32015;
  - every root attribute, tokens_hash recomputed (FNV-1a 64) from TOKENS.h5's /train read by
    h5py, bytes_per_token == file size / N within 2%;
  - h5py's values == lowbit's reader's values, bit for bit;
  - topk against the full store: the stored logits are the K largest of the full row (same
    fp16 values, in order) and full[ids] == stored logits; where the full row has no tie at the
    K-th value, the id set equals numpy's argsort top K;
  - sampled against the full store: ids ascending distinct, -1/0 padding, counts sum to S; and
    the draws follow softmax(full / temperature): over all positions, the mean of
    sum_j (c_j/S) q(id_j) equals the mean of sum_i q_i^2 within 5 standard errors
    (per position the estimator has variance (sum q^3 - (sum q^2)^2) / S).
The zstd chunks are decoded by h5py through the 32015 plugin (HDF5_PLUGIN_PATH: lowbit's
build/h5plugins, or hdf5plugin's when it has zstd; LOWBIT_H5_PLUGIN_REQUIRED=1 makes its
absence an error) and, independently, chunk by chunk with libzstd (ctypes) from the raw chunks,
which also covers builds without a plugin. Exit 0 ok, 1 mismatch, 77 skip."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "h5"))
from h5util import attrs, fail, h5py, np, zstd_decompress  # noqa: E402,F401


def fnv1a64(ids):
    h = 0xcbf29ce484222325
    for b in np.asarray(ids, dtype="<i4").tobytes():
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def check_dataset(f, name, dtype, shape, T):
    if name not in f:
        fail("%s: no /%s" % (f.filename, name))
    d = f[name]
    if d.dtype != np.dtype(dtype) or d.shape != shape:
        fail("%s /%s: %s %s, want %s %s" % (f.filename, name, d.dtype, d.shape, dtype, shape))
    if d.chunks != (T, shape[1]):
        fail("%s /%s: chunks %s, want one window (%d, %d)" % (f.filename, name, d.chunks, T, shape[1]))
    if "32015" not in d._filters:
        fail("%s /%s: no zstd filter 32015 (%s)" % (f.filename, name, d._filters))
    # each chunk (one window) read raw and decoded with libzstd: checks the wire format and
    # works where h5py has no 32015 plugin (sanitizer builds)
    parts = []
    for row0 in range(0, shape[0], T):
        mask, raw = d.id.read_direct_chunk((row0, 0))
        if mask != 0:
            fail("%s /%s: chunk at row %d stored unfiltered" % (f.filename, name, row0))
        parts.append(np.frombuffer(zstd_decompress(raw), dtype=np.dtype(dtype).newbyteorder("<")).reshape(T, shape[1]))
    raw_values = np.concatenate(parts)
    try:
        direct = d[...]
    except OSError as e:
        if os.environ.get("LOWBIT_H5_PLUGIN_REQUIRED") == "1":
            fail("%s /%s: h5py cannot decode it (HDF5_PLUGIN_PATH=%s): %s" % (f.filename, name, os.environ.get("HDF5_PLUGIN_PATH"), e))
        return raw_values
    if not np.array_equal(direct.view("u%d" % direct.itemsize), raw_values.view("u%d" % direct.itemsize)):
        fail("%s /%s: h5py's zstd decoding disagrees with libzstd's" % (f.filename, name))
    DECODED_BY_H5PY.add(name)
    return direct


DECODED_BY_H5PY = set()


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        sys.exit(2)
    d, tokens_path = sys.argv[1], sys.argv[2]
    with h5py.File(tokens_path, "r") as f:
        t = f["train"]
        try:
            train = t[...]
        except OSError:   # no 32015 plugin (sanitizer builds): decode the chunks with libzstd
            train = np.concatenate([np.frombuffer(zstd_decompress(t.id.read_direct_chunk((o,))[1]), dtype="<i4")
                                    for o in range(0, t.shape[0], t.chunks[0])])[: t.shape[0]]
    stores = {}
    for mode in ("full", "topk", "sampled"):
        path = os.path.join(d, mode + ".h5")
        with h5py.File(path, "r") as f:
            a = attrs(f)
            for key, want in (("format", "lowbit-logits"), ("version", 1), ("mode", mode), ("split", "train")):
                if a.get(key) != want:
                    fail("%s: attribute %s = %r, want %r" % (path, key, a.get(key), want))
            for key in ("n_vocab", "seq_len", "n_windows", "k", "version", "seed", "tokens_hash"):
                if not isinstance(a[key], np.int64):
                    fail("%s: attribute %s is %s, want int64" % (path, key, type(a[key])))
            for key in ("temperature", "bytes_per_token"):
                if not isinstance(a[key], np.float64):
                    fail("%s: attribute %s is %s, want float64" % (path, key, type(a[key])))
            V, T, NW, K = int(a["n_vocab"]), int(a["seq_len"]), int(a["n_windows"]), int(a["k"])
            N = NW * T
            if fnv1a64(train[: N + 1]) != int(a["tokens_hash"]) & 0xFFFFFFFFFFFFFFFF:
                fail("%s: tokens_hash is not FNV-1a of /train[:%d]" % (path, N + 1))
            bpt = os.path.getsize(path) / N
            if abs(a["bytes_per_token"] - bpt) > 0.02 * bpt:
                fail("%s: bytes_per_token %g, file size / N = %g" % (path, a["bytes_per_token"], bpt))
            if mode == "full":
                if K != 0 or a["temperature"] != 1.0:
                    fail("%s: k %d temperature %g" % (path, K, a["temperature"]))
                if set(f.keys()) != {"logits"}:
                    fail("%s: datasets %s" % (path, list(f.keys())))
                s = {"logits": check_dataset(f, "logits", np.float16, (N, V), T)}
            elif mode == "topk":
                if set(f.keys()) != {"ids", "logits"}:
                    fail("%s: datasets %s" % (path, list(f.keys())))
                s = {"ids": check_dataset(f, "ids", np.int32, (N, K), T), "logits": check_dataset(f, "logits", np.float16, (N, K), T)}
            else:
                if set(f.keys()) != {"ids", "counts"}:
                    fail("%s: datasets %s" % (path, list(f.keys())))
                s = {"ids": check_dataset(f, "ids", np.int32, (N, K), T), "counts": check_dataset(f, "counts", np.uint8, (N, K), T)}
            s.update(V=V, T=T, N=N, K=K, temperature=float(a["temperature"]), bpt=bpt)
            stores[mode] = s
        # lowbit's reader returned exactly these values
        for name, dt in (("ids", "<i4"), ("logits", "<f4"), ("counts", "u1")):
            if name not in s:
                continue
            dump = np.fromfile(os.path.join(d, "dump-%s.%s" % (mode, name)), dtype=dt)
            mine = s[name].astype(dt).reshape(-1)
            if dump.shape != mine.shape or not np.array_equal(dump.view("u%d" % np.dtype(dt).itemsize), mine.view("u%d" % np.dtype(dt).itemsize)):
                fail("%s: /%s differs between h5py and lowbit's reader" % (mode, name))
        print("%s: %d positions x %d, h5py == lowbit reader bit for bit (%s), %.2f bytes/token" % (mode, s["N"], s["K"] or s["V"],
              "h5py decoded the zstd chunks itself and agrees with libzstd" if DECODED_BY_H5PY else "chunks via libzstd: no 32015 plugin here", s["bpt"]))

    full = stores["full"]["logits"].astype(np.float64)
    N, V = full.shape
    if stores["topk"]["N"] != N or stores["sampled"]["N"] != N:
        fail("stores cover different windows")
    # --- topk vs numpy on the full store
    tk_ids, tk_l, K = stores["topk"]["ids"], stores["topk"]["logits"].astype(np.float64), stores["topk"]["K"]
    sorted_desc = -np.sort(-full, axis=1)[:, :K]
    if not np.array_equal(sorted_desc, tk_l):
        fail("topk logits are not the K largest values of the full store")
    if not np.array_equal(np.take_along_axis(full, tk_ids.astype(np.int64), axis=1), tk_l):
        fail("full[topk ids] != topk logits")
    order = np.argsort(-full, axis=1, kind="stable")[:, :K]
    kth = sorted_desc[:, K - 1]
    untied = (full == kth[:, None]).sum(axis=1) == 1   # no tie at the cut
    same = np.array([set(order[n]) == set(tk_ids[n]) for n in range(N)])
    if not same[untied].all():
        fail("topk id sets differ from numpy argsort where the K-th value is not tied")
    print("topk: == numpy top-%d of the full store (values everywhere; id sets at %d/%d positions without a tie at the cut)" % (K, untied.sum(), N))
    # --- sampled vs softmax of the full store
    ids, counts, S, temp = stores["sampled"]["ids"], stores["sampled"]["counts"].astype(np.int64), stores["sampled"]["K"], stores["sampled"]["temperature"]
    if not (counts.sum(axis=1) == S).all():
        fail("sampled counts do not sum to S")
    real = ids >= 0
    if ((~real) & (counts != 0)).any() or (real & (counts == 0)).any() or (ids >= V).any() or (ids < -1).any():
        fail("sampled ids/counts: bad padding or out-of-range ids")
    n_real = real.sum(axis=1)
    if not (real == (np.arange(S)[None, :] < n_real[:, None])).all():
        fail("sampled: padding is not at the end of each row")
    masked = np.where(real, ids, np.iinfo(np.int32).max).astype(np.int64)
    if (np.diff(masked, axis=1)[real[:, 1:]] <= 0).any():
        fail("sampled: ids not strictly ascending")
    z = full / temp
    q = np.exp(z - z.max(axis=1, keepdims=True))
    q /= q.sum(axis=1, keepdims=True)
    qid = np.take_along_axis(q, np.where(real, ids, 0).astype(np.int64), axis=1) * real
    est = (counts / S * qid).sum(axis=1)
    sq = (q * q).sum(axis=1)
    var = ((q ** 3).sum(axis=1) - sq ** 2) / S
    zscore = (est.mean() - sq.mean()) / (np.sqrt(var.sum()) / N)
    print("sampled: mean sum_j (c_j/S) q(id_j) = %.6f vs mean sum q^2 = %.6f: %.2f standard errors (limit 5); %.2f distinct ids per position"
          % (est.mean(), sq.mean(), zscore, n_real.mean()))
    if abs(zscore) > 5:
        fail("sampled draws do not follow softmax(full / temperature)")
    print("ok")


main()
