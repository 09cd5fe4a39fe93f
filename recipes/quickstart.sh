#!/usr/bin/env bash
# quickstart.sh: set up, build, and run lowbit's main job on the embedded default, small enough to
# finish in minutes on 2 cores:
#   1. import the real pretrained stories260K (llama2.c) to GGUF and generate from it;
#   2. recipes/ptq-vs-qat.sh -q: pretrain a small tok512 Llama teacher on kjv + tinyshakespeare +
#      jargon, quantize it with RTN and GPTQ to q2_0c/q2_k/stq1_0/tq1_0/tq2_0, run SEQ 2-bit and
#      Sherry 1.25-bit QAT with distillation from the teacher, export the QAT checkpoints
#      losslessly, and print the comparison table (perplexity, KL, top-1, size, speed).
# The full-size version: recipes/teacher.sh, then recipes/ptq-vs-qat.sh (docs/results.md).
#   LOWBIT_DATA   where shared/data lives (default: ../shared/data next to the checkout)
#   OUT           where artifacts go (default: runs/quick)
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${LOWBIT_DATA:-$(cd .. && pwd)/shared/data}"
OUT="${OUT:-runs/quick}"

for f in stories260K/stories260K.bin stories260K/tok512.bin text/kjv.txt text/tinyshakespeare.txt text/jargon.txt \
         text/wikitext2-valid.tokens.txt; do
  [ -f "$DATA/$f" ] || { echo "quickstart: missing $DATA/$f (see shared/data/SOURCES.md; set LOWBIT_DATA)" >&2; exit 1; }
done

bash .ci/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
mkdir -p "$OUT"

echo "== import llama2.c stories260K -> GGUF, generate (greedy, 60 tokens)"
./build/lowbit import "$DATA/stories260K/stories260K.bin" --tokenizer "$DATA/stories260K/tok512.bin" -o "$OUT/stories260K.gguf"
text=$(./build/lowbit run "$OUT/stories260K.gguf" -p "Once upon a time" -n 60 --temp 0 2>/dev/null)
printf 'Once upon a time%s\n\n' "$text"

echo "== PTQ vs QAT on a small teacher (recipes/ptq-vs-qat.sh -q)"
LOWBIT_DATA="$DATA" bash recipes/ptq-vs-qat.sh -q -o "$OUT"
