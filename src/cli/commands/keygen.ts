/**
 * `layerstream keygen`: a new cluster key (a CurveZMQ key pair) in a file only its owner can
 * read. Copy the same file to every machine of the cluster.
 */
import { createHash } from "node:crypto";
import { Command } from "commander";
import { defaultClusterKeyPath, generateClusterKey, writeClusterKey } from "../../host/clusterKey.js";
import type { CliIo } from "../io.js";

interface KeygenFlags {
  out?: string;
  force: boolean;
}

export function keygenCommand(io: CliIo): Command {
  return new Command("keygen")
    .description("make the cluster key: every worker and root of a cluster needs the same file (copy it over a trusted channel)")
    .option("-o, --out <file>", `where to write it (default: ${defaultClusterKeyPath()})`)
    .option("--force", "replace an existing key (every machine must then get the new one)", false)
    .action((flags: KeygenFlags) => {
      const file = flags.out ?? defaultClusterKeyPath();
      const key = generateClusterKey();
      writeClusterKey(file, key, flags.force);
      const fingerprint = createHash("sha256").update(key.publicKey).digest("hex").slice(0, 16);
      io.writeOut(`${file}\n`);
      io.progress(`wrote a new cluster key to ${file} (mode 0600, fingerprint ${fingerprint}); copy it to every machine of the cluster, e.g. scp ${file} HOST:${file.replace(/^\/(root|home\/[^/]+)\//, "~/")}`);
    });
}
