import path from "node:path";

/** /work/shared/models, read-only real model files (vitest runs with cwd = repo root). */
export const SHARED_MODELS_DIR = path.resolve(process.cwd(), "../shared/models");
