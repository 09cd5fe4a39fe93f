#!/usr/bin/env bash
# ptq_gptq_vs_rtn.sh: does GPTQ beat round-to-nearest on a REAL trained model? For every low-bit
# type: train a small Llama on tinyshakespeare (recipes/train_tiny_llama.py, a few CPU minutes),
# import it, quantize it with --method rtn and with --method gptq (calibration: a slice of the
# TRAINING text), and measure perplexity on held-out text (the file's last ~215 kB, never trained
# on) with `lowbit perplexity`. Prints one table.
#
#   recipes/ptq_gptq_vs_rtn.sh [-m MINUTES] [-t THREADS] [-o OUTDIR] [-- train_tiny_llama.py options]
#   defaults: -m 6 -t 2 -o out/ptq; a model already in OUTDIR/hf is reused (delete it to retrain)
#
# env: LOWBIT (default build/lowbit), LOWBIT_DATA (default ../shared/data), PYTHON (/usr/bin/python3,
#      needs torch 1.13+ and numpy).
set -euo pipefail
cd "$(dirname "$0")/.."
M=6 T=2 OUT=out/ptq
while getopts "m:t:o:h" o; do
  case $o in m) M=$OPTARG ;; t) T=$OPTARG ;; o) OUT=$OPTARG ;; *) sed -n '2,12p' "$0"; exit 2 ;; esac
done
shift $((OPTIND - 1))
LOWBIT="${LOWBIT:-build/lowbit}"
DATA="${LOWBIT_DATA:-$(cd .. && pwd)/shared/data}"
PY="${PYTHON:-/usr/bin/python3}"
for f in stories260K/tok512.bin text/tinyshakespeare.txt; do
  [ -f "$DATA/$f" ] || { echo "ptq: missing $DATA/$f (set LOWBIT_DATA)" >&2; exit 1; }
done
[ -x "$LOWBIT" ] || { echo "ptq: no lowbit at $LOWBIT (build first or set LOWBIT)" >&2; exit 1; }
mkdir -p "$OUT"

# --- data: train = first 900 kB, held-out = the rest, calibration = the first 150 kB of train ---
head -c 900000 "$DATA/text/tinyshakespeare.txt" >"$OUT/train.txt"
tail -c +900001 "$DATA/text/tinyshakespeare.txt" >"$OUT/heldout.txt"
head -c 150000 "$OUT/train.txt" >"$OUT/calib.txt"

# --- model ---
if [ ! -f "$OUT/hf/model.safetensors" ]; then
  "$PY" recipes/train_tiny_llama.py "$OUT/hf" --text "$OUT/train.txt" --tok512 "$DATA/stories260K/tok512.bin" \
    --minutes "$M" --threads "$T" "$@" | tee "$OUT/train.log"
fi
"$LOWBIT" import "$OUT/hf" -o "$OUT/f32.gguf" --type f32 2>/dev/null

ppl() { "$LOWBIT" perplexity "$1" --text "$OUT/heldout.txt" --ctx 256 --chunks 100 -t "$T" 2>/dev/null | tail -n 1 | sed 's/PPL = //'; }
printf "%-8s %12s %12s %12s   (held-out tinyshakespeare, 100 chunks of 256; lower is better)\n" type rtn gptq gptq/rtn
printf "%-8s %12s\n" f32 "$(ppl "$OUT/f32.gguf")"
"$LOWBIT" quantize "$OUT/f32.gguf" "$OUT/q8_0-rtn.gguf" --type q8_0 -t "$T" 2>"$OUT/q8_0-rtn.log"
printf "%-8s %12s\n" q8_0 "$(ppl "$OUT/q8_0-rtn.gguf")"   # (GPTQ is for the low-bit types)
for ty in q2_k tq2_0 tq1_0 q2_0c stq1_0; do
  "$LOWBIT" quantize "$OUT/f32.gguf" "$OUT/$ty-rtn.gguf" --type "$ty" -t "$T" 2>"$OUT/$ty-rtn.log"
  "$LOWBIT" quantize "$OUT/f32.gguf" "$OUT/$ty-gptq.gguf" --type "$ty" --method gptq --calib "$OUT/calib.txt" \
    --calib-ctx 256 --calib-chunks 128 -t "$T" 2>"$OUT/$ty-gptq.log"
  r=$(ppl "$OUT/$ty-rtn.gguf") g=$(ppl "$OUT/$ty-gptq.gguf")
  printf "%-8s %12s %12s %12s\n" "$ty" "$r" "$g" "$(awk -v a="$g" -v b="$r" 'BEGIN{printf "%.3f", a/b}')"
done
