// peer_util.mjs: shared helpers for the node-llama-cpp peer scripts.
import fs from "node:fs";
import { getLlama } from "node-llama-cpp";

// token ids separated by commas and/or whitespace
export function readTokens(file) {
    const parts = fs.readFileSync(file, "utf8").split(/[\s,]+/).filter((s) => s.length > 0);
    const tokens = parts.map((s) => {
        if (!/^\d+$/.test(s)) throw new Error(`${file}: bad token id "${s}"`);
        return Number(s);
    });
    if (tokens.length === 0) throw new Error(`${file}: no tokens`);
    return tokens;
}

// temp + rename: a crashed run never leaves a half-written output behind
export function writeAtomic(path, buf) {
    const tmp = `${path}.tmp${process.pid}`;
    fs.writeFileSync(tmp, buf);
    fs.renameSync(tmp, path);
}

// CPU-only llama.cpp from the prebuilt binaries (never compiles), quiet unless something fails
export async function loadPeer(modelPath) {
    const llama = await getLlama({ gpu: false, build: "never", logLevel: "error" });
    const model = await llama.loadModel({ modelPath, gpuLayers: 0 });
    const nVocab = model.fileInfo.metadata?.tokenizer?.ggml?.tokens?.length;
    if (!nVocab) throw new Error(`${modelPath}: no tokenizer.ggml.tokens`);
    return { llama, model, nVocab };
}

// A context whose arithmetic is as close to plain f32 as llama.cpp allows: F32 KV cache (the
// default F16 cache rounds K and V), no flash attention, one batch for the whole sequence.
// Room for one token more than we evaluate: when a sequence fills its context exactly,
// node-llama-cpp shifts the context (drops the oldest tokens) before the last token, which
// silently changes that token's logits.
export async function createF32Context(model, nTokens, threads) {
    const context = await model.createContext({
        contextSize: Math.max(nTokens + 16, 32),
        batchSize: Math.max(nTokens, 32),
        sequences: 1,
        flashAttention: false,
        threads,
        experimentalKvCacheKeyType: "F32",
        experimentalKvCacheValueType: "F32",
    });
    if (context.contextSize <= nTokens)
        throw new Error(`context size ${context.contextSize} <= ${nTokens} tokens (model context_length too small?)`);
    return context;
}

// Evaluate tokens at positions 0.. of a (cleared) sequence; returns the raw logits rows for the
// positions where want(i) is true, as Float32Array(n_vocab) (undefined elsewhere).
export async function evalLogits(seq, tokens, nVocab, want = () => true) {
    const results = await seq.controlledEvaluate(
        tokens.map((t, i) => (want(i) ? [t, { generateNext: { logits: true } }] : t)));
    const rows = new Array(tokens.length);
    for (let i = 0; i < tokens.length; i++) {
        if (!want(i)) continue;
        const logits = results[i]?.next?.logits;
        if (!logits) throw new Error(`no logits returned for position ${i}`);
        if (logits.size !== nVocab) throw new Error(`position ${i}: ${logits.size} logits, expected ${nVocab}`);
        const row = new Float32Array(nVocab);
        for (const [tok, v] of logits) row[tok] = v;
        rows[i] = row;
    }
    return rows;
}

export function die(prog, err) {
    console.error(`${prog}: ${err?.message ?? err}`);
    process.exit(1);
}
