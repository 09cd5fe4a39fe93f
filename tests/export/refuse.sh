#!/bin/sh
# What export must refuse, and what it must still accept:
#  - unrepresentable pairs (seq2 -> tq1_0 / stq1_0, absmean -> q2_0c, lsq3 -> q2_k, scales not
#    fp16-exact (no qat.*.format), 256-scale groups into 512-blocks, FP class -> q2_k, Arenas
#    mid-anneal): exit 1, ONE stderr line naming tensor, quantizer and type, no output file;
#  - --allow-lossy: writes, reports a relative error norm per tensor;
#  - damaged / foreign checkpoints (not HDF5, truncated, missing tensors, wrong shapes): one line, no file;
#  - a checkpoint without hp.* / vocab_source attributes (written before they existed): the
#    hparams come from its config; the same bytes as the full checkpoint's export given --vocab;
#    without --vocab a clear error asking for it;
#  - an FP checkpoint -> f32: the master weights bit for bit.
# $1 = pairs | pairs2 | damaged | old (four ctests, so they run in parallel).
. "$(dirname "$0")/common.sh"
PART="$1"
setup "refuse-$PART"

# refuse CKPT TYPE WORDS...: export must fail with one line containing every WORD, leaving no file
refuse() {
    ck=$1; ty=$2; shift 2
    rm -f out.gguf
    if "$LOWBIT" export "$ck" -o out.gguf --type "$ty" > r.out 2> r.err; then fail "$ck -> $ty: accepted"; fi
    [ "$(wc -l < r.err)" = 1 ] || fail "$ck -> $ty: want one stderr line, got: $(cat r.err)"
    for w in "$@"; do grep -q -- "$w" r.err || fail "$ck -> $ty: '$w' not in: $(cat r.err)"; done
    [ ! -e out.gguf ] || fail "$ck -> $ty: left out.gguf"
    ls | grep -q 'out.gguf.tmp' && fail "$ck -> $ty: left a temp file"
    echo "refused $ty: $(cat r.err)"
}

if [ "$PART" != pairs2 ]; then train_ckpt seq2 "$(qat_block seq2 q2_0c)"; SEQ2=$CKPT; fi

if [ "$PART" = pairs ]; then
train_ckpt absm "$(qat_block absmean tq1_0)"; ABSM=$CKPT
train_ckpt lsq3 "$(qat_block lsq3 none)"; LSQ3=$CKPT
train_ckpt nofmt "$(qat_block seq2 none)"; NOFMT=$CKPT
refuse "$SEQ2" tq1_0 blk.0.attn_q.weight seq2 tq1_0
refuse "$SEQ2" stq1_0 blk.0.attn_q.weight seq2 stq1_0
refuse "$ABSM" q2_0c blk.0.attn_q.weight absmean q2_0c
refuse "$LSQ3" q2_k blk.0.attn_q.weight lsq3 q2_K
refuse "$NOFMT" q2_0c blk.0.attn_q.weight seq2 q2_0c fp16

# --- --allow-lossy writes and reports error norms
"$LOWBIT" export "$SEQ2" -o lossy.gguf --type tq1_0 --allow-lossy > lossy.out 2> lossy.err || fail "allow-lossy: $(cat lossy.err)"
[ "$(grep -c 'relative error norm' lossy.err)" = 7 ] || fail "want 7 error norms: $(cat lossy.err)"
grep -q '0 packed exactly in tq1_0, 7 lossy' lossy.out || fail "lossy summary: $(cat lossy.out)"
"$LOWBIT" perplexity lossy.gguf --text text.txt --ctx 64 --chunks 2 > lossy.ppl 2>&1 || fail "lossy file does not run"
echo "allow-lossy: $(head -1 lossy.err)"
fi

if [ "$PART" = pairs2 ]; then
train_ckpt g256 "$(qat_block seq2 q2_k 256)"; G256=$CKPT
train_ckpt fp ""; FP=$CKPT
EVERY=1 train_ckpt anneal "$(qat_block sherry stq1_0 row true)" 3; ANNEAL_END=$CKPT; ANNEAL_MID=anneal/step-00000001.h5
refuse "$G256" q2_0c blk.0.attn_q.weight seq2 q2_0c
refuse "$FP" q2_k blk.0.attn_q.weight "none (FP)" q2_K
refuse "$ANNEAL_MID" stq1_0 blk.0.attn_q.weight sherry stq1_0 mid-anneal
# the same run at its last step (lambda back at 0) is exact
"$LOWBIT" export "$ANNEAL_END" -o anneal_end.gguf --type stq1_0 > ae.log 2>&1 || fail "anneal end: $(cat ae.log)"
"$CHECK" "$ANNEAL_END" anneal_end.gguf stq1_0 || fail "anneal end not exact"

# --- FP checkpoint -> f32: master weights exactly (checker compares FP classes with weights/)
"$LOWBIT" export "$FP" -o fp32.gguf --type f32 > fp.log 2>&1 || fail "fp -> f32: $(cat fp.log)"
"$CHECK" "$FP" fp32.gguf f32 || fail "fp -> f32 not exact"
fi

if [ "$PART" = damaged ]; then
echo "not a checkpoint" > foreign.h5
refuse foreign.h5 q2_0c foreign.h5
head -c 30000 "$SEQ2" > trunc.h5
refuse trunc.h5 q2_0c trunc.h5
"$PY" - "$SEQ2" <<'PY' || fail "h5py edit failed"
import sys, shutil, h5py, numpy as np
src = sys.argv[1]
shutil.copy(src, "missing.h5")
with h5py.File("missing.h5", "r+") as f: del f["weights/blk.0.ffn_up.weight"]
shutil.copy(src, "noscale.h5")
with h5py.File("noscale.h5", "r+") as f: del f["scales/blk.0.ffn_down.weight"]
shutil.copy(src, "shape.h5")
with h5py.File("shape.h5", "r+") as f:
    del f["weights/blk.0.attn_k.weight"]
    f.create_dataset("weights/blk.0.attn_k.weight", data=np.zeros((512, 256), np.float32))
shutil.copy(src, "sshape.h5")
with h5py.File("sshape.h5", "r+") as f:
    del f["scales/blk.0.attn_q.weight"]
    f.create_dataset("scales/blk.0.attn_q.weight", data=np.ones((512, 2), np.float32))
PY
refuse missing.h5 q2_0c missing.h5 weights/blk.0.ffn_up.weight
refuse noscale.h5 q2_0c noscale.h5 scales/blk.0.ffn_down.weight
refuse shape.h5 q2_0c shape.h5 weights/blk.0.attn_k.weight
refuse sshape.h5 q2_0c sshape.h5 scales/blk.0.attn_q.weight
fi

if [ "$PART" = old ]; then
"$PY" - "$SEQ2" <<'PY' || fail "h5py edit failed"
import sys, shutil, h5py
shutil.copy(sys.argv[1], "old.h5")   # as written before ckpt_meta.h: no hp.*, no vocab_source
with h5py.File("old.h5", "r+") as f:
    for k in list(f.attrs):
        if k.startswith("hp.") or k == "vocab_source": del f.attrs[k]
PY
refuse old.h5 q2_0c old.h5 --vocab
"$LOWBIT" export old.h5 -o old.gguf --type q2_0c --vocab vocab.gguf > old.log 2>&1 || fail "old checkpoint: $(cat old.log)"
"$LOWBIT" export "$SEQ2" -o new.gguf --type q2_0c > new.log 2>&1 || fail "new checkpoint: $(cat new.log)"
cmp -s old.gguf new.gguf || fail "old-style checkpoint exports different bytes"
"$CHECK" old.h5 old.gguf q2_0c || fail "old checkpoint export not exact"
# the same for a model.init run (hparams from the init model, tied / untied from its tensors)
cat > init.yaml <<'YAML'
model: {init: vocab.gguf}
data: {tokens: t.h5, seq_len: 32, batch: 1}
optimizer: {lr: 0.001}
schedule: {kind: constant, steps: 1}
checkpoint: {dir: init}
threads: 2
YAML
"$LOWBIT" train init.yaml > init.log 2>&1 || fail "train init: $(tail -3 init.log)"
"$PY" - init/step-00000001.h5 <<'PY' || fail "h5py edit failed"
import sys, shutil, h5py
shutil.copy(sys.argv[1], "old_init.h5")
with h5py.File("old_init.h5", "r+") as f:
    for k in list(f.attrs):
        if k.startswith("hp.") or k == "vocab_source": del f.attrs[k]
PY
"$LOWBIT" export old_init.h5 -o old_init.gguf --type f32 --embeddings f32 --vocab vocab.gguf > oi.log 2>&1 || fail "old init: $(cat oi.log)"
"$LOWBIT" export init/step-00000001.h5 -o new_init.gguf --type f32 --embeddings f32 > ni.log 2>&1 || fail "new init: $(cat ni.log)"
cmp -s old_init.gguf new_init.gguf || fail "old-style model.init checkpoint exports different bytes"
"$CHECK" old_init.h5 old_init.gguf f32 > /dev/null || fail "init export not exact"
fi
echo "refuse $PART: all cases behave"
