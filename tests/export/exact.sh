#!/bin/sh
# Export is bit-exact for every representable (quantizer, type) pair. $1 = case:
#   seq2        (format q2_0c, per-row scales)  -> q2_0c, q2_k
#   seq2_g256   (format q2_k, 256-weight scales) -> q2_k
#   seq_ternary (format tq2_0)                  -> tq1_0, tq2_0
#   absmean     (format tq1_0)                  -> tq1_0, tq2_0
#   sherry      (format stq1_0)                 -> stq1_0, tq1_0, tq2_0
# Each export is read back and checked by test_export_check (GGUF -> to_float vs lb_fq_forward on
# the checkpoint's raw weights and scales), not by export's own comparison.
. "$(dirname "$0")/common.sh"
CASE="$1"
case "$CASE" in
    seq2)        Q=seq2;        FMT=q2_0c;  GROUP=row; TYPES="q2_0c q2_k" ;;
    seq2_g256)   Q=seq2;        FMT=q2_k;   GROUP=256; TYPES="q2_k" ;;
    seq_ternary) Q=seq_ternary; FMT=tq2_0;  GROUP=row; TYPES="tq1_0 tq2_0" ;;
    absmean)     Q=absmean;     FMT=tq1_0;  GROUP=row; TYPES="tq1_0 tq2_0" ;;
    sherry)      Q=sherry;      FMT=stq1_0; GROUP=row; TYPES="stq1_0 tq1_0 tq2_0" ;;
    *) fail "unknown case $CASE" ;;
esac
setup "exact-$CASE"
train_ckpt ck "$(qat_block $Q $FMT $GROUP)" 2
for T in $TYPES; do
    "$LOWBIT" export "$CKPT" -o "$T.gguf" --type "$T" > "export-$T.log" 2>&1 || fail "export $T: $(cat "export-$T.log")"
    grep -q "linears: 7 packed exactly in" "export-$T.log" || fail "$T: summary: $(cat "export-$T.log")"
    grep -q "embeddings: token_embd/output in q8_0" "export-$T.log" || fail "$T: no embeddings line"
    "$CHECK" "$CKPT" "$T.gguf" "$T" || fail "$Q -> $T is not bit-exact"
done
echo "$CASE: exact in $TYPES"
