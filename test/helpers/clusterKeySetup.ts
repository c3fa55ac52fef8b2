/**
 * vitest setup: every test file gets its own configuration folder holding a fresh cluster key
 * (XDG_CONFIG_HOME), so the workers and roots the tests start — which inherit the environment —
 * find it where users keep theirs. Tests of the keyless case point XDG_CONFIG_HOME elsewhere.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll } from "vitest";
import { defaultClusterKeyPath, generateClusterKey, writeClusterKey } from "../../src/host/clusterKey.js";

const configHome = fs.mkdtempSync(path.join(os.tmpdir(), "layerstream-config-"));
process.env.XDG_CONFIG_HOME = configHome;
writeClusterKey(defaultClusterKeyPath(), generateClusterKey());

afterAll(() => fs.rmSync(configHome, { recursive: true, force: true }));
