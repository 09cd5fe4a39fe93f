#!/usr/bin/env bash
# hostile_gguf.sh: feed `lowbit inspect` damaged GGUF files and check it fails cleanly.
# usage: hostile_gguf.sh LOWBIT TEST_GGUF_EXE [VOCAB_GGUF]
#   LOWBIT         the lowbit binary
#   TEST_GGUF_EXE  test_gguf, whose --emit writes a good file with every value type and tensors
#   VOCAB_GGUF     optional real file (ggml-vocab-llama-spm.gguf) for extra truncations
# Every damaged file must give exit status 1 (not 0, not a signal, not a hang) and exactly
# one line on stderr that names the file. Bit flips may leave a valid file: exit 0 is then
# allowed, a crash never is.
set -u
LOWBIT=$1
EMIT=$2
VOCAB=${3:-}
tmp=$(mktemp -d /tmp/lowbit-hostile-gguf.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fails=0 runs=0

"$EMIT" --emit "$tmp/good.gguf" || { echo "FAIL: could not write the good file"; exit 1; }
size=$(stat -c %s "$tmp/good.gguf")
out=$("$LOWBIT" inspect "$tmp/good.gguf") || { echo "FAIL: good file rejected"; exit 1; }
data_off=$(printf '%s\n' "$out" | sed -n 's/.*bytes of data at offset \([0-9]*\)).*/\1/p')
[ -n "$data_off" ] || { echo "FAIL: no data offset in inspect output"; exit 1; }
# the last tensor (q8.mat, 136 bytes) starts at data offset + 128; after it there is only padding
data_end=$((data_off + 128 + 136))

# run FILE MODE: MODE=bad (must be rejected) or MODE=any (reject cleanly or accept)
run() {
    local f=$1 mode=$2 rc lines
    runs=$((runs + 1))
    timeout 20 "$LOWBIT" inspect "$f" >/dev/null 2>"$tmp/err"
    rc=$?
    lines=$(wc -l <"$tmp/err")
    if [ "$rc" = 0 ] && [ "$mode" = any ]; then return; fi
    if [ "$rc" != 1 ]; then
        echo "FAIL ($3): exit status $rc"; head -c 600 "$tmp/err"; fails=$((fails + 1)); return
    fi
    if [ "$lines" != 1 ] || ! grep -qF "$f" "$tmp/err"; then
        echo "FAIL ($3): stderr is not one line naming the file:"; head -c 600 "$tmp/err"; fails=$((fails + 1))
    fi
}

# little-endian integers written in place (bash arithmetic is 64-bit; & 255 handles negatives)
put_le() {   # FILE OFFSET VALUE NBYTES
    local s="" i
    for ((i = 0; i < $4; i++)); do s+=$(printf '\\%03o' $((($3 >> (8 * i)) & 255))); done
    printf "$s" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
# byte offset of the first occurrence of a string (a key or tensor name)
offset_of() { grep -obUaF "$2" "$1" | head -1 | cut -d: -f1; }

mutate() {   # NAME OFFSET VALUE NBYTES: copy good.gguf, patch, expect rejection
    local f="$tmp/$1.gguf"
    cp "$tmp/good.gguf" "$f"
    put_le "$f" "$2" "$3" "$4"
    run "$f" bad "$1"
}

# --- truncations: every cut in the header, every 11th in the metadata, some in data
cuts="$(seq 0 40) $(seq 41 11 $((data_off - 1))) $(seq "$data_off" 17 $((data_end - 1))) $((data_end - 1))"
for c in $cuts; do
    head -c "$c" "$tmp/good.gguf" >"$tmp/cut.gguf"
    run "$tmp/cut.gguf" bad "truncated at $c of $size"
done

# --- bit flips in header / KV / tensor infos (deterministic positions and masks)
i=0
for pos in $(seq 0 7 $((data_off - 1))); do
    cp "$tmp/good.gguf" "$tmp/flip.gguf"
    mask=$(((i * 37 + 1) % 255 + 1)); i=$((i + 1))
    byte=$(od -An -tu1 -j "$pos" -N1 "$tmp/flip.gguf" | tr -d ' ')
    put_le "$tmp/flip.gguf" "$pos" $((byte ^ mask)) 1
    run "$tmp/flip.gguf" any "flip byte $pos ^ $mask"
done

# --- absurd values
P60=$((1 << 60)); P63=$((1 << 62 << 1)); ALL=-1
mutate magic 0 0x47475546 4                  # "FUGG"
mutate version1 4 1 4
mutate version4 4 4 4
mutate version_huge 4 0x03000000 4
mutate n_tensors_2e60 8 $P60 8
mutate n_tensors_max 8 $ALL 8
mutate n_kv_2e60 16 $P60 8
mutate n_kv_2e63 16 $P63 8
mutate n_kv_plus1 16 27 8
mutate key0_len_2e60 24 $P60 8
mutate key0_len_max 24 $ALL 8
k=$(offset_of "$tmp/good.gguf" "t.u8"); mutate value_type_99 $((k + 4)) 99 4
mutate value_type_13 $((k + 4)) 13 4
s=$(offset_of "$tmp/good.gguf" "t.str")
mutate str_len_2e60 $((s + 9)) $P60 8
mutate str_len_max $((s + 9)) $ALL 8
mutate str_len_file $((s + 9)) "$size" 8
b=$(offset_of "$tmp/good.gguf" "t.bool"); mutate bool_value_2 $((b + 10)) 2 1
a=$(offset_of "$tmp/good.gguf" "a.u8")
mutate arr_count_2e60 $((a + 12)) $P60 8
mutate arr_count_max $((a + 12)) $ALL 8
mutate arr_nested $((a + 8)) 9 4
mutate arr_elem_type_77 $((a + 8)) 77 4
a=$(offset_of "$tmp/good.gguf" "a.str")
mutate str_arr_count_2e60 $((a + 13)) $P60 8
mutate str_arr_elem_len $((a + 21)) $P60 8
a=$(offset_of "$tmp/good.gguf" "general.alignment")
mutate alignment_48 $((a + 17 + 4)) 48 4
mutate alignment_0 $((a + 17 + 4)) 0 4
mutate alignment_type_i32 $((a + 17)) 5 4
cp "$tmp/good.gguf" "$tmp/dupkey.gguf"       # make key "t.i8" read "t.u8": a duplicate key
k=$(offset_of "$tmp/good.gguf" "t.i8"); put_le "$tmp/dupkey.gguf" $((k + 2)) 0x75 1
run "$tmp/dupkey.gguf" bad dup_key_t.u8
t=$(offset_of "$tmp/good.gguf" "q8.mat")
mutate n_dims_0 $((t + 6)) 0 4
mutate n_dims_5 $((t + 6)) 5 4
mutate ne0_negative $((t + 10)) $ALL 8
mutate ne0_not_block $((t + 10)) 33 8
mutate ne1_2e62 $((t + 18)) $((1 << 62)) 8
mutate ne1_overflow_bytes $((t + 18)) $((1 << 57)) 8
mutate tensor_type_9999 $((t + 26)) 9999 4
mutate tensor_type_4 $((t + 26)) 4 4            # a removed ggml type id
mutate offset_unaligned $((t + 30)) 130 8
mutate offset_2e63 $((t + 30)) $P63 8
mutate offset_past_end $((t + 30)) $((size - data_off)) 8
mutate name_len_64 $((t - 8)) 64 8
t0=$(offset_of "$tmp/good.gguf" "f16.vec")
cp "$tmp/good.gguf" "$tmp/dupname.gguf"; put_le "$tmp/dupname.gguf" $((t0 - 8)) 6 8   # "f16.ve" ...
# (shortening a name shifts the parse: must still be a clean error)
run "$tmp/dupname.gguf" bad shortened_name

# --- not files
run "$tmp/does-not-exist.gguf" bad missing
: >"$tmp/empty.gguf"; run "$tmp/empty.gguf" bad empty
mkdir "$tmp/dir.gguf"; run "$tmp/dir.gguf" bad directory

# --- a real file cut at spread-out points
if [ -n "$VOCAB" ] && [ -f "$VOCAB" ]; then
    vs=$(stat -c %s "$VOCAB")
    for c in $(seq 24 $((vs / 20 + 1)) $((vs - 1))); do
        head -c "$c" "$VOCAB" >"$tmp/vcut.gguf"
        run "$tmp/vcut.gguf" bad "vocab truncated at $c of $vs"
    done
fi

echo "hostile_gguf: $runs damaged files, $fails failures"
echo "$((runs - fails)) passed, $fails failed"
[ "$fails" = 0 ]
