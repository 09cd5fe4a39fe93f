#!/usr/bin/env bash
# teacher_cli.sh: `lowbit teacher` end to end on the real tiny teacher (stories260K, llama2.c
# .bin + tok512.bin) over tinyshakespeare tokens:
#  1. full / topk / sampled stores over the same windows; bytes per token printed
#  2. test_teacher_store: each store == the teacher recomputed independently (full bit for bit)
#  3. check_logits.py (h5py): datasets/dtypes/attributes, h5py == lowbit's reader, topk ==
#     numpy argsort of the full store, sampled draws follow softmax(full)
#  4. determinism: another --batch and thread count give identical stores
#  5. bad inputs and arguments: exit 1 (2 for usage), one stderr line naming the problem, no
#     output file and no temp file left
#  6. damaged stores (truncated, flipped bytes) read by test_h5_logits dump: one line, exit 1
# usage: teacher_cli.sh TEST_H5_LOGITS TEST_TEACHER_STORE   (env: LOWBIT, LOWBIT_DATA, LOWBIT_SRC)
set -u
LOWBIT=${LOWBIT:?LOWBIT not set}
DUMP=$1 STORE_TEST=$2
DATA=${LOWBIT_DATA:-../shared/data}
bin="$DATA/stories260K/stories260K.bin" tok="$DATA/stories260K/tok512.bin" text="$DATA/text/tinyshakespeare.txt"
if [ ! -f "$bin" ] || [ ! -f "$tok" ] || [ ! -f "$text" ]; then
    echo "missing test data: $bin / $tok / $text (shared/data; see shared/data/SOURCES.md)"
    [ "${CI:-}" = true ] && exit 1 || exit 77
fi
tmp=$(mktemp -d /tmp/lowbit-teacher.XXXXXX)
[ -n "${KEEP_TMP:-}" ] || trap 'rm -rf "$tmp"' EXIT
T=64 NW=32 B=4
fail() { echo "FAIL: $*"; exit 1; }

"$LOWBIT" import "$bin" --tokenizer "$tok" -o "$tmp/s260.gguf" >/dev/null 2>&1 || fail "import"
head -c 100000 "$text" >"$tmp/text.txt"
"$LOWBIT" tokenize --vocab "$tmp/s260.gguf" "$tmp/text.txt" -o "$tmp/tokens.h5" --val-fraction 0.1 >/dev/null 2>&1 || fail "tokenize"

# --- 1. the three stores
mkdir -p "$tmp/a" "$tmp/b"
for mode in full topk sampled; do
    "$LOWBIT" teacher "$bin" --tokenizer "$tok" --tokens "$tmp/tokens.h5" -o "$tmp/a/$mode.h5" --mode $mode \
        --seq-len $T --max-windows $NW --batch $B -t 2 >"$tmp/out.txt" 2>"$tmp/err.txt" || { cat "$tmp/err.txt"; fail "teacher --mode $mode"; }
    cat "$tmp/out.txt"
    grep -q "$NW windows, $((NW * T)) positions" "$tmp/out.txt" || fail "summary line of $mode"
    grep -q "$NW/$NW windows" "$tmp/err.txt" || fail "no progress on stderr for $mode"
    "$DUMP" dump "$tmp/a/$mode.h5" "$tmp/a/dump-$mode" || fail "lowbit reader on $mode.h5"
done

# --- 2. == the teacher recomputed
"$STORE_TEST" "$bin" "$tok" "$tmp/tokens.h5" $T $B "$tmp/a" || fail "test_teacher_store"

# --- 3. h5py
/usr/bin/python3 "$LOWBIT_SRC/tests/teacher/check_logits.py" "$tmp/a" "$tmp/tokens.h5"
rc=$?; [ $rc = 0 ] || exit $rc

# --- 4. determinism over --batch and threads (the stored values, via lowbit's reader)
for mode in topk sampled; do
    "$LOWBIT" teacher "$bin" --tokenizer "$tok" --tokens "$tmp/tokens.h5" -o "$tmp/b/$mode.h5" --mode $mode \
        --seq-len $T --max-windows $NW --batch 3 -t 1 >/dev/null 2>&1 || fail "teacher --batch 3"
    "$DUMP" dump "$tmp/b/$mode.h5" "$tmp/b/dump-$mode" || fail "reader"
    for f in "$tmp/a/dump-$mode".*; do cmp -s "$f" "$tmp/b/$(basename "$f")" || fail "$mode differs with --batch 3 -t 1: $(basename "$f")"; done
done
# another seed gives other draws
"$LOWBIT" teacher "$bin" --tokenizer "$tok" --tokens "$tmp/tokens.h5" -o "$tmp/b/seed2.h5" --mode sampled \
    --seq-len $T --max-windows $NW --seed 2 >/dev/null 2>&1 || fail "teacher --seed 2"
"$DUMP" dump "$tmp/b/seed2.h5" "$tmp/b/dump-seed2" || fail "reader"
cmp -s "$tmp/a/dump-sampled.ids" "$tmp/b/dump-seed2.ids" && fail "--seed 2 gave the same draws as --seed 1"
echo "determinism: topk and sampled identical with --batch 3 -t 1; --seed 2 draws differ"

# --- 5. bad inputs: exit 1, one line, no output
head -c 3000 "$text" >"$tmp/small.txt"
"$LOWBIT" tokenize --vocab "$DATA/vocab/ggml-vocab-llama-spm.gguf" "$tmp/small.txt" -o "$tmp/tokens32k.h5" >/dev/null 2>&1 || fail "tokenize 32k"
"$LOWBIT" tokenize --vocab "$tmp/s260.gguf" "$tmp/small.txt" -o "$tmp/tiny.h5" --val-fraction 0.1 >/dev/null 2>&1 || fail "tokenize tiny"
head -c 5000 "$bin" >"$tmp/cut.bin"
head -c 2000 "$tmp/tokens.h5" >"$tmp/cut.h5"
expect() {   # STATUS WORD ARGS...: exit STATUS, one stderr line containing WORD, nothing in $tmp/out*
    local want=$1 word=$2 rc; shift 2
    rm -f "$tmp"/out*
    timeout 60 "$LOWBIT" teacher "$@" >/dev/null 2>"$tmp/err.txt"; rc=$?
    [ $rc = "$want" ] || { cat "$tmp/err.txt"; fail "exit $rc, want $want: teacher $*"; }
    if [ "$want" = 1 ]; then
        [ "$(wc -l <"$tmp/err.txt")" = 1 ] || { cat "$tmp/err.txt"; fail "not one line: teacher $*"; }
        grep -qF -- "$word" "$tmp/err.txt" || { cat "$tmp/err.txt"; fail "error does not mention '$word': teacher $*"; }
        echo "  $(cat "$tmp/err.txt")"
    fi
    ls "$tmp"/out* >/dev/null 2>&1 && fail "output left behind: teacher $*"
    ls "$tmp" | grep -q '\.tmp\.' && fail "temp file left behind: teacher $*"
    return 0
}
ok=(--tokenizer "$tok" --seq-len $T --max-windows 2)
echo "bad inputs:"
expect 1 "tokens32k.h5" "$bin" "${ok[@]}" --tokens "$tmp/tokens32k.h5" -o "$tmp/out.h5" --mode full
expect 1 "tiny.h5" "$bin" "${ok[@]}" --tokens "$tmp/tiny.h5" --split val -o "$tmp/out.h5" --mode full --seq-len 4096
expect 1 "tokens.h5" "$bin" --tokenizer "$tok" --tokens "$tmp/tokens.h5" -o "$tmp/out.h5" --mode full --seq-len 1000000
expect 1 "--k 513" "$bin" "${ok[@]}" --tokens "$tmp/tokens.h5" -o "$tmp/out.h5" --mode topk --k 513
expect 1 "255" "$bin" "${ok[@]}" --tokens "$tmp/tokens.h5" -o "$tmp/out.h5" --mode sampled --k 256
expect 1 "--k" "$bin" "${ok[@]}" --tokens "$tmp/tokens.h5" -o "$tmp/out.h5" --mode full --k 4
expect 1 "--temperature" "$bin" "${ok[@]}" --tokens "$tmp/tokens.h5" -o "$tmp/out.h5" --mode topk --temperature 2
expect 1 "dense" "$bin" "${ok[@]}" --tokens "$tmp/tokens.h5" -o "$tmp/out.h5" --mode dense
expect 1 "cut.bin" "$tmp/cut.bin" "${ok[@]}" --tokens "$tmp/tokens.h5" -o "$tmp/out.h5" --mode full
expect 1 "missing.gguf" "$tmp/missing.gguf" "${ok[@]}" --tokens "$tmp/tokens.h5" -o "$tmp/out.h5" --mode full
expect 1 "cut.h5" "$bin" "${ok[@]}" --tokens "$tmp/cut.h5" -o "$tmp/out.h5" --mode full
expect 1 "s260.gguf" "$bin" "${ok[@]}" --tokens "$tmp/s260.gguf" -o "$tmp/out.h5" --mode full
expect 1 "nodir" "$bin" "${ok[@]}" --tokens "$tmp/tokens.h5" -o "$tmp/nodir/out.h5" --mode full
expect 2 "" "$bin" "${ok[@]}" --tokens "$tmp/tokens.h5" --mode full
expect 2 "" "$bin" "${ok[@]}" --tokens "$tmp/tokens.h5" -o "$tmp/out.h5" --mode topk --k 0
expect 2 "" "$bin" "${ok[@]}" --tokens "$tmp/tokens.h5" -o "$tmp/out.h5" --mode full --split test

# --- 6. damaged real stores through lowbit's reader
echo "damaged stores:"
n_rej=0 n_same=0
for mode in full topk sampled; do
    f="$tmp/a/$mode.h5"; size=$(stat -c %s "$f")
    for cut in 0 100 2000 $((size / 3)) $((size / 2)) $((size - 10)); do
        head -c $cut "$f" >"$tmp/bad.h5"
        "$DUMP" dump "$tmp/bad.h5" "$tmp/bad-dump" 2>"$tmp/err.txt"; rc=$?
        [ $rc = 1 ] && [ "$(wc -l <"$tmp/err.txt")" = 1 ] && grep -q "bad.h5" "$tmp/err.txt" || { cat "$tmp/err.txt"; fail "$mode cut at $cut: rc $rc"; }
        n_rej=$((n_rej + 1))
    done
    for pos in $(seq 0 $((size / 61 + 1)) $((size - 1))); do
        cp "$f" "$tmp/bad.h5"
        printf '\xff' | dd of="$tmp/bad.h5" bs=1 seek=$pos conv=notrunc status=none
        "$DUMP" dump "$tmp/bad.h5" "$tmp/bad-dump" 2>"$tmp/err.txt"; rc=$?
        if [ $rc = 0 ]; then
            # readable: then the values must be the original ones (the byte was unused)
            for g in "$tmp/a/dump-$mode".*; do cmp -s "$g" "$tmp/bad-dump.${g##*.}" || fail "$mode: byte $pos set to 0xff changed values silently"; done
            n_same=$((n_same + 1))
        else
            [ $rc = 1 ] && [ "$(wc -l <"$tmp/err.txt")" = 1 ] || { cat "$tmp/err.txt"; fail "$mode byte $pos: rc $rc"; }
            n_rej=$((n_rej + 1))
        fi
    done
    echo "  $mode: last error: $(cat "$tmp/err.txt" 2>/dev/null)"
done
echo "damaged stores: $n_rej rejected with one line, $n_same with the byte in unused space read back identical"
echo ok
