// llama_perplexity.mjs: llama-perplexity's protocol, run on real llama.cpp (node-llama-cpp's
// prebuilt v0.5.0 libllama, its own tokenizer), to compare against `lowbit perplexity`.
//
//   node llama_perplexity.mjs MODEL.gguf TEXT_FILE CTX CHUNKS [THREADS]
//
// Protocol (tools/perplexity/perplexity.cpp, default ppl_stride 0):
//  - the file's text with one trailing '\n' dropped (as `-f` does), tokenized with special
//    handling on: BOS first when the vocab says add_bos, special-token text NOT parsed;
//  - at least 2*CTX tokens; n_chunk = min(CHUNKS, n_tokens / CTX), CHUNKS <= 0 means all;
//  - chunk c = tokens[c*CTX, (c+1)*CTX), its first token replaced by BOS when add_bos, evaluated
//    from position 0 with a clear KV cache;
//  - only the second half is scored: logits at positions first = CTX/2 .. CTX-2 predict the
//    next token; NLL = -log_softmax (max-shifted, summed in double); PPL = exp(sum NLL / count).
// Prints "tokens = N", "chunks = K", and last "PPL = <value>".
import fs from "node:fs";
import { loadPeer, createF32Context, evalLogits, die } from "./peer_util.mjs";

function logSoftmaxAt(row, tok) {
    let max = row[0];
    for (let i = 1; i < row.length; i++) if (row[i] > max) max = row[i];
    let sum = 0;
    for (let i = 0; i < row.length; i++) sum += Math.exp(row[i] - max);
    return row[tok] - max - Math.log(sum);
}

async function main() {
    const [modelPath, textPath, ctxArg, chunksArg, threadsArg] = process.argv.slice(2);
    if (!modelPath || !textPath || !ctxArg || chunksArg === undefined) {
        console.error("usage: node llama_perplexity.mjs MODEL.gguf TEXT_FILE CTX CHUNKS [THREADS]");
        process.exit(2);
    }
    const nCtx = Number(ctxArg), chunks = Number(chunksArg);
    const threads = threadsArg ? Number(threadsArg) : 2;
    if (!(nCtx >= 4) || !Number.isInteger(nCtx)) throw new Error(`bad CTX ${ctxArg}`);

    let text = fs.readFileSync(textPath, "utf8");
    if (text.endsWith("\n")) text = text.slice(0, -1);

    const { llama, model, nVocab } = await loadPeer(modelPath);
    const addBos = model.tokens.shouldPrependBosToken;
    if (typeof addBos !== "boolean") throw new Error("node-llama-cpp: no tokens.shouldPrependBosToken");
    const tokens = model.tokenize(text, false);
    if (addBos) tokens.unshift(model.tokens.bos);
    console.log(`tokens = ${tokens.length}`);
    if (tokens.length < 2 * nCtx)
        throw new Error(`${textPath}: ${tokens.length} tokens, need at least ${2 * nCtx} for ctx ${nCtx}`);

    const maxChunks = Math.floor(tokens.length / nCtx);
    const nChunk = chunks > 0 ? Math.min(chunks, maxChunks) : maxChunks;
    const first = Math.floor(nCtx / 2);

    const context = await createF32Context(model, nCtx, threads);
    const seq = context.getSequence();
    let nll = 0, count = 0;
    for (let c = 0; c < nChunk; c++) {
        const chunk = tokens.slice(c * nCtx, (c + 1) * nCtx);
        if (addBos) chunk[0] = model.tokens.bos;
        await seq.clearHistory();
        const rows = await evalLogits(seq, chunk, nVocab, (i) => i >= first && i < nCtx - 1);
        for (let i = first; i < nCtx - 1; i++) {
            nll -= logSoftmaxAt(rows[i], chunk[i + 1]);
            count++;
        }
    }
    console.log(`chunks = ${nChunk}`);
    console.log(`PPL = ${Math.exp(nll / count).toPrecision(10)}`);

    await context.dispose();
    await model.dispose();
    await llama.dispose();
}

main().catch((err) => die("llama_perplexity", err));
