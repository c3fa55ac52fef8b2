/** Writes one benchmark's section into docs/BENCHMARKS.md, replacing its previous run. */
import fs from "node:fs";
import path from "node:path";

const FILE = path.resolve(import.meta.dirname, "../../docs/BENCHMARKS.md");
const HEADER = `# Benchmarks

Each section is written by its benchmark script (\`npm run bench…\`) and replaced on the next
run: the command, the machine, the date and the numbers. These machines are noisy (±25%
between processes); compare ratios measured in the same run.
`;

export function writeSection(name: string, markdown: string): string {
  const begin = `<!-- bench:${name} -->`;
  const end = `<!-- /bench:${name} -->`;
  const current = fs.existsSync(FILE) ? fs.readFileSync(FILE, "utf8") : HEADER;
  const block = `${begin}\n${markdown.trim()}\n${end}`;
  const at = current.indexOf(begin);
  const next = at >= 0 ? current.slice(0, at) + block + current.slice(current.indexOf(end) + end.length) : `${current.trimEnd()}\n\n${block}\n`;
  fs.writeFileSync(FILE, next);
  return FILE;
}
