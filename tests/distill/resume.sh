#!/bin/sh
# --resume with KD from a store: a run resumed from its step-20 checkpoint (a new process,
# under SEQ2 QAT with gradient accumulation) continues with exactly the uninterrupted run's
# losses and validation losses, bit for bit (window-aligned batches are a pure function of
# (seed, step), the store is read by window).
. "$(dirname "$0")/common.sh"
dsetup resume
"$MAKE_STORE" teacher.gguf - t.h5 16 full 0 0 logits.h5 > store.log 2>&1 || fail "make_store: $(cat store.log)"
STEPS=40
kd_cfg $STEPS "{store: logits.h5, loss: forward_kl, ce_weight: 0.25}" \
    "checkpoint: {dir: ckpt, every: 10, keep: 10}
eval: {every: 10, batches: 1}
qat:
  attn: {quantizer: seq2, group: row}
  ffn: {quantizer: seq2, group: row}" | sed 's/seq_len: 32, batch: 4/seq_len: 16, batch: 2, grad_accum: 2/' > cfg.yaml
mkdir ref && cp cfg.yaml ref/ && (cd ref && sed -i 's|t.h5|../t.h5|; s|logits.h5|../logits.h5|' cfg.yaml &&
    "$LOWBIT" train cfg.yaml > out.log 2>&1) || fail "reference run: $(tail -3 ref/out.log)"
# the interrupted run: the reference's log up to step 20, then a fresh process resumes
grep -E '"step": ([1-9]|1[0-9]|20),' ref/log.jsonl > log.jsonl
"$LOWBIT" train cfg.yaml --resume ref/ckpt/step-00000020.h5 > out.log 2>&1 || fail "resume: $(tail -3 out.log)"
grep -q "^resumed from ref/ckpt/step-00000020.h5 at step 20" out.log || fail "no resume message"
[ "$(grep -c '"kd"' log.jsonl)" = $STEPS ] || fail "expected $STEPS KD records"
"$PY" "$LOWBIT_SRC/tests/train/compare_logs.py" ref/log.jsonl log.jsonl $STEPS || fail "loss curves differ"
