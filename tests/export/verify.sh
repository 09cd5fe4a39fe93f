#!/bin/sh
# `lowbit verify`: the training engine (QAT w_eff) and the runtime (the exported GGUF) agree on
# an export of the checkpoint (q2_0c, stq1_0: lowbit's native kernels; tq2_0: upstream), and
# disagree (exit 1) on the GGUF of another checkpoint of the same shape (same config, other seed).
. "$(dirname "$0")/common.sh"
setup verify
train_ckpt a "$(qat_block seq2 q2_0c)" 2 7; A=$CKPT
train_ckpt b "$(qat_block seq2 q2_0c)" 2 8; B=$CKPT
train_ckpt s "$(qat_block sherry stq1_0)" 2 7; S=$CKPT
"$LOWBIT" export "$A" -o a.gguf --type q2_0c > ea.log 2>&1 || fail "export a: $(cat ea.log)"
"$LOWBIT" export "$B" -o b.gguf --type q2_0c > eb.log 2>&1 || fail "export b: $(cat eb.log)"
"$LOWBIT" export "$S" -o s.gguf --type stq1_0 > es.log 2>&1 || fail "export s: $(cat es.log)"
"$LOWBIT" export "$S" -o s2.gguf --type tq2_0 > es2.log 2>&1 || fail "export s2: $(cat es2.log)"

for pair in "$A a.gguf" "$S s.gguf" "$S s2.gguf"; do
    set -- $pair
    "$LOWBIT" verify "$1" "$2" --text text.txt --ctx 64 --chunks 3 > v.out 2> v.err || fail "verify $1 $2: $(cat v.out v.err)"
    grep -q 'AGREE$' v.out || fail "no verdict: $(cat v.out)"
    echo "$1 vs $2: $(tail -1 v.out)"
done
if "$LOWBIT" verify "$A" b.gguf --text text.txt --ctx 64 --chunks 3 > v.out 2> v.err; then
    fail "verify accepted another checkpoint's GGUF: $(cat v.out)"
fi
[ $? = 1 ] || true
grep -q 'DISAGREE$' v.out || fail "no DISAGREE verdict: $(cat v.out v.err)"
[ "$(wc -l < v.err)" = 1 ] || fail "want one error line: $(cat v.err)"
echo "$A vs b.gguf: $(tail -1 v.out)"
