#!/usr/bin/env bash
# bench_runtime.sh: lowbit run vs llama.cpp's llama-bench on the same random-weight F16 Llama
# 125M GGUF (dim 768, 12 layers, ffn 2048, 12 heads, 4 kv heads, vocab 32000): prompt
# processing and decode speed (tokens/s), their ratios, and peak RSS. A benchmark, not a test.
#
#   tests/bench/bench_runtime.sh [-p PROMPT_TOKENS] [-n GEN_TOKENS] [-t THREADS] [-r REPS] [-w WORKDIR]
#   defaults: -p 128 -n 64 -t 2 -r 3 -w ${TMPDIR:-/tmp}/lowbit-bench
#
# env:
#   LOWBIT       lowbit binary (default: build/lowbit next to this source tree)
#   LOWBIT_DATA  shared data dir (default: ../shared/data); the model's tokenizer pieces come from
#                vocab/ggml-vocab-llama-spm.gguf
#   LLAMA_BENCH  llama.cpp's llama-bench; without it only lowbit's numbers are printed.
#                Build it OUTSIDE this repository, from the llama.cpp source that the pinned npm
#                package ships (tests/peer/node_modules/node-llama-cpp/llama/gitRelease.bundle):
#                  git clone that bundle into e.g. /tmp/llama.cpp, then configure it with cmake
#                  (-DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DLLAMA_CURL=OFF) into /tmp/llama-build
#                  and build only the llama-bench target (-j2); then
#                  LLAMA_BENCH=/tmp/llama-build/bin/llama-bench tests/bench/bench_runtime.sh
#   OMP_WAIT_POLICY  for both programs' OpenMP threads; unset = libgomp default; set PASSIVE on a loaded machine (idle threads sleep at once).
#                libgomp's own default spins ~300k iterations after every parallel region: on an
#                idle machine that should save a futex wake per region (not measured: this box was
#                never idle), but when other
#                processes load the cores (this shared box: load 3-6 on 2 cores) the spinning
#                worker takes the core the descheduled one needs and 2-thread decode drops 5-30x
#                (measured: q8_0 125M, 3.6 tok/s default vs 27.6 passive). Set it to "" to get
#                libgomp's default. llama.cpp's CPU backend (GGML_OPENMP, the default build) runs
#                on the same libgomp, so the setting applies to both sides alike.
#   PYTHON       interpreter with numpy (default /usr/bin/python3)
#
# lowbit side: `lowbit run -p TEXT -n N --temp 0`, whose stderr reports prompt and decode tok/s;
# the prompt is BOS + (P-1) times " the", which the Llama vocabulary maps to exactly P tokens.
# llama-bench side: -p P -n N (random tokens, same model file, same threads), default settings.
set -euo pipefail
[ -n "${OMP_WAIT_POLICY:-}" ] && export OMP_WAIT_POLICY   # unset: libgomp default (spin, then sleep); PASSIVE helps on a loaded machine

here="$(cd "$(dirname "$0")" && pwd)"
src="$(cd "$here/../.." && pwd)"
P=128 N=64 T=2 R=3 W="${TMPDIR:-/tmp}/lowbit-bench"
while getopts "p:n:t:r:w:h" o; do
  case $o in
    p) P=$OPTARG ;; n) N=$OPTARG ;; t) T=$OPTARG ;; r) R=$OPTARG ;; w) W=$OPTARG ;;
    *) sed -n '2,9p' "$0"; exit 2 ;;
  esac
done
LOWBIT="${LOWBIT:-$src/build/lowbit}"
DATA="${LOWBIT_DATA:-$src/../shared/data}"
PY="${PYTHON:-/usr/bin/python3}"
[ -x "$LOWBIT" ] || { echo "bench: no lowbit binary at $LOWBIT (set LOWBIT)" >&2; exit 1; }
[ -f "$DATA/vocab/ggml-vocab-llama-spm.gguf" ] || { echo "bench: $DATA/vocab missing (set LOWBIT_DATA)" >&2; exit 1; }
mkdir -p "$W"

# --- the model: random F16 HF checkpoint -> lowbit import --type f16 ------------------------------
hf="$W/llama125m-hf" gguf="$W/llama125m-f16.gguf"
if [ ! -f "$hf/model.safetensors" ]; then
  "$PY" "$here/make_bench_model.py" "$hf" --vocab-gguf "$DATA/vocab/ggml-vocab-llama-spm.gguf"
fi
"$LOWBIT" import "$hf" -o "$gguf" --type f16

# --- lowbit ---------------------------------------------------------------------------------------
prompt="the"
for ((i = 2; i < P; i++)); do prompt+=" the"; done
pp_sum=0 tg_sum=0 n_prompt=0 n_gen=0
for ((r = 0; r < R; r++)); do
  line=$(/usr/bin/time -v -o "$W/lowbit.time" "$LOWBIT" run "$gguf" -p "$prompt" -n "$N" --temp 0 -t "$T" \
           2>&1 >/dev/null | grep '^prompt:' || true)
  [ -n "$line" ] || { echo "bench: lowbit run printed no timing line" >&2; exit 1; }
  # "prompt: 128 tokens in 0.100 s (1280.0 tok/s); generated: 64 tokens, decode 90.0 tok/s (2 threads)"
  n_prompt=$(sed -E 's/^prompt: ([0-9]+) tokens.*/\1/' <<<"$line")
  n_gen=$(sed -E 's/.*generated: ([0-9]+) tokens.*/\1/' <<<"$line")
  pp=$(sed -E 's/.*\(([0-9.]+) tok\/s\);.*/\1/' <<<"$line")
  tg=$(sed -E 's/.*decode ([0-9.]+) tok\/s.*/\1/' <<<"$line")
  pp_sum=$(awk -v a="$pp_sum" -v b="$pp" 'BEGIN{print a+b}')
  tg_sum=$(awk -v a="$tg_sum" -v b="$tg" 'BEGIN{print a+b}')
done
lb_pp=$(awk -v s="$pp_sum" -v r="$R" 'BEGIN{printf "%.1f", s/r}')
lb_tg=$(awk -v s="$tg_sum" -v r="$R" 'BEGIN{printf "%.1f", s/r}')
lb_rss=$(awk -F': ' '/Maximum resident/{printf "%.0f", $2/1024}' "$W/lowbit.time")
[ "$n_prompt" = "$P" ] || echo "bench: note: lowbit's prompt is $n_prompt tokens, not $P" >&2
[ "$n_gen" = "$N" ] || echo "bench: note: lowbit stopped after $n_gen generated tokens (end of text)" >&2

# --- llama.cpp --------------------------------------------------------------------------------------
ll_pp="" ll_tg="" ll_rss=""
if [ -n "${LLAMA_BENCH:-}" ]; then
  /usr/bin/time -v -o "$W/llama.time" "$LLAMA_BENCH" -m "$gguf" -p "$P" -n "$N" -t "$T" -r "$R" -o csv \
    >"$W/llama-bench.csv" 2>"$W/llama-bench.err" || { cat "$W/llama-bench.err" >&2; exit 1; }
  # avg_ts of the row whose n_prompt (resp. n_gen) is the test size
  read -r ll_pp ll_tg < <(awk -v P="$P" -v N="$N" '
    NR == 1 { n = split($0, h, ","); for (i = 1; i <= n; i++) col[h[i]] = i; next }   # bare header
    { split(substr($0, 2, length($0) - 2), f, "\",\"") }                            # "a","b",...
    { if (f[col["n_prompt"]] == P && f[col["n_gen"]] == 0) pp = f[col["avg_ts"]];
      if (f[col["n_gen"]] == N && f[col["n_prompt"]] == 0) tg = f[col["avg_ts"]] }
    END { printf "%.1f %.1f\n", pp, tg }' "$W/llama-bench.csv")
  ll_rss=$(awk -F': ' '/Maximum resident/{printf "%.0f", $2/1024}' "$W/llama.time")
else
  echo "bench: LLAMA_BENCH not set: lowbit numbers only (see the header for how to build it)" >&2
fi

# --- report -----------------------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.2f", a/b; else printf "-" }'; }
echo
echo "random Llama 125M, F16 ($gguf), $T threads, prompt $P, generate $N, $R reps (avg)"
echo "OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-(libgomp default)}; load: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
printf "%-22s %12s %12s %10s\n" "" "lowbit" "llama.cpp" "ratio"
printf "%-22s %12s %12s %10s\n" "prompt tok/s (pp$P)" "$lb_pp" "${ll_pp:--}" "$(ratio "$lb_pp" "${ll_pp:-0}")"
printf "%-22s %12s %12s %10s\n" "decode tok/s (tg$N)" "$lb_tg" "${ll_tg:--}" "$(ratio "$lb_tg" "${ll_tg:-0}")"
printf "%-22s %12s %12s %10s\n" "peak RSS MB" "$lb_rss" "${ll_rss:--}" "$(ratio "$lb_rss" "${ll_rss:-0}")"
echo "(ratio = lowbit / llama.cpp: >1 is faster for tok/s, larger for RSS; llama-bench's RSS covers all its runs)"
