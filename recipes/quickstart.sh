#!/usr/bin/env bash
# quickstart.sh: set up, build, and run lowbit's main job on the embedded default model:
# the real pretrained stories260K (llama2.c) from ../shared/data is imported to GGUF, generates
# text, and its perplexity is measured on held-out text.
#   LOWBIT_DATA   where shared/data lives (default: ../shared/data next to the checkout)
#   OUT           where artifacts go (default: ./out)
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${LOWBIT_DATA:-$(cd .. && pwd)/shared/data}"
OUT="${OUT:-out}"

for f in stories260K/stories260K.bin stories260K/tok512.bin text/tinyshakespeare.txt; do
  [ -f "$DATA/$f" ] || { echo "quickstart: missing $DATA/$f (see shared/data/SOURCES.md; set LOWBIT_DATA)" >&2; exit 1; }
done

bash .ci/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
mkdir -p "$OUT"

echo "== import llama2.c checkpoint -> GGUF"
./build/lowbit import "$DATA/stories260K/stories260K.bin" --tokenizer "$DATA/stories260K/tok512.bin" -o "$OUT/stories260K.gguf"
./build/lowbit inspect "$OUT/stories260K.gguf" | head -n 12
echo "== generate (greedy, 120 tokens)"
text=$(./build/lowbit run "$OUT/stories260K.gguf" -p "Once upon a time" -n 120 --temp 0 2>"$OUT/run.log")
printf 'Once upon a time%s\n' "$text"
cat "$OUT/run.log"
echo "== perplexity (ctx 256, 8 chunks of tinyshakespeare)"
./build/lowbit perplexity "$OUT/stories260K.gguf" --text "$DATA/text/tinyshakespeare.txt" --ctx 256 --chunks 8 | tail -n 1
