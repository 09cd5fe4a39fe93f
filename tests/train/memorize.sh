#!/bin/sh
# A tiny random-init llama memorizes a 99-token text: final training loss < 0.05.
# $1 = fp | seq2 (SEQ 2-bit QAT on every block linear, per-row learned scales) | seq2_amx
# (seq2 with every matmul on gemm_amx, coded weights included: LOWBIT_GEMM=amx; skips without AMX).
. "$(dirname "$0")/common.sh"
MODE="$1"
setup "memorize-$MODE"
if [ "$MODE" = seq2_amx ]; then
    grep -qw amx_bf16 /proc/cpuinfo 2>/dev/null || { echo "skip: this CPU has no AMX-BF16 (gemm_amx unused here)"; exit 77; }
    export LOWBIT_GEMM=amx
fi
cat > cfg.yaml <<YAML
model:
  random: {arch: llama, dim: 64, layers: 2, heads: 4, kv_heads: 2, ffn: 192}
data: {tokens: t.h5, seq_len: 98, batch: 1}     # the whole text as one window
optimizer: {lr: 0.003, scale_lr: 0.001, weight_decay: 0.0}
schedule: {kind: constant, warmup: 10, steps: 200}
log: {jsonl: log.jsonl}
seed: 7
threads: 1
YAML
if [ "$MODE" != fp ]; then
    printf 'qat:\n  attn: {quantizer: seq2, group: row}\n  ffn: {quantizer: seq2, group: row}\n' >> cfg.yaml
fi
"$LOWBIT" train cfg.yaml > out.log 2>&1 || fail "train: $(tail -3 out.log)"
grep -q '^memory: params' out.log || fail "no memory estimate printed"
if [ "$MODE" != fp ]; then grep -q '^qat: 14 linears quantized' out.log || fail "QAT not bound: $(cat out.log)"; fi
if [ "$MODE" = seq2_amx ]; then grep -q '^matmul: gemm_amx' out.log || fail "gemm_amx not in use: $(grep '^matmul' out.log)"; fi
[ "$(grep -c '"loss"' log.jsonl)" = 200 ] || fail "expected 200 JSONL records"
first=$(grep '"loss"' log.jsonl | head -1 | sed 's/.*"loss": \([^,]*\),.*/\1/')
last=$(last_loss log.jsonl)
echo "$MODE: loss $first -> $last"
awk -v a="$first" -v b="$last" 'BEGIN { exit !(a > 5.0 && b < 0.05) }' || fail "$MODE: loss $first -> $last (want > 5 -> < 0.05)"
