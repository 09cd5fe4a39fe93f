#!/bin/sh
# Config errors: exit 1 and ONE stderr line naming the key / file. Needs no test data.
. "$(dirname "$0")/common.sh"
WORK="$LOWBIT_BUILD/train-tests/config-errors"
rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK" || fail "cannot make $WORK"
good() {
cat <<YAML
model:
  random: {arch: llama, dim: 32, layers: 1, heads: 2, ffn: 64, vocab: 64}
data: {tokens: missing.h5, seq_len: 8, batch: 2}
optimizer: {lr: 0.001}
schedule: {kind: cosine, steps: 10}
YAML
}
# expect NAME EXPECTED-SUBSTRING: run on NAME.yaml, check status 1 and one line holding the text
expect() {
    "$LOWBIT" train "$1.yaml" > "$1.out" 2> "$1.err"; rc=$?
    [ $rc = 1 ] || fail "$1: exit $rc, expected 1 ($(cat "$1.err"))"
    [ "$(wc -l < "$1.err")" = 1 ] || fail "$1: expected one stderr line, got: $(cat "$1.err")"
    grep -qF -- "$2" "$1.err" || fail "$1: stderr '$(cat "$1.err")' does not contain '$2'"
    echo "$1: $(cat "$1.err")"
}
good | sed 's/lr: 0.001/lerning_rate: 0.001/' > unknown.yaml
expect unknown "unknown.yaml: unknown key 'optimizer.lerning_rate'"
(good; echo "sed: 3") > unknown_top.yaml
expect unknown_top "unknown key 'sed'"
good | sed 's/seq_len: 8/seq_len: eight/' > badint.yaml
expect badint "'data.seq_len'"
good | sed 's/kind: cosine/kind: cosinus/' > badkind.yaml
expect badkind "bad value for 'schedule.kind'"
(good; printf 'qat:\n  ffn: {quantizer: seq3}\n') > badquant.yaml
expect badquant "bad value for 'qat.ffn.quantizer'"
(good; printf 'qat:\n  attn: {quantizer: seq2, group: 100}\n') > badgroup.yaml
expect badgroup "bad value for 'qat.attn.group'"
(good; printf 'qat:\n  attn: {quantizer: seq2, format: q4_0}\n') > badformat.yaml
expect badformat "bad value for 'qat.attn.format'"
good | sed 's/lr: 0.001/lr: -1/' > badlr.yaml
expect badlr "bad value for 'optimizer.lr'"
good | grep -v '^schedule' > nosched.yaml
expect nosched "missing key 'schedule'"
good | sed "s/, batch: 2//" > nobatch.yaml
expect nobatch "missing key 'data.batch'"
expect nonexistent "nonexistent.yaml: No such file or directory"
good > nodata.yaml
expect nodata "missing.h5"
printf 'model: [1, 2\n' > broken.yaml
expect broken "broken.yaml:"
: > empty.yaml
expect empty "empty.yaml: empty config"
good | sed 's/vocab: 64}/vocab: 64, tied: maybe}/' > badbool.yaml
expect badbool "bad value for 'model.random.tied'"
printf '\001\002\003' > binary.yaml
expect binary "binary.yaml:"
# hostile input: 150 byte-level mutations of a good config never crash the parser (exit 1 or 2;
# the token store is missing, so none of them trains)
good > seed.yaml
${PYTHON:-python3} - <<'PY' || fail "cannot write mutations"
import random
random.seed(4)
base = open("seed.yaml", "rb").read()
for i in range(150):
    b = bytearray(base)
    for _ in range(random.randint(1, 6)):
        op, p = random.randrange(3), random.randrange(len(b))
        if op == 0: b[p] = random.choice(b" :-[]{},'\"\n#&*!|>%@`0123456789abcxyz\x00\xff")
        elif op == 1: del b[p]
        else: b[p:p] = b[random.randrange(len(b)):][:random.randint(1, 20)]
    open(f"mut{i:03d}.yaml", "wb").write(bytes(b))
PY
for f in mut*.yaml; do
    "$LOWBIT" train "$f" > /dev/null 2> "$f.err"; rc=$?
    [ $rc = 1 ] || [ $rc = 2 ] || fail "$f: exit $rc: $(cat "$f.err")"
done
"$LOWBIT" train > usage.out 2>&1; [ $? = 2 ] || fail "no CONFIG: expected exit 2"
"$LOWBIT" train --help | grep -q 'usage: lowbit train' || fail "--help"
