#!/bin/sh
# An export in an upstream type ($1 = q2_k | tq1_0 | tq2_0) loads in real llama.cpp
# (node-llama-cpp's prebuilt libllama, tests/peer/llama_perplexity.mjs) and its perplexity
# equals `lowbit perplexity`'s within 0.5%. q2_k from SEQ2 QAT (format q2_k, 256-weight scales),
# tq1_0 / tq2_0 from SEQ ternary QAT (format tq2_0). Skips without tests/peer/node_modules
# (fails under CI=true).
. "$(dirname "$0")/common.sh"
TYPE="$1"
PEER="$LOWBIT_SRC/tests/peer"
if [ ! -d "$PEER/node_modules/node-llama-cpp" ] || ! command -v node > /dev/null; then
    if [ "${CI:-}" = "true" ]; then fail "node or $PEER/node_modules missing (cd tests/peer && npm ci --omit=optional)"; fi
    echo "skip: node or $PEER/node_modules missing"; exit 77
fi
case "$TYPE" in
    q2_k)  QAT="$(qat_block seq2 q2_k 256)" ;;
    tq1_0|tq2_0) QAT="$(qat_block seq_ternary tq2_0)" ;;
    *) fail "unknown type $TYPE" ;;
esac
setup "peer-$TYPE"
train_ckpt ck "$QAT" 3
"$LOWBIT" export "$CKPT" -o m.gguf --type "$TYPE" > e.log 2>&1 || fail "export: $(cat e.log)"
"$CHECK" "$CKPT" m.gguf "$TYPE" > /dev/null || fail "export not exact"
"$LOWBIT" perplexity m.gguf --text text.txt --ctx 64 --chunks 4 -t 2 > lb.out 2> lb.err || fail "lowbit perplexity: $(cat lb.err)"
node "$PEER/llama_perplexity.mjs" m.gguf text.txt 64 4 2 > pe.out 2> pe.err || fail "llama.cpp: $(cat pe.out pe.err)"
p_lb=$(sed -n 's/^PPL = //p' lb.out | tail -1)
p_pe=$(sed -n 's/^PPL = //p' pe.out | tail -1)
[ -n "$p_lb" ] && [ -n "$p_pe" ] || fail "no PPL: lowbit '$p_lb' llama.cpp '$p_pe'"
echo "$TYPE: lowbit PPL $p_lb, llama.cpp PPL $p_pe"
awk -v a="$p_lb" -v b="$p_pe" 'BEGIN { d = a / b - 1; if (d < 0) d = -d; printf "relative difference %.5f%%\n", 100 * d; exit !(d <= 0.005) }' ||
    fail "$TYPE: perplexities differ by more than 0.5%"
