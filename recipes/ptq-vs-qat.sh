#!/usr/bin/env bash
# ptq-vs-qat.sh: the whole low-bit pipeline on one teacher, ending in one comparison table.
#   teacher (recipes/teacher.sh)
#   -> PTQ baselines: RTN and GPTQ at 2 bits (q2_0c, q2_k) and 1.25-1.6 bits (stq1_0, tq1_0, tq2_0)
#   -> QAT: SEQ 2-bit (format-exact q2_0c) and Sherry 3:4 1.25-bit (format-exact stq1_0), each
#      with KD from the teacher (online, forward KL) and, for the KD-vs-CE comparison, CE only;
#      SEQ 2-bit also with CE + KD
#   -> export every QAT checkpoint losslessly to its native and upstream types
#   -> lowbit compare on the held-out split and on wikitext2-valid (markdown + CSV + PNG plot)
#
#   recipes/ptq-vs-qat.sh [-o OUTDIR] [-s QAT_STEPS] [-c CHUNKS] [-q]
#     -o OUTDIR   default runs/ptq-vs-qat (the teacher comes from runs/teacher, made if missing)
#     -s STEPS    QAT optimizer steps of 16 x 256 tokens (default 150: 0.61M tokens per run)
#     -c CHUNKS   wikitext2-valid: perplexity chunks of 256 tokens (default 100); the held-out
#                 sample (40 kB of each file's held-out part; 12 kB with -q) is scored whole
#     -q          quick: a small teacher (2 layers, 150 steps) trained here, 40 QAT steps, no
#                 CE-only runs, 40 chunks; a few minutes on 2 cores (README's main job)
#
# env: LOWBIT (default build/lowbit), LOWBIT_DATA (default ../shared/data)
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
OUT=runs/ptq-vs-qat STEPS=150 CHUNKS=100 QUICK=0 MIX=40000
while getopts "o:s:c:qh" o; do
  case $o in o) OUT=$OPTARG ;; s) STEPS=$OPTARG ;; c) CHUNKS=$OPTARG ;; q) QUICK=1 ;; *) sed -n '2,19p' "$0"; exit 2 ;; esac
done
[ "$QUICK" = 1 ] && [ "$OUT" = runs/ptq-vs-qat ] && OUT=runs/quick
LOWBIT="$(cd "$(dirname "${LOWBIT:-build/lowbit}")" 2>/dev/null && pwd)/$(basename "${LOWBIT:-build/lowbit}")"
DATA="${LOWBIT_DATA:-$(cd .. && pwd)/shared/data}"
[ -x "$LOWBIT" ] || { echo "ptq-vs-qat: no lowbit at $LOWBIT (build first)" >&2; exit 1; }
[ -d "$DATA" ] || { echo "ptq-vs-qat: missing $DATA (see shared/data/SOURCES.md; set LOWBIT_DATA)" >&2; exit 1; }
DATA=$(cd "$DATA" && pwd)
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
T=2   # threads: fixed, so every run is the same bits on any machine with >= 2 cores

# --- 1. teacher ---------------------------------------------------------------------------------
if [ "$QUICK" = 1 ]; then
  TD="$OUT/teacher"
  mkdir -p "$TD"
  (
    cd "$TD"
    "$LOWBIT" import "$DATA/stories260K/stories260K.bin" --tokenizer "$DATA/stories260K/tok512.bin" -o vocab.gguf >/dev/null
    : >heldout.txt
    for f in kjv tinyshakespeare jargon; do
      n=$(wc -l <"$DATA/text/$f.txt"); k=$((n * 95 / 100))
      head -n "$k" "$DATA/text/$f.txt" >"train-$f.txt"; tail -n +"$((k + 1))" "$DATA/text/$f.txt" >>heldout.txt
    done
    "$LOWBIT" tokenize --vocab vocab.gguf train-*.txt -o tokens.h5 --val-fraction 0.01 -q
    sed -e 's/layers: 8/layers: 2/' -e 's/steps: 600/steps: 150/' -e 's/warmup: 40/warmup: 15/' \
        -e 's/every: 100, keep: 2/every: 150, keep: 1/' "$REPO/configs/teacher.yaml" >teacher.yaml
    [ -f ckpt/step-00000150.h5 ] || { echo "== quick teacher: 2 layers, 150 steps"; "$LOWBIT" train teacher.yaml | tail -n 2; }
    "$LOWBIT" export ckpt/step-00000150.h5 -o teacher.gguf --type f32 --embeddings f32 --vocab vocab.gguf >/dev/null
  )
  STEPS=40 CHUNKS=40 MIX=12000
else
  TD="$REPO/runs/teacher"
  [ -f "$TD/teacher.gguf" ] || bash "$REPO/recipes/teacher.sh" -o "$TD"
fi
cd "$OUT"
ln -sf "$TD/teacher.gguf" teacher.gguf
ln -sf "$TD/tokens.h5" tokens.h5
# held-out text for the table: the first MIX bytes of each file's held-out part (the teacher never
# saw any of it), so KJV, Shakespeare and the jargon file weigh the same; scored whole
: >heldout-mix.txt
for f in kjv tinyshakespeare jargon; do
  n=$(wc -l <"$DATA/text/$f.txt"); k=$((n * 95 / 100))
  tail -n +"$((k + 1))" "$DATA/text/$f.txt" >heldout-part.txt
  head -c "$MIX" heldout-part.txt >>heldout-mix.txt
done
rm -f heldout-part.txt
HELD="$OUT/heldout-mix.txt"
WIKI="$DATA/text/wikitext2-valid.tokens.txt"
head -c 300000 "$TD/train-kjv.txt" >calib.txt
head -c 150000 "$TD/train-tinyshakespeare.txt" >>calib.txt
head -c 150000 "$TD/train-jargon.txt" >>calib.txt

# --- 2. PTQ baselines ---------------------------------------------------------------------------
for ty in q2_0c q2_k stq1_0 tq1_0 tq2_0; do
  [ -f "ptq-rtn-$ty.gguf" ] || "$LOWBIT" quantize teacher.gguf "ptq-rtn-$ty.gguf" --type "$ty" --embeddings f32 -t $T 2>"ptq-rtn-$ty.log"
  [ -f "ptq-gptq-$ty.gguf" ] || "$LOWBIT" quantize teacher.gguf "ptq-gptq-$ty.gguf" --type "$ty" --method gptq \
    --calib calib.txt --calib-ctx 256 --calib-chunks 128 --embeddings f32 -t $T 2>"ptq-gptq-$ty.log"
done
echo "== PTQ done: rtn and gptq x q2_0c q2_k stq1_0 tq1_0 tq2_0"

# --- 3. QAT -------------------------------------------------------------------------------------
# qat_config NAME QUANTIZER GROUP FORMAT LR KD   (KD 0: CE only, 1: KD only, 2: CE + KD, weights 1 and 1)
qat_config() {
  local name=$1 quant=$2 group=$3 format=$4 lr=$5 kd=$6
  cat <<EOF
# generated by recipes/ptq-vs-qat.sh
model: {init: teacher.gguf}
data: {tokens: tokens.h5, seq_len: 256, batch: 16}
optimizer: {lr: $lr, scale_lr: $lr, weight_decay: 0.0, clip: 1.0}
schedule: {kind: cosine, warmup: $((STEPS / 15 + 1)), steps: $STEPS, min_ratio: 0.0}
qat:
  attn: {quantizer: $quant, group: $group, format: $format}
  ffn: {quantizer: $quant, group: $group, format: $format}
checkpoint: {dir: $name, every: $STEPS, keep: 1}
log: {jsonl: $name.jsonl, every: 1}
eval: {every: 0}
seed: 7
threads: $T
EOF
  [ "$kd" = 0 ] || echo "distill: {teacher: teacher.gguf, loss: forward_kl, kd_weight: 1.0, ce_weight: $((kd - 1)).0}"
  return 0
}
final() { printf '%s/step-%08d.h5' "$1" "$STEPS"; }
runs=("qat-seq2-kd seq2 row q2_0c 2.0e-4 1" "qat-sherry-kd sherry 256 stq1_0 5.0e-4 1")
[ "$QUICK" = 1 ] || runs+=("qat-seq2-ce seq2 row q2_0c 2.0e-4 0" "qat-sherry-ce sherry 256 stq1_0 5.0e-4 0"
                          "qat-seq2-kdce seq2 row q2_0c 2.0e-4 2")
for r in "${runs[@]}"; do
  set -- $r
  qat_config "$@" >"$1.yaml"
  if [ ! -f "$(final "$1")" ]; then
    echo "== QAT $1 ($STEPS steps)"
    "$LOWBIT" train "$1.yaml" | tail -n 1
  fi
done

# --- 4. export (lossless) -----------------------------------------------------------------------
exp() { [ -f "$2" ] || "$LOWBIT" export "$(final "$1")" -o "$2" --type "$3" --embeddings f32 --vocab "$TD/vocab.gguf" >/dev/null; }
for v in kd ce kdce; do
  [ -d "qat-seq2-$v" ] || continue
  exp "qat-seq2-$v" "qat-seq2-$v-q2_0c.gguf" q2_0c
  exp "qat-seq2-$v" "qat-seq2-$v-q2_k.gguf" q2_k
  [ -d "qat-sherry-$v" ] || continue
  exp "qat-sherry-$v" "qat-sherry-$v-stq1_0.gguf" stq1_0
  exp "qat-sherry-$v" "qat-sherry-$v-tq1_0.gguf" tq1_0
  exp "qat-sherry-$v" "qat-sherry-$v-tq2_0.gguf" tq2_0
done
echo "== exported"

# --- 5. compare -----------------------------------------------------------------------------------
models=(ptq-rtn-q2_0c.gguf ptq-gptq-q2_0c.gguf ptq-rtn-q2_k.gguf ptq-gptq-q2_k.gguf)
for v in kd ce kdce; do [ -f "qat-seq2-$v-q2_0c.gguf" ] && models+=("qat-seq2-$v-q2_0c.gguf" "qat-seq2-$v-q2_k.gguf"); done
models+=(ptq-rtn-stq1_0.gguf ptq-gptq-stq1_0.gguf ptq-rtn-tq1_0.gguf ptq-gptq-tq1_0.gguf ptq-rtn-tq2_0.gguf ptq-gptq-tq2_0.gguf)
for v in kd ce; do
  [ -f "qat-sherry-$v-stq1_0.gguf" ] && models+=("qat-sherry-$v-stq1_0.gguf" "qat-sherry-$v-tq1_0.gguf" "qat-sherry-$v-tq2_0.gguf")
done
for set in heldout:"$HELD":0 wikitext2:"$WIKI":"$CHUNKS"; do
  IFS=: read -r name text chunks <<<"$set"
  echo
  echo "== $name: perplexity over $([ "$chunks" = 0 ] && echo "all" || echo "$chunks") chunks of 256 tokens"
  "$LOWBIT" compare --teacher teacher.gguf --text "$text" --ctx 256 $([ "$chunks" = 0 ] || echo "--chunks $chunks") -t $T \
    --plot "compare-$name.png" --csv-file "compare-$name.csv" "${models[@]}" 2>"compare-$name.log" | tee "compare-$name.md" ||
    { tail -n 3 "compare-$name.log" >&2; exit 1; }
done
echo
echo "tables: $OUT/compare-*.md, CSV: compare-*.csv, plots: compare-*.png"
