# common.sh: shared setup for the export / verify tests (sourced). A fresh work dir with the
# stories260K tok512 vocabulary (imported to GGUF), a token store over ~20 KB of tinyshakespeare,
# and train_ckpt to make tiny dim-512 checkpoints (512-wide rows: Q2_0C's 512-weight blocks fit).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
: "${LOWBIT:?LOWBIT must point at the lowbit binary}"
: "${LOWBIT_BUILD:=$(dirname "$LOWBIT")}"
DATA="${LOWBIT_DATA:-}"
PY=/usr/bin/python3
CHECK="${EXPORT_CHECK:-$LOWBIT_BUILD/test_export_check}"   # tests/export/test_export_check.c

fail() { echo "FAIL: $*" >&2; exit 1; }

need_data() {
    if [ -z "$DATA" ] || [ ! -f "$DATA/stories260K/stories260K.bin" ] || [ ! -f "$DATA/stories260K/tok512.bin" ] ||
       [ ! -f "$DATA/text/tinyshakespeare.txt" ]; then
        if [ "${CI:-}" = "true" ]; then fail "test data missing (LOWBIT_DATA=$DATA)"; fi
        echo "skip: LOWBIT_DATA/stories260K or text/ missing"; exit 77
    fi
}

# setup NAME: cd into a fresh $LOWBIT_BUILD/export-tests/NAME with vocab.gguf, text.txt, t.h5
setup() {
    need_data
    WORK="$LOWBIT_BUILD/export-tests/$1"
    rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK" || fail "cannot make $WORK"
    "$LOWBIT" import "$DATA/stories260K/stories260K.bin" --tokenizer "$DATA/stories260K/tok512.bin" -o vocab.gguf \
        > import.log 2>&1 || fail "import: $(cat import.log)"
    head -c 20000 "$DATA/text/tinyshakespeare.txt" > text.txt
    "$LOWBIT" tokenize -q --vocab vocab.gguf text.txt -o t.h5 --val-fraction 0.1 > tok.log 2>&1 || fail "tokenize: $(cat tok.log)"
}

# train_ckpt DIR QAT_YAML [STEPS [SEED [EXTRA_YAML]]]: a tiny llama trained STEPS steps; the last
# checkpoint is DIR/step-0000000STEPS.h5. QAT_YAML is the `qat:` block ("" for none).
train_ckpt() {
    dir=$1; qat=$2; steps=${3:-2}; seed=${4:-7}; extra=${5:-}
    cat > "$dir.yaml" <<YAML
model:
  random: {arch: llama, dim: 512, layers: 1, heads: 8, kv_heads: 4, ffn: 512}
data: {tokens: t.h5, seq_len: 32, batch: 1}
optimizer: {lr: 0.003, scale_lr: 0.001, weight_decay: 0.0}
schedule: {kind: constant, warmup: 0, steps: $steps}
checkpoint: {dir: $dir, keep: 100, every: ${EVERY:-0}}
seed: $seed
threads: 2
$qat
$extra
YAML
    "$LOWBIT" train "$dir.yaml" > "$dir.log" 2>&1 || fail "train $dir: $(tail -3 "$dir.log")"
    CKPT="$dir/$(printf 'step-%08d.h5' "$steps")"
    [ -f "$CKPT" ] || fail "no checkpoint $CKPT"
}

# qat_block QUANTIZER FORMAT [GROUP [ARENAS]]
qat_block() {
    printf 'qat:\n  attn: {quantizer: %s, group: %s, format: %s}\n  ffn: {quantizer: %s, group: %s, format: %s}\n  arenas: %s\n' \
        "$1" "${3:-row}" "$2" "$1" "${3:-row}" "$2" "${4:-false}"
}
