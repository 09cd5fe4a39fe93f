# common.sh: shared setup for the distillation tests (sourced). Reuses tests/train/common.sh
# (fail, need_data) and makes a fresh work dir with the stories260K model imported to GGUF
# (the teacher, tok512 vocabulary) and a token store of ~1.6k tokens of tinyshakespeare.
. "$LOWBIT_SRC/tests/train/common.sh"
: "${MAKE_STORE:?MAKE_STORE must point at the make_store test helper}"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

# dsetup NAME: cd into a fresh $LOWBIT_BUILD/distill-tests/NAME with teacher.gguf and t.h5
dsetup() {
    need_data
    [ -f "$DATA/text/tinyshakespeare.txt" ] || { [ "${CI:-}" = "true" ] && fail "text data missing"; echo "skip: no text"; exit 77; }
    WORK="$LOWBIT_BUILD/distill-tests/$1"
    rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK" || fail "cannot make $WORK"
    "$LOWBIT" import "$DATA/stories260K/stories260K.bin" --tokenizer "$DATA/stories260K/tok512.bin" -o teacher.gguf \
        > import.log 2>&1 || fail "import: $(cat import.log)"
    head -c 3000 "$DATA/text/tinyshakespeare.txt" > text.txt
    "$LOWBIT" tokenize -q --vocab teacher.gguf text.txt -o t.h5 --val-fraction 0.1 > tok.log 2>&1 || fail "tokenize: $(cat tok.log)"
}

# kd_cfg STEPS DISTILL-FLOW-MAPPING [EXTRA-YAML]: a tiny random student (tok512 vocabulary)
kd_cfg() {
cat <<YAML
model:
  random: {arch: llama, dim: 32, layers: 2, heads: 4, kv_heads: 2, ffn: 64}
data: {tokens: t.h5, seq_len: 32, batch: 4}
optimizer: {lr: 0.003, weight_decay: 0.0}
schedule: {kind: cosine, warmup: 2, steps: $1}
distill: $2
log: {jsonl: log.jsonl, every: 1}
seed: 5
threads: 1
${3:-}
YAML
}
