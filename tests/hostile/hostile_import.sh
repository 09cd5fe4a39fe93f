#!/usr/bin/env bash
# hostile_import.sh: `lowbit import` on broken inputs must fail cleanly: exit status 1 (never
# a signal), exactly one line on stderr that names the offending file, and no OUT (or temp)
# file left behind. Covers safetensors headers, config.json, tokenizer.json, llama2.c
# checkpoints and tokenizer.bin; also random byte flips (which may be harmless, but must
# never crash). Env: LOWBIT (the binary), LOWBIT_DATA (stories260K for the llama2.c cases).
set -u
LOWBIT=${LOWBIT:?set LOWBIT to the lowbit binary}
work=$(mktemp -d /tmp/lowbit-hostile-import.XXXXXX)
trap 'rm -rf "$work"' EXIT
fails=0
cases=0

# --- helpers ---------------------------------------------------------------------------

# u64 little-endian as printf escapes
le64() { local v=$1 s="" i; for i in 0 1 2 3 4 5 6 7; do s+=$(printf '\\x%02x' $(( (v >> (8 * i)) & 255 ))); done; printf "$s"; }
le32() { local v=$1 s="" i; for i in 0 1 2 3; do s+=$(printf '\\x%02x' $(( (v >> (8 * i)) & 255 ))); done; printf "$s"; }

# st_write FILE HEADER DATA_BYTES [CLAIMED_LEN]
st_write() {
    local len=${4:-${#2}}
    { le64 "$len"; printf '%s' "$2"; head -c "$3" /dev/zero; } > "$1"
}

# expect_fail NAME NEEDLE ARGS...: import must exit 1 with one stderr line containing NEEDLE
expect_fail() {
    local name=$1 needle=$2; shift 2
    local out="$work/out-$name.gguf"
    cases=$((cases + 1))
    "$LOWBIT" import "$@" -o "$out" > "$work/stdout" 2> "$work/stderr"
    local rc=$?
    local lines
    lines=$(wc -l < "$work/stderr")
    if [ $rc -ne 1 ]; then
        echo "FAIL $name: exit $rc (want 1)"; cat "$work/stderr"; fails=$((fails + 1))
    elif [ "$lines" -ne 1 ]; then
        echo "FAIL $name: $lines stderr lines (want 1)"; cat "$work/stderr"; fails=$((fails + 1))
    elif ! grep -qF -- "$needle" "$work/stderr"; then
        echo "FAIL $name: stderr does not name '$needle':"; cat "$work/stderr"; fails=$((fails + 1))
    elif ls "$out" "$out".tmp-* > /dev/null 2>&1; then
        echo "FAIL $name: output or temp file left behind"; fails=$((fails + 1))
    else
        echo "ok   $name: $(cat "$work/stderr")"
    fi
    rm -f "$out" "$out".tmp-*
}

# expect_no_crash NAME ARGS...: exit 0 (with output) or 1 (one line, no output); never a signal
expect_no_crash() {
    local name=$1; shift
    local out="$work/out-$name.gguf"
    cases=$((cases + 1))
    "$LOWBIT" import "$@" -o "$out" > /dev/null 2> "$work/stderr"
    local rc=$?
    if [ $rc -eq 0 ] && [ -s "$out" ]; then :
    elif [ $rc -eq 1 ] && [ "$(wc -l < "$work/stderr")" -eq 1 ] && ! ls "$out" "$out".tmp-* > /dev/null 2>&1; then :
    else
        echo "FAIL $name: exit $rc"; cat "$work/stderr"; fails=$((fails + 1))
    fi
    rm -f "$out" "$out".tmp-*
}

# flip byte at OFFSET of FILE to VALUE
poke() { printf "$(printf '\\x%02x' "$3")" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none; }

# --- a valid tiny llama HF directory (all-zero f32 weights) ------------------------------

hf="$work/hf"
mkdir -p "$hf"
cat > "$hf/config.json" <<'EOF'
{"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 8, "hidden_size": 8,
 "num_hidden_layers": 1, "intermediate_size": 16, "num_attention_heads": 2, "num_key_value_heads": 2,
 "max_position_embeddings": 32, "rms_norm_eps": 1e-05, "rope_theta": 10000.0, "tie_word_embeddings": true,
 "bos_token_id": 6, "eos_token_id": 7}
EOF
cat > "$hf/tokenizer.json" <<'EOF'
{"added_tokens": [{"id": 6, "content": "<|begin|>", "special": true}, {"id": 7, "content": "<|end|>", "special": true}],
 "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "c": 2, "ab": 3, "bc": 4, "abc": 5}, "merges": ["a b", "b c", "ab c"]}}
EOF
# tensors: name shape (PyTorch order); f32 zeros laid out back to back
hf_header() {
    local h="{" off=0 first=1 name shape n
    while read -r name shape n; do
        [ $first -eq 1 ] || h+=","
        first=0
        h+="\"$name\":{\"dtype\":\"F32\",\"shape\":[$shape],\"data_offsets\":[$off,$((off + 4 * n))]}"
        off=$((off + 4 * n))
    done
    h+="}"
    printf '%s' "$h"
    echo "$off" > "$work/data_bytes"
}
tensors="model.embed_tokens.weight 8,8 64
model.layers.0.input_layernorm.weight 8 8
model.layers.0.self_attn.q_proj.weight 8,8 64
model.layers.0.self_attn.k_proj.weight 8,8 64
model.layers.0.self_attn.v_proj.weight 8,8 64
model.layers.0.self_attn.o_proj.weight 8,8 64
model.layers.0.post_attention_layernorm.weight 8 8
model.layers.0.mlp.gate_proj.weight 16,8 128
model.layers.0.mlp.up_proj.weight 16,8 128
model.layers.0.mlp.down_proj.weight 8,16 128
model.norm.weight 8 8"
good_header=$(printf '%s\n' "$tensors" | hf_header)
data_bytes=$(cat "$work/data_bytes")
st_write "$hf/model.safetensors" "$good_header" "$data_bytes"

# sanity: the untouched directory imports
if ! "$LOWBIT" import "$hf" -o "$work/good.gguf" 2> "$work/stderr"; then
    echo "FAIL: the valid tiny HF directory does not import:"; cat "$work/stderr"; exit 1
fi
rm -f "$work/good.gguf"
echo "ok   valid tiny HF directory imports"

# copy the good directory to a case dir, let the caller break one file
mkcase() { rm -rf "$work/case"; cp -r "$hf" "$work/case"; echo "$work/case"; }

# --- safetensors headers ---------------------------------------------------------------

d=$(mkcase); head -c 5 "$hf/model.safetensors" > "$d/model.safetensors"
expect_fail st_truncated_len model.safetensors "$d"
d=$(mkcase); head -c 100 "$hf/model.safetensors" > "$d/model.safetensors"
expect_fail st_truncated_header model.safetensors "$d"
d=$(mkcase); head -c $(( 8 + ${#good_header} + 10 )) "$hf/model.safetensors" > "$d/model.safetensors"
expect_fail st_truncated_data model.safetensors "$d"
d=$(mkcase); st_write "$d/model.safetensors" "$good_header" "$data_bytes" $(( 1 << 62 ))
expect_fail st_absurd_len model.safetensors "$d"
d=$(mkcase); st_write "$d/model.safetensors" "$good_header" "$data_bytes" 4096
expect_fail st_len_past_end model.safetensors "$d"
d=$(mkcase); st_write "$d/model.safetensors" "${good_header/\"F32\"/\"I8\"}" "$data_bytes"
expect_fail st_dtype model.safetensors "$d"
d=$(mkcase); st_write "$d/model.safetensors" "${good_header/8,8/99999999999,99999999999}" "$data_bytes"
expect_fail st_huge_shape model.safetensors "$d"
d=$(mkcase); st_write "$d/model.safetensors" "${good_header/8,8/-8,8}" "$data_bytes"
expect_fail st_negative_shape model.safetensors "$d"
d=$(mkcase); st_write "$d/model.safetensors" "${good_header/\[0,256\]/[0,18446744073709551615]}" "$data_bytes"
expect_fail st_huge_offset model.safetensors "$d"
d=$(mkcase); st_write "$d/model.safetensors" "${good_header%\}}" "$data_bytes"
expect_fail st_bad_json model.safetensors "$d"
d=$(mkcase); st_write "$d/model.safetensors" "${good_header/8,8/8,8,1,1,1}" "$data_bytes"
expect_fail st_five_dims model.safetensors "$d"
d=$(mkcase); st_write "$d/model.safetensors" "${good_header/q_proj/qq_proj}" "$data_bytes"
expect_fail st_unknown_tensor model.safetensors "$d"
d=$(mkcase); rm "$d/model.safetensors"
printf '{"weight_map": {"model.norm.weight": "../hf/model.safetensors"}}' > "$d/model.safetensors.index.json"
expect_fail st_index_dotdot model.safetensors.index.json "$d"
d=$(mkcase); rm "$d/model.safetensors"
printf '{"weight_map": {"model.norm.weight": "missing.safetensors"}}' > "$d/model.safetensors.index.json"
expect_fail st_index_missing_shard missing.safetensors "$d"
d=$(mkcase); rm "$d/model.safetensors"
printf '{"weight_map": [1, 2]}' > "$d/model.safetensors.index.json"
expect_fail st_index_not_object model.safetensors.index.json "$d"
d=$(mkcase); rm "$d/model.safetensors"
expect_fail st_no_weights "$d" "$d"

# --- config.json -------------------------------------------------------------------------

cfg_case() {   # cfg_case NAME NEEDLE SED_EXPR
    local d
    d=$(mkcase)
    sed -e "$3" "$hf/config.json" > "$d/config.json"
    expect_fail "$1" "$2" "$d"
}
cfg_case cfg_invalid_json config.json 's/}$/,/'
cfg_case cfg_missing_hidden config.json 's/"hidden_size": 8,//'
cfg_case cfg_string_layers config.json 's/"num_hidden_layers": 1/"num_hidden_layers": "1"/'
cfg_case cfg_negative_heads config.json 's/"num_attention_heads": 2/"num_attention_heads": -2/'
cfg_case cfg_zero_layers config.json 's/"num_hidden_layers": 1/"num_hidden_layers": 0/'
cfg_case cfg_huge_vocab config.json 's/"vocab_size": 8/"vocab_size": 1e300/'
cfg_case cfg_fraction config.json 's/"intermediate_size": 16/"intermediate_size": 16.5/'
cfg_case cfg_kv_not_divisor config.json 's/"num_key_value_heads": 2/"num_key_value_heads": 3/'
cfg_case cfg_arch config.json 's/LlamaForCausalLM/MambaForCausalLM/'
cfg_case cfg_eps_negative config.json 's/"rms_norm_eps": 1e-05/"rms_norm_eps": -1/'
cfg_case cfg_rope_scaling config.json 's/"rope_theta": 10000.0/"rope_scaling": {"type": "yarn", "factor": 4}/'
cfg_case cfg_bos_range config.json 's/"bos_token_id": 6/"bos_token_id": 4000000/'
cfg_case cfg_wrong_shapes token_embd.weight 's/"hidden_size": 8/"hidden_size": 16/'
d=$(mkcase); printf '[]' > "$d/config.json"
expect_fail cfg_array config.json "$d"
d=$(mkcase); : > "$d/config.json"
expect_fail cfg_empty config.json "$d"

# --- tokenizer.json ----------------------------------------------------------------------

tok_case() {   # tok_case NAME SED_EXPR
    local d
    d=$(mkcase)
    sed -e "$2" "$hf/tokenizer.json" > "$d/tokenizer.json"
    expect_fail "$1" tokenizer.json "$d"
}
tok_case tok_invalid_json 's/}}$/}/'
tok_case tok_unigram 's/"type": "BPE"/"type": "Unigram"/'
tok_case tok_id_range 's/"abc": 5/"abc": 500/'
tok_case tok_id_negative 's/"abc": 5/"abc": -5/'
tok_case tok_id_string 's/"abc": 5/"abc": "5"/'
tok_case tok_duplicate_id 's/"abc": 5/"abc": 4/'
tok_case tok_no_merges 's/, "merges": \["a b", "b c", "ab c"\]//'
tok_case tok_bad_merge 's/"a b", "b c"/"a b", 7/'
tok_case tok_added_range 's/"id": 7/"id": 70000/'
d=$(mkcase); rm "$d/tokenizer.json"
expect_fail tok_missing tokenizer.json "$d"
printf '{"model": {"type": "BPE", "vocab": {"a": 99}, "merges": ["a b"]}}' > "$work/override.json"
expect_fail tok_override override.json "$hf" --tokenizer "$work/override.json"

# --- llama2.c ----------------------------------------------------------------------------

stories="${LOWBIT_DATA:-}/stories260K/stories260K.bin"
tok="${LOWBIT_DATA:-}/stories260K/tok512.bin"
if [ -f "$stories" ] && [ -f "$tok" ]; then
    size=$(stat -c %s "$stories")
    head -c $((size - 4)) "$stories" > "$work/trunc.bin"
    expect_fail l2c_truncated trunc.bin "$work/trunc.bin" --tokenizer "$tok"
    { cat "$stories"; printf 'xxxx'; } > "$work/long.bin"
    expect_fail l2c_trailing long.bin "$work/long.bin" --tokenizer "$tok"
    head -c 20 "$stories" > "$work/tiny.bin"
    expect_fail l2c_tiny tiny.bin "$work/tiny.bin" --tokenizer "$tok"
    l2c_hdr() {   # l2c_hdr NAME NEEDLE dim hidden layers heads kv vocab seq
        local name=$1 needle=$2; shift 2
        { for v in "$@"; do le32 $(( v & 0xffffffff )); done; tail -c +29 "$stories"; } > "$work/$name.bin"
        expect_fail "$name" "$needle" "$work/$name.bin" --tokenizer "$tok"
    }
    l2c_hdr l2c_dim_heads l2c_dim_heads.bin 64 172 5 7 4 512 512
    l2c_hdr l2c_kv_heads l2c_kv_heads.bin 64 172 5 8 3 512 512
    l2c_hdr l2c_zero_dim l2c_zero_dim.bin 0 172 5 8 4 512 512
    l2c_hdr l2c_negative_layers l2c_negative_layers.bin 64 172 -5 8 4 512 512
    l2c_hdr l2c_huge_vocab l2c_huge_vocab.bin 64 172 5 8 4 2147483647 512
    l2c_hdr l2c_min_vocab l2c_min_vocab.bin 64 172 5 8 4 -2147483648 512
    l2c_hdr l2c_huge_seq l2c_huge_seq.bin 64 172 5 8 4 512 2000000000
    l2c_hdr l2c_wrong_hidden l2c_wrong_hidden.bin 64 171 5 8 4 512 512
    { le32 $((0x616b3432)); le32 2; tail -c +9 "$stories"; } > "$work/v2.bin"
    expect_fail l2c_version2 v2.bin "$work/v2.bin" --tokenizer "$tok"
    { le32 $((0x616b3432)); le32 99; tail -c +9 "$stories"; } > "$work/v99.bin"
    expect_fail l2c_version99 v99.bin "$work/v99.bin" --tokenizer "$tok"
    expect_fail l2c_no_tokenizer stories260K.bin "$stories"
    # tokenizer.bin
    tsize=$(stat -c %s "$tok")
    head -c $((tsize - 3)) "$tok" > "$work/tok_trunc.bin"
    expect_fail tok_bin_truncated tok_trunc.bin "$stories" --tokenizer "$work/tok_trunc.bin"
    head -c 2 "$tok" > "$work/tok_tiny.bin"
    expect_fail tok_bin_tiny tok_tiny.bin "$stories" --tokenizer "$work/tok_tiny.bin"
    { head -c 8 "$tok"; le32 2000000000; tail -c +13 "$tok"; } > "$work/tok_len.bin"
    expect_fail tok_bin_huge_len tok_len.bin "$stories" --tokenizer "$work/tok_len.bin"
    { head -c 8 "$tok"; le32 $((0xffffffff)); tail -c +13 "$tok"; } > "$work/tok_neg.bin"
    expect_fail tok_bin_negative_len tok_neg.bin "$stories" --tokenizer "$work/tok_neg.bin"
    { cat "$tok"; printf 'zz'; } > "$work/tok_extra.bin"
    expect_fail tok_bin_trailing tok_extra.bin "$stories" --tokenizer "$work/tok_extra.bin"
    : > "$work/tok_empty.bin"
    expect_fail tok_bin_empty tok_empty.bin "$stories" --tokenizer "$work/tok_empty.bin"
    # random byte flips in the checkpoint header and the tokenizer: never a crash
    RANDOM=42
    for i in $(seq 1 40); do
        cp "$stories" "$work/flip.bin"
        poke "$work/flip.bin" $((RANDOM % 28)) $((RANDOM % 256))
        expect_no_crash "l2c_flip_$i" "$work/flip.bin" --tokenizer "$tok"
        cp "$tok" "$work/flip_tok.bin"
        poke "$work/flip_tok.bin" $((RANDOM % 200)) $((RANDOM % 256))
        expect_no_crash "tok_flip_$i" "$stories" --tokenizer "$work/flip_tok.bin"
    done
else
    echo "skip llama2.c cases: no stories260K in LOWBIT_DATA"
    [ "${CI:-}" = true ] && fails=$((fails + 1))
fi

# random byte flips in the safetensors header
hlen=${#good_header}
for i in $(seq 1 60); do
    d=$(mkcase)
    poke "$d/model.safetensors" $((RANDOM % (hlen + 8))) $((RANDOM % 256))
    expect_no_crash "st_flip_$i" "$d"
done

echo "hostile import: $cases cases, $fails failures"
[ $fails -eq 0 ]
