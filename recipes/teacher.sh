#!/usr/bin/env bash
# teacher.sh: deterministically pretrain the FP Llama teacher that every quality comparison
# (PTQ vs QAT, KD vs CE) uses, and report its perplexity.
#
#   recipes/teacher.sh [-o OUTDIR]        default OUTDIR: runs/teacher
#
# Model (configs/teacher.yaml): llama, dim 512, 8 layers, 8 heads / 2 kv heads (GQA), ffn 1536,
# tied head, the 512-token vocabulary of stories260K's tok512.bin: 24.4M parameters, 99% in the
# transformer blocks (as in real 1-2B models; with a 32k vocabulary most weights would sit in the
# embedding and 2-bit PTQ would barely hurt). Every linear's rows are multiples of 512, so every
# block type applies, Q2_0C included.
# Data: kjv.txt + tinyshakespeare.txt + jargon.txt. Each file's last 5% of lines is held out
# (heldout.txt, never trained on); the rest is tokenized (1% of it as the /val split the trainer
# reports). 600 steps x 16 x 256 = 2.46M tokens, seed and thread count fixed: the same bits on
# every run (about 35 minutes on 2 cores).
# Outputs in OUTDIR: vocab.gguf (the tokenizer), train.txt parts, heldout.txt, tokens.h5,
# ckpt/step-00000600.h5 (the teacher checkpoint), teacher.gguf (f32, exact), teacher.txt (the
# report). Re-running resumes an interrupted training and skips finished steps.
#
# env: LOWBIT (default build/lowbit), LOWBIT_DATA (default ../shared/data)
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
OUT=runs/teacher
while getopts "o:h" o; do
  case $o in o) OUT=$OPTARG ;; *) sed -n '2,21p' "$0"; exit 2 ;; esac
done
LOWBIT="$(cd "$(dirname "${LOWBIT:-build/lowbit}")" 2>/dev/null && pwd)/$(basename "${LOWBIT:-build/lowbit}")"
DATA="${LOWBIT_DATA:-$(cd .. && pwd)/shared/data}"
for f in stories260K/stories260K.bin stories260K/tok512.bin text/kjv.txt text/tinyshakespeare.txt text/jargon.txt \
         text/wikitext2-valid.tokens.txt; do
  [ -f "$DATA/$f" ] || { echo "teacher: missing $DATA/$f (see shared/data/SOURCES.md; set LOWBIT_DATA)" >&2; exit 1; }
done
[ -x "$LOWBIT" ] || { echo "teacher: no lowbit at $LOWBIT (build first: cmake -S . -B build && cmake --build build)" >&2; exit 1; }
DATA=$(cd "$DATA" && pwd)
mkdir -p "$OUT"
cd "$OUT"
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"   # libgomp spin-waits collapse on a busy 2-core machine

echo "== vocabulary (tok512) and data split"
"$LOWBIT" import "$DATA/stories260K/stories260K.bin" --tokenizer "$DATA/stories260K/tok512.bin" -o vocab.gguf >/dev/null
: >heldout.txt
for f in kjv tinyshakespeare jargon; do
  n=$(wc -l <"$DATA/text/$f.txt")
  k=$((n * 95 / 100))
  head -n "$k" "$DATA/text/$f.txt" >"train-$f.txt"
  tail -n +"$((k + 1))" "$DATA/text/$f.txt" >>heldout.txt
done
"$LOWBIT" tokenize --vocab vocab.gguf train-*.txt -o tokens.h5 --val-fraction 0.01 -q
"$LOWBIT" tokenize --info tokens.h5 | sed -n 1p

FINAL=ckpt/step-00000600.h5
if [ -f "$FINAL" ]; then
  echo "== teacher already trained: $OUT/$FINAL"
else
  last=$(ls ckpt/step-*.h5 2>/dev/null | sort | tail -n 1 || true)
  echo "== pretraining (configs/teacher.yaml)${last:+, resuming from $last}"
  "$LOWBIT" train "$REPO/configs/teacher.yaml" ${last:+--resume "$last"}
fi

echo "== export teacher.gguf (f32: exactly the checkpoint's weights)"
"$LOWBIT" export "$FINAL" -o teacher.gguf --type f32 --embeddings f32 --vocab vocab.gguf

echo "== perplexity (ctx 256, the training length)"
ppl() { "$LOWBIT" perplexity teacher.gguf --text "$1" --ctx 256 2>/dev/null | tail -n 1 | sed 's/PPL = //'; }
h=$(ppl heldout.txt)
w=$(ppl "$DATA/text/wikitext2-valid.tokens.txt")
{
  echo "teacher: $OUT/teacher.gguf ($(du -h teacher.gguf | cut -f1)), checkpoint $OUT/$FINAL"
  echo "perplexity, held-out split (heldout.txt): $h"
  echo "perplexity, wikitext2-valid.tokens.txt:    $w"
} | tee teacher.txt
