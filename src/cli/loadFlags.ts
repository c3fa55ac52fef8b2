/**
 * The memory and compute flags every model-loading command takes (generate, profile, perplexity,
 * serve, chat), as `loadModel()` options; each command adds its model, context size and cluster.
 */
import type { KvType } from "../api/options.js";

export interface MemoryCliFlags {
  kvType: KvType;
  /** bytes */
  maxMemory?: number;
  prefetch?: number;
  keepPageCache: boolean;
  threads?: number;
}

export function memoryLoadOptions(flags: MemoryCliFlags) {
  return { kvType: flags.kvType, maxMemory: flags.maxMemory, prefetch: flags.prefetch, keepPageCache: flags.keepPageCache, threads: flags.threads };
}
