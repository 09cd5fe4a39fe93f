#!/bin/sh
# Every configs/*.yaml example parses and trains for 3 steps (paths, sizes and step counts
# overridden to fit the tiny test data; everything else, including QAT settings, as shipped).
# The distillation examples (*-kd.yaml) need a teacher of their width: tests/distill/configs.sh.
. "$(dirname "$0")/common.sh"
setup configs
n=0
for cfg in "$LOWBIT_SRC"/configs/*.yaml; do
    name=$(basename "$cfg" .yaml)
    case $name in *-kd) continue ;; esac
    sed -e "s|tokens: [^ ,}]*|tokens: t.h5|" -e "s|init: [^ ,}]*|init: vocab.gguf|" \
        -e "s|seq_len: [0-9]*|seq_len: 8|" -e "s|batch: [0-9]*|batch: 2|" -e "s|steps: [0-9]*|steps: 3|" \
        -e "s|warmup: [0-9]*|warmup: 1|" -e "s|decay_steps: [0-9]*|decay_steps: 1|" \
        -e "s|dir: [^ ,}]*|dir: out-$name|" -e "s|jsonl: [^ ,}]*|jsonl: out-$name.jsonl|" -e "s|threads: [0-9]*|threads: 1|" \
        -e "s|every: [0-9]*|every: 2|" "$cfg" > "$name.yaml"
    "$LOWBIT" train "$name.yaml" > "$name.out" 2>&1 || fail "$name: $(tail -3 "$name.out")"
    grep -q '"step": 3, "loss"' "out-$name.jsonl" || fail "$name: no record of step 3"
    ls out-"$name"/step-00000003.h5 > /dev/null || fail "$name: no final checkpoint"
    echo "$name: $(grep '^qat:\|^model:' "$name.out" | tr '\n' ' ')"
    n=$((n + 1))
done
[ $n -ge 3 ] || fail "expected at least 3 configs, found $n"
