#!/bin/sh
# kill -9 in the middle of a run, then --resume from its newest checkpoint: the loss sequence
# (JSONL) equals an uninterrupted run's bit for bit.
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/resume_cfg.sh"
PY=${PYTHON:-python3}
STEPS=600
setup resume-kill
write_resume_cfg $STEPS 50
# the reference: uninterrupted
mkdir ref && cp cfg.yaml t.h5 ref/ && (cd ref && "$LOWBIT" train cfg.yaml > out.log 2>&1) || fail "reference run: $(tail -3 ref/out.log)"
# the victim: killed once a mid-run checkpoint exists
"$LOWBIT" train cfg.yaml > out1.log 2>&1 &
pid=$!
i=0
while [ ! -f ckpt/step-00000150.h5 ]; do
    i=$((i + 1)); [ $i -gt 600 ] && { kill -9 $pid; fail "no checkpoint after 60 s"; }
    sleep 0.1
done
sleep 0.2   # die somewhere after that checkpoint, so the resumed run replays logged steps
kill -9 $pid || fail "run finished before it could be killed (make it longer)"
wait $pid; rc=$?
[ $rc = 137 ] || fail "killed run exited $rc, expected 137"
n=$(grep -c '"loss"' log.jsonl)
[ "$n" -lt $STEPS ] || fail "killed run logged all $STEPS steps"
latest=$(ls ckpt/step-*.h5 | sort | tail -1)
echo "killed after $n logged steps; resuming from $latest"
"$LOWBIT" train cfg.yaml --resume "$latest" > out2.log 2>&1 || fail "resume: $(tail -3 out2.log)"
grep -q "^resumed from $latest at step" out2.log || fail "no resume message"
"$PY" "$HERE/compare_logs.py" ref/log.jsonl log.jsonl $STEPS || fail "loss curves differ"
