# common.sh: shared setup for the `lowbit train` tests (sourced). Makes a fresh work dir and a
# tiny token store: the stories260K tok512 vocabulary (imported to GGUF) over a short text.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
: "${LOWBIT:?LOWBIT must point at the lowbit binary}"
: "${LOWBIT_BUILD:=$(dirname "$LOWBIT")}"
DATA="${LOWBIT_DATA:-}"

fail() { echo "FAIL: $*" >&2; exit 1; }

need_data() {
    if [ -z "$DATA" ] || [ ! -f "$DATA/stories260K/stories260K.bin" ] || [ ! -f "$DATA/stories260K/tok512.bin" ]; then
        if [ "${CI:-}" = "true" ]; then fail "test data missing (LOWBIT_DATA=$DATA)"; fi
        echo "skip: LOWBIT_DATA/stories260K missing"; exit 77
    fi
}

# setup NAME: cd into a fresh $LOWBIT_BUILD/train-tests/NAME holding t.h5 (99 train + 11 val tokens)
setup() {
    need_data
    WORK="$LOWBIT_BUILD/train-tests/$1"
    rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK" || fail "cannot make $WORK"
    "$LOWBIT" import "$DATA/stories260K/stories260K.bin" --tokenizer "$DATA/stories260K/tok512.bin" -o vocab.gguf \
        > import.log 2>&1 || fail "import: $(cat import.log)"
    cat > short.txt <<'TXT'
Once upon a time, there was a little girl named Lily. She loved to play outside in the sun. One day, she saw a big red ball in the park. She ran to the ball and kicked it very high. The ball flew over the tree and landed near a small dog. The dog was happy and played with Lily all day long.
TXT
    "$LOWBIT" tokenize -q --vocab vocab.gguf short.txt -o t.h5 --val-fraction 0.1 > tok.log 2>&1 || fail "tokenize: $(cat tok.log)"
}

# last_loss FILE.jsonl: the loss of the last training record
last_loss() { grep '"loss"' "$1" | tail -1 | sed 's/.*"loss": \([^,]*\),.*/\1/'; }
