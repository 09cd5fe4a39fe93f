#!/bin/sh
# configs/*-kd.yaml parse and train 2 steps as shipped (QAT format-exact, distill from a full
# store), with only what cannot fit the test data replaced: the 24M-parameter teacher init by a
# 1-layer random model of the same width (rows of 512 / 1536 so Q2_0C and STQ1_0 blocks tile),
# paths, seq_len 32, batch 1, 2 steps. The store is the stories260K teacher's (tok512 vocabulary).
. "$(dirname "$0")/common.sh"
dsetup configs
"$MAKE_STORE" teacher.gguf - t.h5 32 full 0 0 logits.h5 > store.log 2>&1 || fail "make_store: $(cat store.log)"
n=0
for cfg in "$LOWBIT_SRC"/configs/*-kd.yaml; do
    name=$(basename "$cfg" .yaml)
    grep -q '^distill:' "$cfg" || fail "$name: no distill section"
    sed -e 's|init: [^ ,}]*|random: {arch: llama, dim: 512, layers: 1, heads: 8, kv_heads: 2, ffn: 1536}|' \
        -e 's|tokens: [^ ,}]*|tokens: t.h5|' -e 's|store: [^ ,}]*|store: logits.h5|' -e 's|seq_len: [0-9]*|seq_len: 32|' \
        -e 's|batch: [0-9]*|batch: 1|' -e 's|grad_accum: [0-9]*|grad_accum: 1|' -e 's|steps: [0-9]*|steps: 2|' \
        -e 's|warmup: [0-9]*|warmup: 1|' -e 's|decay_steps: [0-9]*|decay_steps: 1|' -e 's|dir: runs/|dir: out-|' \
        -e 's|jsonl: runs/|jsonl: out-|' -e 's|threads: 0|threads: 1|' -e 's|every: [0-9]*|every: 1|' "$cfg" > "$name.yaml"
    "$LOWBIT" train "$name.yaml" > "$name.out" 2>&1 || fail "$name: $(tail -3 "$name.out")"
    grep -q '"step": 2, "loss": [0-9.e+-]*, "ce": [0-9.e+-]*, "kd"' "out-$name.jsonl" || fail "$name: no KD record of step 2"
    grep -q '^distill: store logits.h5, loss forward_kl' "$name.out" || fail "$name: no distill line"
    echo "$name: $(grep '^qat:' "$name.out")"
    n=$((n + 1))
done
[ $n = 2 ] || fail "expected 2 KD configs, found $n"
