import fs from "node:fs";
import path from "node:path";

/** The built-in models that ship with layerstream (vitest runs with cwd = repo root). */
export const BUILTIN_MODELS_DIR = path.resolve(process.cwd(), "models");
/** The test suite's other encodings of the 656K model (not shipped). */
export const FIXTURE_MODELS_DIR = path.resolve(process.cwd(), "test/fixtures/models");

/**
 * Full path of a real model file by name, from models/ or test/fixtures/models/. A missing file
 * throws (the test fails, never skips): every model the suite reads is in the repository.
 */
export function modelFile(name: string): string {
  for (const dir of [BUILTIN_MODELS_DIR, FIXTURE_MODELS_DIR]) {
    const candidate = path.join(dir, name);
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new Error(`test model ${name} is missing from ${BUILTIN_MODELS_DIR} and ${FIXTURE_MODELS_DIR}`);
}

/** Every real GGUF file the repository holds, by file name. */
export function realModelNames(): string[] {
  return [BUILTIN_MODELS_DIR, FIXTURE_MODELS_DIR].flatMap((dir) => fs.readdirSync(dir).filter((name) => name.endsWith(".gguf")));
}
