/**
 * Child process of `npm run bench:headline`: llama.cpp (node-llama-cpp, CPU, mmap as it loads by
 * default) on one GGUF file — the prompt, then N greedy tokens. One JSON line per event on
 * stdout, so the parent can show progress and stop it at a deadline:
 *   {"event":"loaded","seconds":…} {"event":"token","index":i,"seconds":…,"readBytes":…} {"event":"done","peakRssBytes":…}
 * readBytes: this process's storage reads so far (/proc/self/io read_bytes: page faults on the
 * mapping included).
 *
 *   tsx scripts/bench/headlineLlamaCpp.ts MODEL TOKENS THREADS PROMPT
 */
import fs from "node:fs";

const [modelPath, tokensArg, threadsArg, prompt] = process.argv.slice(2);
const emit = (value: object) => process.stdout.write(`${JSON.stringify(value)}\n`);

function readBytes(): number {
  try {
    const match = /^read_bytes: (\d+)$/m.exec(fs.readFileSync("/proc/self/io", "utf8"));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

const { getLlama, LlamaLogLevel } = await import("node-llama-cpp");
const started = performance.now();
const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
const model = await llama.loadModel({ modelPath, useMmap: true, lazyMode: process.env.LAYERSTREAM_LLAMA_LAZY === "1" });
const context = await model.createContext({ contextSize: 64, threads: Number(threadsArg), flashAttention: false, batchSize: 64 });
emit({ event: "loaded", seconds: (performance.now() - started) / 1000, readBytes: readBytes() });
const sequence = context.getSequence();
const tokens = model.tokenize(prompt, false);
let index = 0;
let last = performance.now();
for await (const _token of sequence.evaluate([model.tokens.bos!, ...tokens] as never[], { temperature: 0 })) {
  const now = performance.now();
  emit({ event: "token", index, seconds: (now - last) / 1000, readBytes: readBytes() });
  last = now;
  if (++index >= Number(tokensArg)) break;
}
emit({ event: "done", peakRssBytes: process.resourceUsage().maxRSS * 1024, promptTokens: tokens.length + 1 });
await context.dispose();
await model.dispose();
await llama.dispose();
