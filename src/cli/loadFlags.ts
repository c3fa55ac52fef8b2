/**
 * The memory and compute flags every model-loading command takes (generate, profile, perplexity,
 * serve, chat), as `loadModel()` options; each command adds its model, context size and cluster.
 */
import type { KvType } from "../api/options.js";

/** `--flash-attn` values, as llama.cpp's `-fa`: auto is on (every CPU runs it). */
export const FLASH_ATTN_CHOICES = ["on", "off", "auto"] as const;
export type FlashAttnChoice = (typeof FLASH_ATTN_CHOICES)[number];
/** The `--flash-attn` option's description, shared by every model-loading command. */
export const FLASH_ATTN_HELP = "flash attention with llama.cpp's numerics: on, off (the classic path) or auto (= on)";

export interface MemoryCliFlags {
  kvType: KvType;
  flashAttn: FlashAttnChoice;
  /** bytes */
  maxMemory?: number;
  prefetch?: number;
  keepPageCache: boolean;
  threads?: number;
  /** false with --no-repack */
  repack?: boolean;
}

/** The `--no-repack` option's description, shared by every model-loading command. */
export const NO_REPACK_HELP = "keep resident weights in the file's order (as llama.cpp's --no-repack; default: pack Q4_0/IQ4_NL/Q4_K for the matmul kernels, same results, faster decoding)";

export function memoryLoadOptions(flags: MemoryCliFlags) {
  return { kvType: flags.kvType, flashAttention: flags.flashAttn !== "off", maxMemory: flags.maxMemory, prefetch: flags.prefetch, keepPageCache: flags.keepPageCache, threads: flags.threads, repack: flags.repack };
}
