#!/usr/bin/env bash
# bench_quant.sh: lowbit's low-bit types vs llama.cpp's, same model, same threads, same run.
# A benchmark, not a test. Prints a table with ratios (lowbit / llama.cpp):
#   - decode tok/s: lowbit q2_0c vs llama.cpp Q2_K, lowbit stq1_0 vs llama.cpp TQ1_0 (the goals),
#     and lowbit on the very same Q2_K / TQ1_0 / TQ2_0 files llama.cpp runs;
#   - prompt (prefill) tok/s, same pairs;
#   - quantize wall time and peak RSS: `lowbit quantize` vs `llama-quantize` (F16 -> Q2_K, TQ1_0),
#     both with every 2-D weight in the type and token_embd/output in q8_0 (llama-quantize --pure
#     --token-embedding-type q8_0 --output-tensor-type q8_0), i.e. the same files' contents mix.
#
#   tests/bench/bench_quant.sh [-big] [-p PROMPT] [-n GEN] [-t THREADS] [-r REPS] [-w WORKDIR]
#   defaults: 125M random Llama (dim 768, 12 layers, ffn 2048, 12 heads, 4 kv, vocab 32000),
#             -p 128 -n 64 -t 2 -r 3 -w ${TMPDIR:-/tmp}/lowbit-bench
#   -big: the 1.67B HY-1.8B-shaped Llama instead (dim 2048, 32 layers, ffn 6144, 16 heads, 4 kv
#         heads, vocab 32000; ~3.3 GB of f16, generated once into WORKDIR; takes a while)
#
# env:
#   LOWBIT           lowbit binary (default: build/lowbit of this source tree)
#   LOWBIT_DATA      shared data (vocab/ggml-vocab-llama-spm.gguf gives the tokenizer pieces)
#   LLAMA_BIN        directory with llama.cpp's llama-bench and llama-quantize (default
#                    /tmp/llama-build/bin). Built OUTSIDE this repository from the llama.cpp source
#                    the pinned npm package ships (see bench_runtime.sh's header). Without them only
#                    lowbit's numbers are printed.
#   OMP_WAIT_POLICY  for both programs' OpenMP threads; unset = libgomp default; set PASSIVE on a loaded machine (idle threads sleep at once).
#                libgomp's own default spins ~300k iterations after every parallel region: on an
#                idle machine that should save a futex wake per region (not measured: this box was
#                never idle), but when other
#                processes load the cores (this shared box: load 3-6 on 2 cores) the spinning
#                worker takes the core the descheduled one needs and 2-thread decode drops 5-30x
#                (measured: q8_0 125M, 3.6 tok/s default vs 27.6 passive). Set it to "" to get
#                libgomp's default. llama.cpp's CPU backend (GGML_OPENMP, the default build) runs
#                on the same libgomp, so the setting applies to both sides alike.
#   PYTHON           interpreter with numpy (default /usr/bin/python3)
set -euo pipefail
[ -n "${OMP_WAIT_POLICY:-}" ] && export OMP_WAIT_POLICY   # unset: libgomp default (spin, then sleep); PASSIVE helps on a loaded machine

here="$(cd "$(dirname "$0")" && pwd)"
src="$(cd "$here/../.." && pwd)"
P=128 N=64 T=2 R=3 W="${TMPDIR:-/tmp}/lowbit-bench" BIG=0
args=()
for a in "$@"; do [ "$a" = "-big" ] && BIG=1 || args+=("$a"); done
set -- "${args[@]+"${args[@]}"}"
while getopts "p:n:t:r:w:h" o; do
  case $o in
    p) P=$OPTARG ;; n) N=$OPTARG ;; t) T=$OPTARG ;; r) R=$OPTARG ;; w) W=$OPTARG ;;
    *) sed -n '2,16p' "$0"; exit 2 ;;
  esac
done
LOWBIT="${LOWBIT:-$src/build/lowbit}"
DATA="${LOWBIT_DATA:-$src/../shared/data}"
PY="${PYTHON:-/usr/bin/python3}"
LLAMA_BIN="${LLAMA_BIN:-/tmp/llama-build/bin}"
[ -x "$LOWBIT" ] || { echo "bench: no lowbit binary at $LOWBIT (set LOWBIT)" >&2; exit 1; }
[ -f "$DATA/vocab/ggml-vocab-llama-spm.gguf" ] || { echo "bench: $DATA/vocab missing (set LOWBIT_DATA)" >&2; exit 1; }
mkdir -p "$W"
have_llama=0
[ -x "$LLAMA_BIN/llama-bench" ] && [ -x "$LLAMA_BIN/llama-quantize" ] && have_llama=1
[ $have_llama = 1 ] || echo "bench: $LLAMA_BIN/llama-bench or llama-quantize missing: lowbit numbers only" >&2

# --- the model: random F16 HF checkpoint -> lowbit import --type f16 -------------------------------
if [ $BIG = 1 ]; then
  name=llama1p7b shape=(--dim 2048 --layers 32 --ffn 6144 --heads 16 --kv-heads 4)
  label="random HY-1.8B-shaped Llama 1.67B (dim 2048, 32 layers, ffn 6144, 16/4 heads)"
else
  name=llama125m shape=()
  label="random Llama 125M (dim 768, 12 layers, ffn 2048, 12/4 heads)"
fi
hf="$W/$name-hf" f16="$W/$name-f16.gguf"
if [ ! -f "$hf/model.safetensors" ]; then
  "$PY" "$here/make_bench_model.py" "$hf" --vocab-gguf "$DATA/vocab/ggml-vocab-llama-spm.gguf" "${shape[@]+"${shape[@]}"}"
fi
[ -f "$f16" ] || "$LOWBIT" import "$hf" -o "$f16" --type f16

# wall seconds and peak RSS (MB) of a command, from /usr/bin/time -v
timed() {   # timed OUTVAR_PREFIX cmd...
  local pfx=$1; shift
  /usr/bin/time -v -o "$W/time.txt" "$@" >"$W/cmd.out" 2>"$W/cmd.err" || { cat "$W/cmd.err" >&2; exit 1; }
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/{n = split($2, a, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + a[i]; printf "%.2f", s}' "$W/time.txt")
  rss=$(awk -F': ' '/Maximum resident/{printf "%.0f", $2/1024}' "$W/time.txt")
  printf -v "${pfx}_wall" "%s" "$wall"
  printf -v "${pfx}_rss" "%s" "$rss"
}

# --- quantize --------------------------------------------------------------------------------------
declare -A qwall qrss lqwall lqrss
for ty in q2_k tq1_0 tq2_0 q2_0c stq1_0; do
  timed q "$LOWBIT" quantize "$f16" "$W/$name-$ty.gguf" --type "$ty" -t "$T"
  qwall[$ty]=$q_wall qrss[$ty]=$q_rss
done
if [ $have_llama = 1 ]; then
  for ty in Q2_K TQ1_0; do
    timed lq "$LLAMA_BIN/llama-quantize" --pure --token-embedding-type q8_0 --output-tensor-type q8_0 \
      "$f16" "$W/$name-llamaq-$ty.gguf" "$ty" "$T"
    lqwall[$ty]=$lq_wall lqrss[$ty]=$lq_rss
  done
fi

# --- decode / prefill ------------------------------------------------------------------------------
prompt="the"
for ((i = 2; i < P; i++)); do prompt+=" the"; done
declare -A lpp ltg bpp btg
lowbit_speed() {   # prompt and decode tok/s of one `lowbit run`
  local line
  line=$("$LOWBIT" run "$1" -p "$prompt" -n "$N" --temp 0 -t "$T" 2>&1 >/dev/null | grep '^prompt:' || true)
  [ -n "$line" ] || { echo "bench: lowbit run printed no timing line for $1" >&2; exit 1; }
  echo "$(sed -E 's/.*\(([0-9.]+) tok\/s\);.*/\1/' <<<"$line") $(sed -E 's/.*decode ([0-9.]+) tok\/s.*/\1/' <<<"$line")"
}
llama_speed() {   # llama-bench's prompt and decode tok/s, one repetition
  "$LLAMA_BIN/llama-bench" -m "$1" -p "$P" -n "$N" -t "$T" -r 1 -o csv >"$W/llama-bench.csv" 2>"$W/llama-bench.err" \
    || { cat "$W/llama-bench.err" >&2; exit 1; }
  awk -v P="$P" -v N="$N" '
    NR == 1 { n = split($0, h, ","); for (i = 1; i <= n; i++) col[h[i]] = i; next }
    { split(substr($0, 2, length($0) - 2), f, "\",\"") }
    { if (f[col["n_prompt"]] == P && f[col["n_gen"]] == 0) pp = f[col["avg_ts"]];
      if (f[col["n_gen"]] == N && f[col["n_prompt"]] == 0) tg = f[col["avg_ts"]] }
    END { printf "%.1f %.1f\n", pp, tg }' "$W/llama-bench.csv"
}
add() { awk -v a="${1:-0}" -v b="$2" 'BEGIN{print a+b}'; }
# repetitions interleave the two runtimes, so a busy spell of the machine hits both alike
for ((r = 0; r < R; r++)); do
  for ty in q2_k tq1_0 tq2_0 q2_0c stq1_0; do
    read -r pp tg < <(lowbit_speed "$W/$name-$ty.gguf")
    lpp[$ty]=$(add "${lpp[$ty]:-0}" "$pp") ltg[$ty]=$(add "${ltg[$ty]:-0}" "$tg")
    if [ $have_llama = 1 ] && [[ $ty == q2_k || $ty == tq1_0 || $ty == tq2_0 ]]; then   # llama.cpp on the same files
      read -r pp tg < <(llama_speed "$W/$name-$ty.gguf")
      bpp[$ty]=$(add "${bpp[$ty]:-0}" "$pp") btg[$ty]=$(add "${btg[$ty]:-0}" "$tg")
    fi
  done
done
for ty in "${!lpp[@]}"; do
  lpp[$ty]=$(awk -v s="${lpp[$ty]}" -v r="$R" 'BEGIN{printf "%.1f", s/r}')
  ltg[$ty]=$(awk -v s="${ltg[$ty]}" -v r="$R" 'BEGIN{printf "%.1f", s/r}')
done
for ty in "${!bpp[@]}"; do
  bpp[$ty]=$(awk -v s="${bpp[$ty]}" -v r="$R" 'BEGIN{printf "%.1f", s/r}')
  btg[$ty]=$(awk -v s="${btg[$ty]}" -v r="$R" 'BEGIN{printf "%.1f", s/r}')
done

# --- report ----------------------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.2f", a/b; else printf "-" }'; }
row() { printf "%-44s %10s %10s %8s\n" "$1" "$2" "$3" "$(ratio "$2" "${3:-0}")"; }
echo
echo "$label, $T threads, prompt $P, generate $N, $R reps; token_embd/output q8_0 in every file"
echo "OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-(libgomp default)}; load: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
printf "%-44s %10s %10s %8s\n" "" "lowbit" "llama.cpp" "ratio"
row "decode tok/s: lowbit q2_0c vs llama.cpp Q2_K" "${ltg[q2_0c]}" "${btg[q2_k]:-}"
row "decode tok/s: lowbit stq1_0 vs llama.cpp TQ1_0" "${ltg[stq1_0]}" "${btg[tq1_0]:-}"
for ty in q2_k tq1_0 tq2_0; do row "decode tok/s: $ty, same file" "${ltg[$ty]}" "${btg[$ty]:-}"; done
row "prompt tok/s: lowbit q2_0c vs llama.cpp Q2_K" "${lpp[q2_0c]}" "${bpp[q2_k]:-}"
row "prompt tok/s: lowbit stq1_0 vs llama.cpp TQ1_0" "${lpp[stq1_0]}" "${bpp[tq1_0]:-}"
for ty in q2_k tq1_0 tq2_0; do row "prompt tok/s: $ty, same file" "${lpp[$ty]}" "${bpp[$ty]:-}"; done
row "quantize s: -> q2_k (llama-quantize Q2_K)" "${qwall[q2_k]}" "${lqwall[Q2_K]:-}"
row "quantize s: -> tq1_0 (llama-quantize TQ1_0)" "${qwall[tq1_0]}" "${lqwall[TQ1_0]:-}"
row "quantize peak RSS MB: q2_k" "${qrss[q2_k]}" "${lqrss[Q2_K]:-}"
row "quantize peak RSS MB: tq1_0" "${qrss[tq1_0]}" "${lqrss[TQ1_0]:-}"
for ty in tq2_0 q2_0c stq1_0; do
  printf "%-44s %10s %10s %8s\n" "quantize s / peak RSS MB: $ty" "${qwall[$ty]}/${qrss[$ty]}" "-" "-"
done
echo "(ratio = lowbit / llama.cpp: >1 is faster for tok/s; <1 is faster / smaller for quantize time and RSS)"
echo "(model f16: $(du -m "$f16" | cut -f1) MB; quantize goal: >= 2x faster, i.e. time ratio <= 0.5)"
