#!/usr/bin/env bash
# hostile_model.sh: damaged model files and bad arguments through the commands that load a
# model (run, perplexity, logits, import from GGUF, inspect). Each must exit 1 (never a signal,
# never a hang), print exactly one stderr line naming the bad file, and leave no output file.
# Damage: truncation (header, metadata, tensor data), semantic damage that still parses
# (a missing hyper-parameter, absurd values, a renamed tensor, an unknown tokenizer model),
# and bad text inputs for perplexity.
# env: LOWBIT (binary), LOWBIT_DATA (shared data: stories260K.bin + tok512.bin)
set -u
LOWBIT=${LOWBIT:?LOWBIT not set}
DATA=${LOWBIT_DATA:-../shared/data}
bin="$DATA/stories260K/stories260K.bin"; tokbin="$DATA/stories260K/tok512.bin"
if [ ! -f "$bin" ] || [ ! -f "$tokbin" ]; then
    echo "missing test data: $bin / $tokbin (shared/data/stories260K; see shared/data/SOURCES.md)"
    [ "${CI:-}" = true ] && exit 1 || exit 77
fi
tmp=$(mktemp -d /tmp/lowbit-hostile-model.XXXXXX)
[ -n "${KEEP_TMP:-}" ] || trap 'rm -rf "$tmp"' EXIT
fails=0 runs=0

"$LOWBIT" import "$bin" --tokenizer "$tokbin" -o "$tmp/good.gguf" 2>/dev/null || { echo "FAIL: import of the good model"; exit 1; }
head -c 20000 "$DATA/text/tinyshakespeare.txt" >"$tmp/text.txt" 2>/dev/null || yes "the cat sat on the mat." | head -c 20000 >"$tmp/text.txt"
"$LOWBIT" run "$tmp/good.gguf" -n 4 --temp 0 -t 1 >/dev/null 2>&1 || { echo "FAIL: good model does not run"; exit 1; }

# expect_fail NAME BADFILE CMD...: exit 1, one stderr line containing BADFILE, no $tmp/out*
expect_fail() {
    local name=$1 bad=$2 rc lines; shift 2
    runs=$((runs + 1))
    rm -f "$tmp"/out*
    timeout 30 "$@" >/dev/null 2>"$tmp/err"; rc=$?
    lines=$(wc -l <"$tmp/err")
    if [ "$rc" != 1 ]; then
        echo "FAIL ($name): exit status $rc: $*"; head -c 400 "$tmp/err"; fails=$((fails + 1)); return
    fi
    if [ "$lines" != 1 ] || ! grep -qF "$bad" "$tmp/err"; then
        echo "FAIL ($name): stderr is not one line naming $bad:"; head -c 400 "$tmp/err"; fails=$((fails + 1)); return
    fi
    if ls "$tmp"/out* >/dev/null 2>&1; then
        echo "FAIL ($name): output file left behind: $(ls "$tmp"/out*)"; fails=$((fails + 1))
    fi
}

# every model-loading command on one damaged file
all_cmds() {   # NAME FILE
    expect_fail "$1/run" "$2" "$LOWBIT" run "$2" -n 2 --temp 0 -t 1
    expect_fail "$1/perplexity" "$2" "$LOWBIT" perplexity "$2" --text "$tmp/text.txt" --ctx 64 --chunks 1 -t 1
    expect_fail "$1/logits" "$2" "$LOWBIT" logits "$2" --tokens 1,2,3 -o "$tmp/out.bin" -t 1
    expect_fail "$1/import" "$2" "$LOWBIT" import "$2" -o "$tmp/out.gguf"
}

put_le() {   # FILE OFFSET VALUE NBYTES
    local s="" i
    for ((i = 0; i < $4; i++)); do s+=$(printf '\\%03o' $((($3 >> (8 * i)) & 255))); done
    printf "$s" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
offset_of() { grep -obUaF "$2" "$1" | head -1 | cut -d: -f1; }
patched() {   # NAME OFFSET VALUE NBYTES -> prints path of a patched copy
    cp "$tmp/good.gguf" "$tmp/$1.gguf"; put_le "$tmp/$1.gguf" "$2" "$3" "$4"; echo "$tmp/$1.gguf"
}
rename_bytes() {   # NAME OLD NEW (same length) -> patched copy with the first OLD replaced
    local off; off=$(offset_of "$tmp/good.gguf" "$2")
    cp "$tmp/good.gguf" "$tmp/$1.gguf"
    printf '%s' "$3" | dd of="$tmp/$1.gguf" bs=1 seek="$off" conv=notrunc status=none
    echo "$tmp/$1.gguf"
}

size=$(stat -c %s "$tmp/good.gguf")
# --- truncations: header, metadata, tensor infos, data
for c in 0 3 8 23 100 1000 5000 14000 14100 100000 $((size / 2)) $((size - 1)); do
    head -c "$c" "$tmp/good.gguf" >"$tmp/cut$c.gguf"
    all_cmds "truncated@$c" "$tmp/cut$c.gguf"
done

# --- semantic damage: parses as GGUF, but is not a usable model
k=$(offset_of "$tmp/good.gguf" "llama.block_count")           # key: u64 len, bytes, u32 type, value
f=$(rename_bytes missing_block_count "llama.block_count" "llama.block_counX"); all_cmds missing_key "$f"
f=$(patched block_count_1000 $((k + 17 + 4)) 1000 4); all_cmds block_count_1000 "$f"
f=$(patched block_count_0 $((k + 17 + 4)) 0 4); all_cmds block_count_0 "$f"
k=$(offset_of "$tmp/good.gguf" "llama.attention.head_count_kv")
f=$(patched head_count_kv_3 $((k + 29 + 4)) 3 4); all_cmds head_count_kv_3 "$f"
k=$(offset_of "$tmp/good.gguf" "llama.embedding_length")
f=$(patched embd_huge $((k + 22 + 4)) 0x7fffffff 4); all_cmds embedding_length_huge "$f"
f=$(patched embd_type_str $((k + 22)) 8 4); all_cmds embedding_length_wrong_type "$f"
f=$(rename_bytes renamed_tensor "token_embd.weight" "token_embX.weight"); all_cmds renamed_tensor "$f"
f=$(rename_bytes bad_arch '"llama' '"llamX' 2>/dev/null)   # value of general.architecture
k=$(offset_of "$tmp/good.gguf" "general.architecture")
cp "$tmp/good.gguf" "$tmp/bad_arch.gguf"; printf 'X' | dd of="$tmp/bad_arch.gguf" bs=1 seek=$((k + 20 + 4 + 8 + 4)) conv=notrunc status=none
all_cmds unknown_architecture "$tmp/bad_arch.gguf"
k=$(offset_of "$tmp/good.gguf" "tokenizer.ggml.model")
cp "$tmp/good.gguf" "$tmp/bad_tok.gguf"; printf 'X' | dd of="$tmp/bad_tok.gguf" bs=1 seek=$((k + 20 + 4 + 8 + 4)) conv=notrunc status=none
expect_fail unknown_tokenizer/run "$tmp/bad_tok.gguf" "$LOWBIT" run "$tmp/bad_tok.gguf" -n 2 --temp 0 -t 1
expect_fail unknown_tokenizer/perplexity "$tmp/bad_tok.gguf" "$LOWBIT" perplexity "$tmp/bad_tok.gguf" --text "$tmp/text.txt" --ctx 64 --chunks 1

# --- not a model at all
printf 'hello' >"$tmp/hello.gguf"; all_cmds five_bytes "$tmp/hello.gguf"
all_cmds missing_file "$tmp/nope.gguf"
mkdir "$tmp/dir.gguf"; all_cmds directory "$tmp/dir.gguf"

# --- bad text for perplexity (the model is fine; the message must name the text file)
: >"$tmp/empty.txt"
expect_fail empty_text "$tmp/empty.txt" "$LOWBIT" perplexity "$tmp/good.gguf" --text "$tmp/empty.txt" --ctx 64
printf 'short text' >"$tmp/short.txt"
expect_fail short_text "$tmp/short.txt" "$LOWBIT" perplexity "$tmp/good.gguf" --text "$tmp/short.txt" --ctx 64
expect_fail missing_text "$tmp/nope.txt" "$LOWBIT" perplexity "$tmp/good.gguf" --text "$tmp/nope.txt" --ctx 64
# binary garbage as text: must not crash (exit 0 with a PPL, or a clean error)
head -c 30000 /dev/urandom >"$tmp/garbage.txt" 2>/dev/null || true
timeout 60 "$LOWBIT" perplexity "$tmp/good.gguf" --text "$tmp/garbage.txt" --ctx 64 --chunks 2 -t 1 >/dev/null 2>&1
rc=$?; runs=$((runs + 1))
if [ "$rc" != 0 ] && [ "$rc" != 1 ]; then echo "FAIL (garbage_text): exit status $rc"; fails=$((fails + 1)); fi
# bad token ids for logits name the argument
expect_fail logits_bad_id "99999" "$LOWBIT" logits "$tmp/good.gguf" --tokens 1,99999 -o "$tmp/out.bin"

echo "hostile_model: $runs cases, $fails failures"
echo "$((runs - fails)) passed, $fails failed"
[ "$fails" = 0 ]
