// llama_tokenize.mjs MODEL.gguf TEXT OUT: llama.cpp's own tokenization of TEXT (node-llama-cpp,
// prebuilt libllama; no BOS, no special-token parsing) written as ids one per line to OUT.
// The reference for `lowbit tokenize` in tests/train_data.cmake. node-llama-cpp is resolved
// from tests/peer/node_modules (installed by `cd tests/peer && npm ci`).
import fs from "node:fs";
import path from "node:path";
import url from "node:url";

const [modelPath, textPath, outPath] = process.argv.slice(2);
if (!outPath) {
    console.error("usage: node llama_tokenize.mjs MODEL.gguf TEXT OUT");
    process.exit(2);
}
const here = path.dirname(url.fileURLToPath(import.meta.url));
const entry = path.join(here, "..", "peer", "node_modules", "node-llama-cpp", "dist", "index.js");
if (!fs.existsSync(entry)) {
    console.error(`skip: ${entry} missing (cd tests/peer && npm ci)`);
    process.exit(process.env.CI === "true" ? 1 : 77);
}
const { getLlama } = await import(url.pathToFileURL(entry).href);
const llama = await getLlama({ gpu: false, build: "never", logLevel: "error" });
const model = await llama.loadModel({ modelPath, gpuLayers: 0 });
const text = fs.readFileSync(textPath, "utf8");
const ids = Array.from(model.tokenize(text, false));
const tmp = `${outPath}.tmp${process.pid}`;
fs.writeFileSync(tmp, ids.join("\n") + "\n");
fs.renameSync(tmp, outPath);
console.log(`${textPath}: ${ids.length} tokens (llama.cpp)`);
await model.dispose();
await llama.dispose();
