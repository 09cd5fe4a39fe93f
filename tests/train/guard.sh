#!/bin/sh
# The NaN guard stops training with a clear message naming the last good checkpoint, which
# stays usable (it resumes). The NaN is injected into one gradient by a test hook
# (LOWBIT_TRAIN_FAULT_STEP), as a fp32 overflow would.
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/resume_cfg.sh"
setup guard
write_resume_cfg 40 5
LOWBIT_TRAIN_FAULT_STEP=13 "$LOWBIT" train cfg.yaml > out.log 2> err.log; rc=$?
[ $rc = 1 ] || fail "exit $rc, expected 1: $(cat err.log)"
grep -q "training stopped: gradient norm is nan at step 13 .*(last good checkpoint: ckpt/step-00000010.h5)" err.log || fail "message: $(cat err.log)"
[ "$(wc -l < err.log)" = 1 ] || fail "expected one stderr line: $(cat err.log)"
ls ckpt | grep -q 'step-0000001[1-9]' && fail "a checkpoint after the bad step: $(ls ckpt)"
echo "$(cat err.log)"
"$LOWBIT" train cfg.yaml --resume ckpt/step-00000010.h5 > out2.log 2>&1 || fail "resume: $(tail -2 out2.log)"
grep -q '"step": 40, "loss"' log.jsonl || fail "resumed run did not finish"
