/**
 * `layerstream verify MODEL`: the model file's full sha256, computed once and cached by
 * (device, inode, size, mtime), so that workers and the root compare full hashes instead of the
 * sampled fingerprint; a file pulled with a known sha256 is also checked against it.
 */
import { Command } from "commander";
import { describeVerified, verifyModelFile } from "../../api/verifyModelFile.js";
import { formatBytes } from "../../engine/streaming/byteSize.js";
import { resolveModel } from "../../store/resolveModel.js";
import type { CliIo } from "../io.js";

export function verifyCommand(io: CliIo): Command {
  return new Command("verify")
    .description("compute a model file's full sha256 once and cache it: workers and the root then compare full hashes (see --verify full)")
    .argument("<model>", "a GGUF file path, a cached or built-in model's name, or a source (pulled first if not cached)")
    .option("--json", "print {path, sha256, cached, recordedSha256} as one JSON object", false)
    .action(async (spec: string, flags: { json: boolean }) => {
      const { path } = await resolveModel(spec, { signal: io.signal, log: (line) => io.progress(line) });
      let lastTenth = 0;
      const verified = await verifyModelFile(path, {
        signal: io.signal,
        onProgress: (done, total) => {
          const tenth = Math.floor((10 * done) / Math.max(1, total));
          if (tenth > lastTenth && total > 256 << 20) io.progress(`hashing ${path}: ${tenth * 10}% of ${formatBytes(total)}`);
          lastTenth = tenth;
        },
      });
      if (flags.json) io.writeOut(JSON.stringify({ path, ...verified }) + "\n");
      else io.writeOut(`${verified.sha256}  ${path}\n`);
      io.progress(`${path}: ${describeVerified(verified)}`);
    });
}
