/**
 * npm run bench:perplexity -- [--model FILE] [--ctx-size N] [--stories N]
 *
 * What the wire encoding costs in perplexity (results in docs/BENCHMARKS.md, section
 * `perplexity`): llama-perplexity's measurement (`model.perplexity()`) of one fixed text in
 * this process, then over 2 local workers with `--wire f32`, `f16` and `q8_0`. The text is
 * deterministic and needs no download: N stories the model itself tells after "Once upon a
 * time" (sampled with seeds 1…N, llama.cpp's default sampler settings), joined by newlines.
 */
import { parseArgs } from "node:util";
import { loadModel, type LoadModelOptions, type PerplexityResult, type WireName } from "../../src/index.js";
import { formatFinalEstimate } from "../../src/api/perplexityMath.js";
import { describeMachine, machineFacts } from "./machine.js";
import { writeSection } from "./report.js";

const { values } = parseArgs({
  options: {
    model: { type: "string" },
    "ctx-size": { type: "string", default: "256" },
    stories: { type: "string", default: "20" },
  },
});
const log = (line: string) => process.stderr.write(`bench:perplexity: ${line}\n`);
const contextSize = Number(values["ctx-size"]);
const nStories = Number(values.stories);
const WIRES: readonly WireName[] = ["f32", "f16", "q8_0"];

interface Row {
  engine: string;
  result: PerplexityResult;
  wireBytesPerToken?: number;
}

/** The fixed text: the model's own stories, seeds 1…n. */
async function storyText(): Promise<string> {
  await using model = await loadModel({ model: values.model, contextSize: 512 });
  const stories: string[] = [];
  for (let seed = 1; seed <= nStories; seed++) stories.push("Once upon a time" + (await model.complete("Once upon a time", { maxTokens: 400, seed })));
  return stories.join("\n");
}

async function measure(engine: string, text: string, options: LoadModelOptions): Promise<Row> {
  await using model = await loadModel({ model: values.model, contextSize, ...options });
  const result = await model.perplexity(text, { contextSize });
  const cluster = (await model.stats()).cluster;
  log(`${engine}: ${formatFinalEstimate(result.perplexity, result.standardError)} (${result.tokensPerSecond.toFixed(0)} tok/s)`);
  return { engine, result, wireBytesPerToken: cluster?.wireBytesPerToken };
}

function table(rows: readonly Row[]): string {
  const base = rows[0].result.perplexity;
  const lines = [
    "| engine | PPL | ± (standard error) | vs in RAM | difference ÷ standard error | tok/s | wire bytes/token |",
    "|---|---:|---:|---:|---:|---:|---:|",
  ];
  for (const { engine, result, wireBytesPerToken } of rows) {
    const diff = result.perplexity - base;
    const cost = diff === 0 ? "identical" : `${diff > 0 ? "+" : ""}${diff.toFixed(4)} (${((100 * diff) / base).toFixed(3)}%)`;
    const sigmas = diff === 0 ? "0" : (diff / result.standardError).toFixed(4);
    lines.push(`| ${engine} | ${result.perplexity.toFixed(4)} | ${result.standardError.toFixed(5)} | ${cost} | ${sigmas} | ${result.tokensPerSecond.toFixed(0)} | ${wireBytesPerToken === undefined ? "–" : `${wireBytesPerToken.toFixed(0)} B`} |`);
  }
  return lines.join("\n");
}

const machine = await machineFacts();
const text = await storyText();
const rows: Row[] = [await measure("in RAM", text, {})];
for (const wire of WIRES) rows.push(await measure(`2 workers, --wire ${wire}`, text, { workers: 2, wire }));
const { result } = rows[0];
const shift = (wire: WireName): string => {
  const { perplexity } = rows.find((r) => r.engine.endsWith(`--wire ${wire}`))!.result;
  return `${wire} by ${((100 * (perplexity - result.perplexity)) / result.perplexity).toFixed(3)}% (${Math.abs((perplexity - result.perplexity) / result.standardError).toFixed(3)} standard errors of the measurement itself)`;
};
const section = `
## Perplexity and the wire (\`npm run bench:perplexity\`)

- command: \`npm run bench:perplexity${process.argv.length > 2 ? " -- " + process.argv.slice(2).join(" ") : ""}\`
- date: ${new Date().toISOString()}
- machine: ${describeMachine(machine)}
- model: ${values.model ? `\`${values.model}\`` : "the built-in TinyStories-656K (Q8_0)"}
- text: ${nStories} stories the model tells after "Once upon a time" (seeds 1…${nStories}, default sampler), ${text.length} characters, ${result.textTokens} tokens with BOS
- method: llama-perplexity's (\`layerstream perplexity -c ${contextSize}\`): ${result.chunks} chunks of ${contextSize} tokens, each from an empty KV cache with BOS first, the second half scored (${result.scoredTokens} positions); \`test/api/perplexity.test.ts\` checks the in-RAM number against llama.cpp's on the same tokens
- workers are local processes (\`--spawn-workers 2\`, ZeroMQ over loopback TCP, CurveZMQ); the head runs at the root, so the wire carries every row's hidden state into and out of the workers

${table(rows)}

The wire's cost in perplexity: f32 is lossless (the same number as in RAM); the lossy encodings move PPL, ${shift("f16")}, ${shift("q8_0")}. Both are far inside the measurement's own uncertainty, and one text does not rank f16 against q8_0: the size and sign of each shift change from text to text (on the ~960-token text of \`test/api/perplexity.test.ts\` q8_0 moves it more than f16).
`;
log(`wrote ${writeSection("perplexity", section)}`);
