#!/usr/bin/env bash
# bench_workstation.sh: what QAT of a real 0.6B-1.8B checkpoint costs on this machine: the
# trainer's memory estimate, measured peak RSS, and seconds per step -> hours per million
# training tokens. A benchmark, not a test; its figures go into docs/workstation.md.
# The models are random-init in the exact shapes of the real checkpoints (the step cost does not
# depend on the weights' values), with the real tokenizer's vocabulary size (qwen2/qwen3's
# 151936 tokens from ../shared/data/vocab/ggml-vocab-qwen2.gguf).
#
#   tests/bench/bench_workstation.sh [-t THREADS] [-n STEPS] [-s SEQ] [-b BATCH] [SHAPE...]
#   defaults: -t 2 -n 3 (the first step is not timed) -s 512 -b 1; SHAPE: qwen3-0.6b (default),
#   qwen3-1.7b, hunyuan-1.8b (the latter two need ~30 GB: more than this 24 GB machine has)
# env: LOWBIT (default build/lowbit), LOWBIT_DATA (default ../shared/data)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
src="$(cd "$here/../.." && pwd)"
T=2 N=3 S=512 B=1
while getopts "t:n:s:b:h" o; do
  case $o in t) T=$OPTARG ;; n) N=$OPTARG ;; s) S=$OPTARG ;; b) B=$OPTARG ;; *) sed -n '2,13p' "$0"; exit 2 ;; esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || set -- qwen3-0.6b
LOWBIT="${LOWBIT:-$src/build/lowbit}"
DATA="${LOWBIT_DATA:-$(cd "$src/.." && pwd)/shared/data}"
[ -x "$LOWBIT" ] || { echo "bench_workstation: no lowbit at $LOWBIT" >&2; exit 1; }
[ "$N" -ge 2 ] || { echo "bench_workstation: -n must be at least 2" >&2; exit 2; }
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
work="$(mktemp -d "${TMPDIR:-/tmp}/bench_ws.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cd "$work"
"$LOWBIT" tokenize --vocab "$DATA/vocab/ggml-vocab-qwen2.gguf" "$DATA/text/tinyshakespeare.txt" -o tokens.h5 -q

shape() {   # the random: mapping of each real checkpoint (their config.json values)
  case $1 in
    qwen3-0.6b) echo "{arch: qwen3, dim: 1024, layers: 28, heads: 16, kv_heads: 8, head_dim: 128, ffn: 3072, vocab: 151936, tied: true, rope_base: 1000000.0, norm_eps: 1.0e-6}" ;;
    qwen3-1.7b) echo "{arch: qwen3, dim: 2048, layers: 28, heads: 16, kv_heads: 8, head_dim: 128, ffn: 6144, vocab: 151936, tied: true, rope_base: 1000000.0, norm_eps: 1.0e-6}" ;;
    hunyuan-1.8b) echo "{arch: hunyuan-dense, dim: 2048, layers: 32, heads: 16, kv_heads: 4, head_dim: 128, ffn: 6144, vocab: 151936, tied: true}" ;;
    *) echo "bench_workstation: unknown shape $1" >&2; exit 2 ;;
  esac
}
echo "threads $T, batch $B x seq $S, $N steps (first untimed), SEQ 2-bit QAT (format q2_0c) on every block linear"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for sh in "$@"; do
  cat >"$sh.yaml" <<EOF
model: {random: $(shape "$sh")}
data: {tokens: tokens.h5, seq_len: $S, batch: $B}
optimizer: {lr: 1.0e-5, weight_decay: 0.0}
schedule: {kind: constant, steps: $N}
qat:
  attn: {quantizer: seq2, group: row, format: q2_0c}
  ffn: {quantizer: seq2, group: row, format: q2_0c}
log: {jsonl: $sh.jsonl, every: 1}
eval: {every: 0}
seed: 1
threads: $T
EOF
  echo
  echo "== $sh"
  if /usr/bin/time -f "%M" -o "$sh.rss" "$LOWBIT" train "$sh.yaml" >"$sh.out" 2>&1; then
    grep -E "^(model|memory):" "$sh.out"
    awk -F'"elapsed": ' -v tok="$((B * S))" -v rss="$(tail -n 1 "$sh.rss")" '/"elapsed"/ { split($2, a, /[,}]/); e[++n] = a[1] }
      END { s = (e[n] - e[1]) / (n - 1); printf "step %.1f s (%d tokens): %.0f tok/s, %.1f h per million tokens; peak RSS %.2f GB\n", s, tok, tok / s, 1e6 / (tok / s) / 3600, rss / 1048576 }' "$sh.jsonl"
  else
    grep -E "^(model|memory):" "$sh.out" || true
    echo "failed: $(tail -n 1 "$sh.out")"
  fi
done
