import { Command } from "commander";
import { removeCachedModel } from "../../store/cache.js";
import { formatBytes } from "../../engine/streaming/byteSize.js";
import type { CliIo } from "../io.js";

/** `layerstream rm NAME`: deletes a cached model (and an interrupted download of it). */
export function rmCommand(io: CliIo): Command {
  return new Command("rm")
    .description("remove a model from the model cache (built-in models cannot be removed)")
    .argument("<name>", "the cached file's name, with or without .gguf (see `layerstream models`)")
    .action((name: string) => {
      const removed = removeCachedModel(name);
      io.writeOut(`removed ${removed.name} (${formatBytes(removed.nBytes)}) from ${removed.dir}\n`);
    });
}
