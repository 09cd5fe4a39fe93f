#!/usr/bin/env bash
# bench_train.sh: QAT training-step throughput, lowbit (libtrain) vs PyTorch, same model, same
# step, same threads, in one run. A benchmark, not a test (never registered with ctest).
#
#   tests/bench/bench_train.sh [-t THREADS] [-w WARMUP] [-n STEPS] [-r REPS]
#   defaults: -t 2 -w 1 -n 2 -r 1   (about 1.5 minutes per rep on 2 loaded cores)
#
# Model: Llama dim 512, 8 layers, 8 heads / 8 kv heads, ffn 1536, vocab 32000 (tied), batch 8 x
# seq 256, SEQ 2-bit fake quant (learned per-row scales) on every block linear, AdamW on weights
# and scales. lowbit side: bench_train_step (tests/bench/bench_train_step.c); PyTorch side:
# tests/bench/torch_qat_step.py on Debian's /usr/bin/python3 (torch 1.13).
# The reps alternate lowbit, torch, lowbit, torch, ... so a change in machine load hits both;
# each side's figure is its best rep (by mean step time over the timed steps).
#
# env:
#   BENCH_TRAIN_STEP  the C program (default: build/bench_train_step; build it with
#                     cmake --build build --target bench_train_step)
#   PYTHON            interpreter with torch (default /usr/bin/python3)
#   OMP_WAIT_POLICY   default PASSIVE: idle OpenMP/OpenBLAS threads sleep instead of spinning,
#                     which is much kinder (and faster) on a machine shared with other jobs.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
src="$(cd "$here/../.." && pwd)"
T=2 W=1 N=2 R=1
while getopts "t:w:n:r:h" o; do
  case $o in
    t) T=$OPTARG ;; w) W=$OPTARG ;; n) N=$OPTARG ;; r) R=$OPTARG ;;
    *) sed -n '2,9p' "$0"; exit 2 ;;
  esac
done
BIN="${BENCH_TRAIN_STEP:-$src/build/bench_train_step}"
PY="${PYTHON:-/usr/bin/python3}"
[ -x "$BIN" ] || { echo "bench: no bench_train_step at $BIN (set BENCH_TRAIN_STEP)" >&2; exit 1; }
"$PY" -c 'import torch' 2>/dev/null || { echo "bench: $PY has no torch (set PYTHON)" >&2; exit 1; }

export OMP_NUM_THREADS="$T" OPENBLAS_NUM_THREADS="$T" MKL_NUM_THREADS="$T"
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
log="$(mktemp -d "${TMPDIR:-/tmp}/bench_train.XXXXXX")"
trap 'rm -rf "$log"' EXIT

# value after "key:" on the first matching line, first field
field() { sed -n "s|^$2: *\([^ ]*\).*|\1|p" "$1" | head -n1; }
# the better (larger) of two numbers, empty-safe
best() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "") print b; else if (b == "" || a + 0 >= b + 0) print a; else print b }'; }

echo "threads $T, warmup $W, timed steps $N, reps $R, OMP_WAIT_POLICY=$OMP_WAIT_POLICY"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
lb_best="" th_best="" lb_log="" th_log=""
for r in $(seq 1 "$R"); do
  "$BIN" -t "$T" -w "$W" -n "$N" > "$log/lowbit.$r" 2>&1 || { cat "$log/lowbit.$r" >&2; exit 1; }
  tps=$(field "$log/lowbit.$r" "lowbit tokens/s")
  echo "rep $r lowbit: $tps tok/s  (sgemm peak $(field "$log/lowbit.$r" "sgemm peak") GFLOP/s)"
  if [ "$(best "$lb_best" "$tps")" = "$tps" ]; then lb_best=$tps; lb_log="$log/lowbit.$r"; fi

  "$PY" "$here/torch_qat_step.py" -t "$T" -w "$W" -n "$N" > "$log/torch.$r" 2>&1 || { cat "$log/torch.$r" >&2; exit 1; }
  tps=$(field "$log/torch.$r" "torch tokens/s")
  echo "rep $r torch:  $tps tok/s"
  if [ "$(best "$th_best" "$tps")" = "$tps" ]; then th_best=$tps; th_log="$log/torch.$r"; fi
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

echo
echo "--- lowbit (best rep) ---"
grep -E '^(model|memory plan|params|loss|step time|breakdown \(mean s\)|flops/token|lowbit tokens/s|achieved|sgemm peak|MFU|amx gemm peak|MFU vs amx gemm peak|peak RSS):' "$lb_log"
echo "--- torch (best rep) ---"
grep -E '^(torch [0-9]|step time:|torch tokens/s:|matmul peak:|peak RSS:)' "$th_log"
echo
awk -v a="$lb_best" -v b="$th_best" -v mfu="$(field "$lb_log" MFU)" -v fpt="$(field "$lb_log" flops/token)" \
    -v pt="$(field "$th_log" "matmul peak")" \
    -v ap="$(field "$lb_log" "amx gemm peak")" -v amfu="$(field "$lb_log" "MFU vs amx gemm peak")" \
    -v rl="$(field "$lb_log" "peak RSS")" -v rt="$(field "$th_log" "peak RSS")" 'BEGIN {
  tmfu = 100.0 * b * fpt * 1e-3 / pt   # fpt in MFLOP, pt in GFLOP/s
  printf "SUMMARY: lowbit %.1f tok/s, torch %.1f tok/s, ratio %.2fx (goal >= 2.5x)\n", a, b, a / b
  printf "SUMMARY: MFU lowbit %s %% (vs its cblas_sgemm peak), torch %.1f %% (same FLOPs vs its torch.mm peak %s GFLOP/s); load-normalised ratio %.2fx\n",
         mfu, tmfu, pt, mfu / tmfu
  if (amfu != "") printf "SUMMARY: MFU lowbit vs its gemm_amx peak %s GFLOP/s (the AMX matmuls it used): %s %%\n", ap, amfu
  printf "SUMMARY: peak RSS lowbit %s MiB, torch %s MiB\n", rl, rt }'
