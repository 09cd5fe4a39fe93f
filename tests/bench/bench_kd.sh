#!/usr/bin/env bash
# bench_kd.sh: the cost of distillation. A benchmark, not a test (never registered with ctest).
#  1. storage: bytes per token of a `lowbit teacher` store in each mode (full fp16 logits,
#     top-K ids + logits, sampled ids + counts), over the same windows;
#  2. speed: the QAT step time (SEQ 2-bit, format-exact q2_0c, every block linear) with CE only
#     vs KD from each store, and vs an online teacher, all measured in this run, same threads,
#     same batches; the overhead is (KD step time / CE step time - 1). Goal for the store: < 15%.
#  3. peak RSS of each training run (GNU time).
#
#   tests/bench/bench_kd.sh [-t THREADS] [-n STEPS] [-w WINDOWS] [-m TEACHER.gguf -d tokens.h5]
#   defaults: -t 2, -n 6 steps (the first 2 are not timed), -w 64 windows of 256 tokens;
#   teacher and tokens: runs/teacher/{teacher.gguf,tokens.h5} (recipes/teacher.sh), else a
#   random-init model of the same shape (llama dim 512, 8 layers, 8/2 heads, ffn 1536, tok512)
#   made here in a minute.
# env: LOWBIT (default build/lowbit), LOWBIT_DATA (default ../shared/data), OMP_WAIT_POLICY
#   (default PASSIVE).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
src="$(cd "$here/../.." && pwd)"
T=2 N=6 W=64 TEACHER="" TOKENS=""
while getopts "t:n:w:m:d:h" o; do
  case $o in
    t) T=$OPTARG ;; n) N=$OPTARG ;; w) W=$OPTARG ;; m) TEACHER=$OPTARG ;; d) TOKENS=$OPTARG ;;
    *) sed -n '2,16p' "$0"; exit 2 ;;
  esac
done
LOWBIT="${LOWBIT:-$src/build/lowbit}"
DATA="${LOWBIT_DATA:-$(cd "$src/.." && pwd)/shared/data}"
[ -x "$LOWBIT" ] || { echo "bench_kd: no lowbit at $LOWBIT (set LOWBIT)" >&2; exit 1; }
[ "$N" -ge 3 ] || { echo "bench_kd: -n must be at least 3 (2 untimed steps)" >&2; exit 2; }
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
work="$(mktemp -d "${TMPDIR:-/tmp}/bench_kd.XXXXXX")"
trap 'rm -rf "$work"' EXIT
[ -z "$TEACHER" ] && [ -f "$src/runs/teacher/teacher.gguf" ] && TEACHER="$src/runs/teacher/teacher.gguf"
[ -z "$TOKENS" ] && [ -f "$src/runs/teacher/tokens.h5" ] && TOKENS="$src/runs/teacher/tokens.h5"
cd "$work"
if [ -z "$TOKENS" ]; then
  "$LOWBIT" import "$DATA/stories260K/stories260K.bin" --tokenizer "$DATA/stories260K/tok512.bin" -o vocab.gguf >/dev/null
  "$LOWBIT" tokenize --vocab vocab.gguf "$DATA/text/tinyshakespeare.txt" -o tokens.h5 -q
  TOKENS=$work/tokens.h5
fi
if [ -z "$TEACHER" ]; then
  [ -f vocab.gguf ] || "$LOWBIT" import "$DATA/stories260K/stories260K.bin" --tokenizer "$DATA/stories260K/tok512.bin" -o vocab.gguf >/dev/null
  cat >init.yaml <<EOF
model: {random: {arch: llama, dim: 512, layers: 8, heads: 8, kv_heads: 2, ffn: 1536, vocab: 0, ctx: 256, tied: true}}
data: {tokens: $TOKENS, seq_len: 256, batch: 1}
optimizer: {lr: 1.0e-4}
schedule: {kind: constant, steps: 1}
checkpoint: {dir: init}
seed: 1
threads: $T
EOF
  "$LOWBIT" train init.yaml >/dev/null
  "$LOWBIT" export init/step-00000001.h5 -o teacher.gguf --type f32 --embeddings f32 --vocab vocab.gguf >/dev/null
  TEACHER=$work/teacher.gguf
fi
echo "teacher $TEACHER"
echo "tokens  $TOKENS"
echo "threads $T, $N steps of 16 x 256 tokens (first 2 untimed), store: $W windows of 256; OMP_WAIT_POLICY=$OMP_WAIT_POLICY"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"

# --- 1. storage -------------------------------------------------------------------------------
echo
printf "%-8s %10s %14s %12s\n" mode windows bytes/token "write s"
for spec in full topk:32 sampled:12; do
  mode=${spec%%:*} k=${spec#*:}
  [ "$mode" = full ] && karg=() || karg=(--k "$k")
  t0=$(date +%s.%N)
  "$LOWBIT" teacher "$TEACHER" --tokens "$TOKENS" -o "$mode.h5" --mode "$mode" "${karg[@]}" --seq-len 256 \
    --max-windows "$W" -t "$T" >"$mode.log" 2>&1 || { cat "$mode.log" >&2; exit 1; }
  t1=$(date +%s.%N)
  bpt=$(awk -v b="$(stat -c %s "$mode.h5")" -v n="$((W * 256))" 'BEGIN { printf "%.1f", b / n }')
  printf "%-8s %10d %14s %12.1f\n" "$mode$([ "$mode" = full ] || echo "-$k")" "$W" "$bpt" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')"
done

# --- 2. step time -----------------------------------------------------------------------------
# cfg NAME DISTILL_LINE
cfg() {
  cat <<EOF
model: {init: $TEACHER}
data: {tokens: $TOKENS, seq_len: 256, batch: 16}
optimizer: {lr: 1.0e-4, weight_decay: 0.0}
schedule: {kind: constant, steps: $N}
qat:
  attn: {quantizer: seq2, group: row, format: q2_0c}
  ffn: {quantizer: seq2, group: row, format: q2_0c}
log: {jsonl: $1.jsonl, every: 1}
eval: {every: 0}
seed: 3
threads: $T
EOF
  [ -n "$2" ] && echo "$2"
  return 0
}
# mean step seconds over steps 3..N, from the JSONL's elapsed
step_s() { awk -F'"elapsed": ' '/"elapsed"/ { split($2, a, /[,}]/); e[++n] = a[1] } END { printf "%.3f", (e[n] - e[2]) / (n - 2) }' "$1"; }
echo
printf "%-14s %10s %10s %10s %12s\n" run "step s" "tok/s" overhead "peak RSS MB"
ce=""
for spec in "ce:" "store-full:distill: {store: full.h5, loss: forward_kl}" \
            "store-topk:distill: {store: topk.h5, loss: topk}" "store-sampled:distill: {store: sampled.h5, loss: sampled}" \
            "online:distill: {teacher: $TEACHER, loss: forward_kl}"; do
  name=${spec%%:*} line=${spec#*:}
  cfg "$name" "$line" >"$name.yaml"
  /usr/bin/time -f "%M" -o "$name.rss" "$LOWBIT" train "$name.yaml" >"$name.out" 2>&1 || { cat "$name.out" >&2; exit 1; }
  s=$(step_s "$name.jsonl")
  rss=$(( $(tail -n 1 "$name.rss") / 1024 ))
  [ -z "$ce" ] && ce=$s
  ov=$(awk -v a="$s" -v b="$ce" 'BEGIN { printf "%+.1f%%", (a / b - 1) * 100 }')
  printf "%-14s %10s %10.0f %10s %12s\n" "$name" "$s" "$(awk -v s="$s" 'BEGIN { print 16 * 256 / s }')" "$ov" "$rss"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
