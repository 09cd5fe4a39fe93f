#!/bin/sh
# SIGINT: the current step finishes, a checkpoint of exactly the last logged step is written,
# the exit status is 0 with a message; the checkpoint resumes.
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/resume_cfg.sh"
setup sigint
write_resume_cfg 100000 0      # checkpoint only at the end (or on the signal)
"$LOWBIT" train cfg.yaml > out.log 2>&1 &
pid=$!
i=0
while [ "$(grep -c '"loss"' log.jsonl 2>/dev/null || echo 0)" -lt 20 ]; do
    i=$((i + 1)); [ $i -gt 600 ] && { kill -9 $pid; fail "no progress after 60 s"; }
    sleep 0.1
done
kill -INT $pid
wait $pid; rc=$?
[ $rc = 0 ] || fail "exit status $rc after SIGINT: $(tail -2 out.log)"
grep -q "^interrupted (signal 2) after step" out.log || fail "no interruption message: $(tail -2 out.log)"
step=$(grep '"loss"' log.jsonl | tail -1 | sed 's/{"step": \([0-9]*\),.*/\1/')
ck=$(printf 'ckpt/step-%08d.h5' "$step")
[ -f "$ck" ] || fail "no checkpoint $ck for the last logged step $step: $(ls ckpt)"
ls ckpt | grep -q tmp && fail "temp file left behind: $(ls ckpt)"
echo "interrupted at step $step, wrote $ck"
# it resumes (a short continuation: 5 more steps)
sed -i "s/steps: 100000/steps: $((step + 5))/" cfg.yaml
"$LOWBIT" train cfg.yaml --resume "$ck" > out2.log 2>&1 || fail "resume: $(tail -2 out2.log)"
[ "$(grep '"loss"' log.jsonl | tail -1 | sed 's/{"step": \([0-9]*\),.*/\1/')" = $((step + 5)) ] || fail "resume did not reach step $((step + 5))"
