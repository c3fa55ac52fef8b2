/**
 * The cluster key: one CurveZMQ key pair that every machine of a cluster holds (made by
 * `layerstream keygen`, copied to each machine, mode 0600). Workers serve with it and accept
 * only peers that prove they hold it too; roots and workers connect with it, so every link is
 * encrypted and a worker never talks to anyone outside the cluster. See docs/security.md.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import * as zmq from "zeromq";
import { LayerstreamError } from "../engine/errors.js";

export interface ClusterKey {
  /** Z85, 40 characters */
  readonly publicKey: string;
  /** Z85, 40 characters; never logged */
  readonly secretKey: string;
}

export class ClusterKeyError extends LayerstreamError {}

const FILE_VERSION = 1;
const Z85 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
const Z85_KEY = /^[0-9a-zA-Z.\-:+=^!/*?&<>()[\]{}@%$#]{40}$/;

/** `$XDG_CONFIG_HOME/layerstream/cluster.key`, by default `~/.config/layerstream/cluster.key`. */
export function defaultClusterKeyPath(env: NodeJS.ProcessEnv = process.env): string {
  const configHome = env.XDG_CONFIG_HOME ? path.resolve(env.XDG_CONFIG_HOME) : path.join(os.homedir(), ".config");
  return path.join(configHome, "layerstream", "cluster.key");
}

/** A fresh key pair. */
export function generateClusterKey(): ClusterKey {
  const { publicKey, secretKey } = zmq.curveKeyPair();
  return { publicKey, secretKey };
}

/**
 * Writes a new key to `file` with mode 0600 (its folder created with 0700).
 * @throws ClusterKeyError KEY_EXISTS when the file is there (unless `overwrite`), KEY_NOT_WRITABLE
 */
export function writeClusterKey(file: string, key: ClusterKey, overwrite = false): void {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const body = JSON.stringify({ layerstreamClusterKey: FILE_VERSION, publicKey: key.publicKey, secretKey: key.secretKey }) + "\n";
    fs.writeFileSync(file, body, { mode: 0o600, flag: overwrite ? "w" : "wx" });
    fs.chmodSync(file, 0o600);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST") throw new ClusterKeyError("KEY_EXISTS", `${file} already holds a cluster key; keep it (every machine needs the same one) or pass --force to replace it`);
    throw new ClusterKeyError("KEY_NOT_WRITABLE", `cannot write the cluster key to ${file}: ${code ?? (error as Error).message}`);
  }
}

/**
 * Reads a key file and checks it: the right shape, and readable by its owner only.
 * @throws ClusterKeyError NO_KEY (missing), KEY_TOO_OPEN (group or others may read it), BAD_KEY
 */
export function loadClusterKey(file: string): ClusterKey {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    throw new ClusterKeyError("NO_KEY", `no cluster key at ${file}: create one with \`layerstream keygen\` and copy it to every machine of the cluster`);
  }
  if (!stat.isFile()) throw new ClusterKeyError("BAD_KEY", `${file} is not a regular file`);
  if ((stat.mode & 0o077) !== 0) throw new ClusterKeyError("KEY_TOO_OPEN", `cluster key ${file} can be read by other users (mode ${(stat.mode & 0o777).toString(8)}); run: chmod 600 ${file}`);
  let value: { publicKey?: unknown; secretKey?: unknown };
  try {
    value = JSON.parse(fs.readFileSync(file, "utf8")) as typeof value;
  } catch {
    throw new ClusterKeyError("BAD_KEY", `${file} is not a layerstream cluster key (not JSON); make one with \`layerstream keygen\``);
  }
  const { publicKey, secretKey } = value ?? {};
  if (typeof publicKey !== "string" || typeof secretKey !== "string" || !Z85_KEY.test(publicKey) || !Z85_KEY.test(secretKey)) {
    throw new ClusterKeyError("BAD_KEY", `${file} is not a layerstream cluster key (needs a Z85 publicKey and secretKey); make one with \`layerstream keygen\``);
  }
  return { publicKey, secretKey };
}

/** The environment variable that hands a worker its key as one line (spawned local workers, containers); it wins over the key file. */
export const CLUSTER_KEY_ENV = "LAYERSTREAM_CLUSTER_KEY";

/** A key as one line (for handing to a spawned local worker through its environment). */
export function encodeKeyLine(key: ClusterKey): string {
  return `${key.publicKey} ${key.secretKey}`;
}

export function decodeKeyLine(line: string): ClusterKey {
  const [publicKey, secretKey] = line.trim().split(" ");
  if (!publicKey || !secretKey || !Z85_KEY.test(publicKey) || !Z85_KEY.test(secretKey)) throw new ClusterKeyError("BAD_KEY", "the cluster key handed to this worker is malformed");
  return { publicKey, secretKey };
}

/** The 32 bytes a Z85 key encodes (how ZAP hands a client's key over). */
export function z85Decode(text: string): Uint8Array {
  const out = new Uint8Array((text.length * 4) / 5);
  for (let i = 0, o = 0; i < text.length; i += 5, o += 4) {
    let value = 0;
    for (let j = 0; j < 5; j++) value = value * 85 + Z85.indexOf(text[i + j]);
    out[o] = (value >>> 24) & 0xff;
    out[o + 1] = (value >>> 16) & 0xff;
    out[o + 2] = (value >>> 8) & 0xff;
    out[o + 3] = value & 0xff;
  }
  return out;
}
