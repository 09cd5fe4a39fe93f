"""ckpt_check.py CKPT STEP: a `lowbit train` checkpoint of the resume_cfg.sh model (llama, dim 64,
2 layers, 4 heads / 2 kv, ffn 128, vocab 512, tied; SEQ2 on attention, Sherry on the FFN) read
with h5py: names, shapes, step, attributes and sane values. Shapes are numpy (rows, cols)."""
import sys
import h5py
import numpy as np

path, step = sys.argv[1], int(sys.argv[2])
f = h5py.File(path, "r")
a = f.attrs
assert a["format"] in (b"lowbit-checkpoint", "lowbit-checkpoint"), a["format"]
assert int(a["step"]) == step, (a["step"], step)
assert int(a["adam_t"]) == step, a["adam_t"]
assert int(a["data_position"]) == 2 * step, a["data_position"]   # grad_accum 2
assert list(a["rng_state"]) == [11, step], a["rng_state"]
cfg = a["config"].decode() if isinstance(a["config"], bytes) else a["config"]
assert "quantizer: seq2" in cfg and "seed: 11" in cfg, cfg

dim, kv, ff, vocab = 64, 32, 128, 512
want = {"token_embd.weight": (vocab, dim), "output_norm.weight": (dim,)}
for l in range(2):
    b = f"blk.{l}."
    want.update({b + "attn_norm.weight": (dim,), b + "ffn_norm.weight": (dim,),
                 b + "attn_q.weight": (dim, dim), b + "attn_k.weight": (kv, dim), b + "attn_v.weight": (kv, dim),
                 b + "attn_output.weight": (dim, dim), b + "ffn_gate.weight": (ff, dim),
                 b + "ffn_up.weight": (ff, dim), b + "ffn_down.weight": (dim, ff)})
for group in ("weights", "adam_m", "adam_v"):
    names = {k for k in f[group].keys() if k != "scales"}
    assert names == set(want), (group, sorted(names ^ set(want)))
    for k, shape in want.items():
        d = f[group][k]
        assert d.shape == shape and d.dtype == np.float32, (group, k, d.shape, d.dtype)
        v = d[()]
        assert np.all(np.isfinite(v)), (group, k)
        if group == "adam_v": assert np.all(v >= 0), k
assert np.abs(f["weights/blk.0.attn_q.weight"][()]).max() > 0
np.testing.assert_array_equal(f["weights/output_norm.weight"].shape, (dim,))
# QAT scales: one per row (group: row); learned (SEQ2, attention) ones have Adam moments
quant = [n for n in want if any(s in n for s in ("attn_q", "attn_k", "attn_v", "attn_output", "ffn_"))
         and "norm" not in n]
assert set(f["scales"].keys()) == set(quant), sorted(f["scales"].keys())
for n in quant:
    s = f["scales"][n][()]
    assert s.shape == (want[n][0], 1) and np.all(s > 0), (n, s.shape)
learned = {n for n in quant if "attn" in n}
assert set(f["adam_m/scales"].keys()) == learned and set(f["adam_v/scales"].keys()) == learned
print(f"{path}: step {step}, {len(want)} weights, {len(quant)} scale tensors ({len(learned)} learned): ok")
