// llama_logits.mjs: raw logits from real llama.cpp (node-llama-cpp's prebuilt v0.5.0 libllama)
// for a fixed token sequence, to compare against `lowbit logits`.
//
//   node llama_logits.mjs MODEL.gguf TOKENS_FILE OUT.bin [THREADS]
//
// TOKENS_FILE: token ids separated by commas/whitespace, used exactly as given (no BOS added,
// positions 0..n-1). OUT.bin: n_tokens x n_vocab float32 little-endian, row i = logits after
// token i (the same layout `lowbit logits` writes).
import { readTokens, writeAtomic, loadPeer, createF32Context, evalLogits, die } from "./peer_util.mjs";

async function main() {
    const [modelPath, tokensPath, outPath, threadsArg] = process.argv.slice(2);
    if (!modelPath || !tokensPath || !outPath) {
        console.error("usage: node llama_logits.mjs MODEL.gguf TOKENS_FILE OUT.bin [THREADS]");
        process.exit(2);
    }
    const threads = threadsArg ? Number(threadsArg) : 2;
    const tokens = readTokens(tokensPath);

    const { llama, model, nVocab } = await loadPeer(modelPath);
    for (const t of tokens)
        if (t >= nVocab) throw new Error(`${tokensPath}: token ${t} >= n_vocab ${nVocab}`);

    const context = await createF32Context(model, tokens.length, threads);
    const rows = await evalLogits(context.getSequence(), tokens, nVocab);

    const out = new Float32Array(tokens.length * nVocab);
    rows.forEach((row, i) => out.set(row, i * nVocab));
    writeAtomic(outPath, Buffer.from(out.buffer));
    console.log(`llama_logits: ${tokens.length} tokens x ${nVocab} vocab -> ${outPath}`);

    await context.dispose();
    await model.dispose();
    await llama.dispose();
}

main().catch((err) => die("llama_logits", err));
