/**
 * Conformance with llama.cpp's own tokenizer test suite (tests/test-tokenizer-0.cpp): every
 * models/ggml-vocab-*.gguf of node-llama-cpp's llama.cpp bundle that has .inp/.out test vectors
 * (extracted by test/helpers/llamaCppSource.ts) is loaded with loadTokenizer, and every input
 * must give exactly the expected token ids, tokenized as that test does: add_special = false,
 * parse_special = false.
 *
 * test-tokenizer-0 only prints the detokenized text, it does not compare it with the input (many
 * vocabularies cannot round-trip: BERT lowercases, byte-less vocabularies lose characters), so
 * neither does this test.
 */
import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { parseGguf } from "../../../src/engine/gguf/reader.js";
import { loadTokenizer } from "../../../src/engine/tokenizer/index.js";
import { llamaCppVocabFixtures, type LlamaCppVocabFixture } from "../../helpers/llamaCppSource.js";

/** Every vocabulary of the bundle with test vectors: a new one in a newer bundle fails until listed here. */
const EXPECTED_VOCABULARIES = [
  "bert-bge",
  "command-r",
  "deepseek-coder",
  "deepseek-llm",
  "falcon",
  "gemma-4",
  "gpt-2",
  "llama-bpe",
  "llama-spm",
  "mpt",
  "phi-3",
  "qwen2",
  "qwen35",
  "refact",
  "starcoder",
];

/** test-tokenizer-0's separator between two inputs of a .inp file */
const INPUT_SEPARATOR = "\n__ggml_vocab_test__\n";

/**
 * The cases of a vocabulary as test-tokenizer-0 `read_tests` reads them: inputs split on the
 * separator, one line of space-separated ids per input; keyed by input (a repeated input keeps
 * its last expected ids, like its std::map).
 */
function readCases(fixture: LlamaCppVocabFixture): Map<string, number[]> {
  const inputs = fs.readFileSync(fixture.inpPath, "utf8").split(INPUT_SEPARATOR);
  if (inputs.at(-1) === "") inputs.pop(); // read_tests stops at the end of the text: no input after a final separator
  const lines = fs.readFileSync(fixture.outPath, "utf8").split("\n");
  if (lines.at(-1) === "") lines.pop(); // std::getline yields no line after the final newline
  if (inputs.length !== lines.length) {
    throw new Error(`${fixture.name}: ${inputs.length} inputs but ${lines.length} lines of expected ids`);
  }
  const cases = new Map<string, number[]>();
  inputs.forEach((input, i) => {
    const ids = lines[i].trim();
    cases.set(input, ids === "" ? [] : ids.split(" ").map(Number));
  });
  return cases;
}

const fixtures = llamaCppVocabFixtures();

it("lists every vocabulary of the bundle that has test vectors", () => {
  expect(fixtures.map((fixture) => fixture.name)).toEqual(EXPECTED_VOCABULARIES);
});

describe.each(fixtures.map((fixture) => [fixture.name, fixture] as const))("ggml-vocab-%s.gguf", (_name, fixture) => {
  const cases = [...readCases(fixture)];
  let tokenizer: ReturnType<typeof loadTokenizer> | undefined;
  const load = () => (tokenizer ??= loadTokenizer(parseGguf(fs.readFileSync(fixture.ggufPath))));

  it("has test vectors", () => {
    expect(cases.length).toBeGreaterThan(0);
  });

  it.each(cases.map(([input, ids], i) => [i, JSON.stringify(input).slice(0, 60), input, ids] as const))(
    "case %i: %s",
    (_i, _label, input, ids) => {
      expect(load().encode(input, { addSpecial: false, parseSpecial: false })).toEqual(ids);
    },
  );
});
