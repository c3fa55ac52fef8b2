import { randomInt } from "node:crypto";

/**
 * A fresh seed for `createRng` when the user gave none (the CLI reports it so the run
 * can be repeated). Never returns 0xFFFFFFFF, which llama.cpp reserves for "random seed".
 */
export function randomSeed(): number {
  return randomInt(0, 0xffffffff);
}
