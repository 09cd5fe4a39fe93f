#!/bin/sh
# distill config errors: exit 1 with ONE stderr line naming the key / file and field.
. "$(dirname "$0")/common.sh"
dsetup errors
"$MAKE_STORE" teacher.gguf - t.h5 32 full 0 0 logits.h5 > store.log 2>&1 || fail "make_store: $(cat store.log)"
# a store of other tokens (same T, vocabulary and window count, different text)
tail -c 3000 "$DATA/text/tinyshakespeare.txt" > other.txt
"$LOWBIT" tokenize -q --vocab teacher.gguf other.txt -o other.h5 --val-fraction 0.1 > tok2.log 2>&1 || fail "tokenize"
"$MAKE_STORE" teacher.gguf - other.h5 32 full 0 10 other_logits.h5 > store2.log 2>&1 || fail "make_store 2: $(cat store2.log)"
expect() {
    "$LOWBIT" train "$1.yaml" > "$1.out" 2> "$1.err"; rc=$?
    [ $rc = 1 ] || fail "$1: exit $rc, expected 1 ($(cat "$1.err"))"
    [ "$(wc -l < "$1.err")" = 1 ] || fail "$1: expected one stderr line, got: $(cat "$1.err")"
    grep -qF -- "$2" "$1.err" || fail "$1: stderr '$(cat "$1.err")' does not contain '$2'"
    echo "$1: $(cat "$1.err")"
}
kd_cfg 3 "{teacher: teacher.gguf, store: logits.h5}" > both.yaml
expect both "bad value for 'distill' (give exactly one of teacher (online) or store (offline))"
kd_cfg 3 "{}" > neither.yaml
expect neither "bad value for 'distill' (give exactly one"
kd_cfg 3 "{store: logits.h5, loss: topk}" > topk_full.yaml
expect topk_full "logits.h5: mode 'full' does not fit distill.loss topk (needs a topk store)"
kd_cfg 3 "{store: logits.h5, loss: sampled}" > sampled_full.yaml
expect sampled_full "logits.h5: mode 'full' does not fit distill.loss sampled"
kd_cfg 3 "{teacher: teacher.gguf, loss: topk}" > topk_online.yaml
expect topk_online "bad value for 'distill.loss' (topk and sampled need a store"
kd_cfg 3 "{store: other_logits.h5}" > hash.yaml
expect hash "other_logits.h5: tokens_hash"
kd_cfg 3 "{teacher: teacher.gguf}" | sed 's/ffn: 64}/ffn: 64, vocab: 600}/' > vocab_online.yaml
expect vocab_online "teacher.gguf: teacher vocabulary 512 != the student's 600"
kd_cfg 3 "{store: logits.h5}" | sed 's/ffn: 64}/ffn: 64, vocab: 600}/' > vocab_store.yaml
expect vocab_store "logits.h5: n_vocab 512 != the student's vocabulary 600"
kd_cfg 3 "{store: logits.h5}" | sed 's/seq_len: 32/seq_len: 16/' > seqlen.yaml
expect seqlen "logits.h5: seq_len 32 != data.seq_len 16"
kd_cfg 3 "{store: logits.h5, temprature: 2}" > unknown.yaml
expect unknown "unknown key 'distill.temprature'"
kd_cfg 3 "{store: logits.h5, loss: kl}" > badloss.yaml
expect badloss "bad value for 'distill.loss' (forward_kl, reverse_kl, cakld, topk or sampled)"
kd_cfg 3 "{store: logits.h5, temperature: 0}" > badtemp.yaml
expect badtemp "bad value for 'distill.temperature'"
kd_cfg 3 "{store: logits.h5, kd_weight: 0}" > zero.yaml
expect zero "bad value for 'distill.kd_weight'"
kd_cfg 3 "{store: missing.h5}" > missing.yaml
expect missing "missing.h5"
printf 'garbage' > junk.h5
kd_cfg 3 "{store: junk.h5}" > junk.yaml
expect junk "junk.h5"
