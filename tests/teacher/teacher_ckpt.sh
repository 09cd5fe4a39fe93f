#!/usr/bin/env bash
# teacher_ckpt.sh: `lowbit teacher` with a lowbit checkpoint as the teacher
# (lb_train_model_from_ckpt): a tiny FP llama trained 2 steps by `lowbit train`, then
#   teacher CKPT.h5 --mode full  ==  teacher (lowbit export CKPT --type f32 --embeddings f32).gguf
# value for value (the export is exact for FP checkpoints, so both teachers are the same
# function); and the checkpoint teacher refuses a token store of another vocabulary.
# usage: teacher_ckpt.sh TEST_H5_LOGITS   (env: LOWBIT, LOWBIT_DATA)
set -u
LOWBIT=${LOWBIT:?LOWBIT not set}
DUMP=$1
DATA=${LOWBIT_DATA:-../shared/data}
bin="$DATA/stories260K/stories260K.bin" tok="$DATA/stories260K/tok512.bin" text="$DATA/text/tinyshakespeare.txt"
if [ ! -f "$bin" ] || [ ! -f "$tok" ] || [ ! -f "$text" ]; then
    echo "missing test data (shared/data/stories260K, text/)"
    [ "${CI:-}" = true ] && exit 1 || exit 77
fi
tmp=$(mktemp -d /tmp/lowbit-teacher-ckpt.XXXXXX)
[ -n "${KEEP_TMP:-}" ] || trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
fail() { echo "FAIL: $*"; exit 1; }

"$LOWBIT" import "$bin" --tokenizer "$tok" -o vocab.gguf >/dev/null 2>&1 || fail "import"
head -c 20000 "$text" >text.txt
"$LOWBIT" tokenize --vocab vocab.gguf text.txt -o t.h5 --val-fraction 0.1 >/dev/null 2>&1 || fail "tokenize"
cat >train.yaml <<YAML
model:
  random: {arch: llama, dim: 64, layers: 2, heads: 4, kv_heads: 2, ffn: 128}
data: {tokens: t.h5, seq_len: 32, batch: 2}
optimizer: {lr: 0.003, weight_decay: 0.0}
schedule: {kind: constant, warmup: 0, steps: 2}
checkpoint: {dir: ck, keep: 10, every: 0}
seed: 3
threads: 2
YAML
"$LOWBIT" train train.yaml >train.log 2>&1 || fail "train: $(tail -3 train.log)"
ckpt=ck/step-00000002.h5
[ -f "$ckpt" ] || fail "no checkpoint $ckpt"
"$LOWBIT" export "$ckpt" -o exported.gguf --type f32 --embeddings f32 >export.log 2>&1 || fail "export: $(tail -3 export.log)"

"$LOWBIT" teacher "$ckpt" --tokens t.h5 -o from_ckpt.h5 --mode full --seq-len 32 --max-windows 8 -t 2 2>err.txt || fail "teacher ckpt: $(cat err.txt)"
"$LOWBIT" teacher exported.gguf --tokens t.h5 -o from_gguf.h5 --mode full --seq-len 32 --max-windows 8 -t 2 2>err.txt || fail "teacher gguf: $(cat err.txt)"
"$DUMP" dump from_ckpt.h5 d_ckpt && "$DUMP" dump from_gguf.h5 d_gguf || fail "reader"
cmp -s d_ckpt.logits d_gguf.logits || fail "checkpoint teacher and its exact GGUF export give different stores"
echo "checkpoint teacher == its f32 GGUF export: $(stat -c %s d_ckpt.logits) bytes of fp32 logits identical"
"$LOWBIT" teacher "$ckpt" --tokens t.h5 -o topk.h5 --mode topk --k 8 --seq-len 32 --max-windows 8 -t 2 >/dev/null 2>err.txt || fail "teacher ckpt topk: $(cat err.txt)"

# another vocabulary -> one line, no output
head -c 2000 "$text" >small.txt
"$LOWBIT" tokenize --vocab "$DATA/vocab/ggml-vocab-llama-spm.gguf" small.txt -o t32k.h5 >/dev/null 2>&1 || fail "tokenize 32k"
"$LOWBIT" teacher "$ckpt" --tokens t32k.h5 -o out.h5 --mode full --seq-len 32 2>err.txt; rc=$?
[ $rc = 1 ] && [ "$(wc -l <err.txt)" = 1 ] && grep -q "vocabulary" err.txt && [ ! -e out.h5 ] || { cat err.txt; fail "vocab mismatch with a checkpoint teacher: rc $rc"; }
echo "  $(cat err.txt)"
echo ok
