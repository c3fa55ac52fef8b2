/**
 * Hostile files at the GGUF level: paths that are not regular files (a FIFO must never block),
 * overlapping tensor data, and the file watch that notices a model file changed underneath.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openGguf } from "../../../src/engine/gguf/reader.js";
import { openGgufHeader } from "../../../src/engine/gguf/header.js";
import { FileWatch, ModelFileChangedError, openRegularFile } from "../../../src/engine/gguf/modelFile.js";
import { GgufFormatError } from "../../../src/engine/gguf/errors.js";
import { overlapTensors, writeModel } from "../../helpers/hostileModels.js";

let dir: string;
let fifo: string;
let socketPath: string;
let server: net.Server;
let model: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "layerstream-hostile-gguf-"));
  fifo = path.join(dir, "model.fifo");
  execFileSync("mkfifo", [fifo]);
  socketPath = path.join(dir, "model.sock");
  server = net.createServer();
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  model = await writeModel(path.join(dir, "model.gguf"));
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  fs.rmSync(dir, { recursive: true, force: true });
});

function expectNotAFile(open: () => unknown, what: RegExp): void {
  let error: unknown;
  try {
    open();
  } catch (caught) {
    error = caught;
  }
  expect(error).toBeInstanceOf(GgufFormatError);
  expect((error as GgufFormatError).code).toBe("NOT_A_FILE");
  expect((error as Error).message).toMatch(what);
  expect((error as Error).message).not.toContain("\n");
}

describe("paths that are not regular files", () => {
  it.each([
    ["a FIFO (nobody writes to it: opening must not block)", () => fifo, /model\.fifo is a FIFO \(named pipe\), not a regular file/],
    ["a socket", () => socketPath, /model\.sock is a socket, not a regular file/],
    ["a character device", () => "/dev/null", /\/dev\/null is a character device, not a regular file/],
    ["a directory", () => dir, /is a directory, not a regular file/],
  ])("%s: every opener refuses it at once, naming what it is", (_what, target, message) => {
    const started = performance.now();
    expectNotAFile(() => openRegularFile(target()), message);
    expectNotAFile(() => openGgufHeader(target()), message);
    expectNotAFile(() => openGguf(target()), message);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe("overlapping tensors", () => {
  it("a tensor whose data overlaps another's is refused, naming both", async () => {
    const file = await writeModel(path.join(dir, "overlap.gguf"));
    overlapTensors(file, "blk.0.ffn_up.weight", "blk.0.ffn_gate.weight");
    let error: unknown;
    try {
      openGgufHeader(file);
    } catch (caught) {
      error = caught;
    }
    expect((error as GgufFormatError).code).toBe("OVERLAPPING_TENSORS");
    expect((error as Error).message).toMatch(/tensor "blk\.0\.ffn_(up|gate)\.weight" data \[\d+, \d+\) overlaps tensor "blk\.0\.ffn_(up|gate)\.weight"/);
  });
});

describe("FileWatch", () => {
  it("says nothing while the file is as opened; names the change once it is truncated, overwritten or replaced", () => {
    const copy = path.join(dir, "watched.gguf");
    fs.copyFileSync(model, copy);
    const opened = openRegularFile(copy);
    const watch = FileWatch.onDescriptor(copy, opened.fd, opened.stamp);
    watch.check();
    fs.truncateSync(copy, 1000);
    expect(() => watch.check()).toThrow(ModelFileChangedError);
    expect(() => watch.check()).toThrow(new RegExp(`model file ${copy} changed on disk while in use \\(size ${opened.size} → 1000 bytes\\)`));
    fs.closeSync(opened.fd);

    fs.copyFileSync(model, copy);
    const again = openRegularFile(copy);
    const overwritten = FileWatch.onDescriptor(copy, again.fd, again.stamp);
    const fd = fs.openSync(copy, "r+");
    fs.writeSync(fd, new Uint8Array(64), 0, 64, 4096);
    fs.futimesSync(fd, new Date(), new Date(Date.now() + 5000)); // a distinct mtime even on coarse clocks
    fs.closeSync(fd);
    expect(() => overwritten.check()).toThrow(/changed on disk while in use \(modified at /);
    overwritten.close();
    overwritten.check(); // closed: nothing to check any more
    fs.closeSync(again.fd);

    const replacement = path.join(dir, "replacement.gguf");
    fs.copyFileSync(model, replacement);
    const stamp = openRegularFile(copy);
    fs.closeSync(stamp.fd);
    fs.renameSync(replacement, copy);
    expect(() => FileWatch.open(copy, stamp.stamp)).toThrow(/changed on disk while in use \(replaced: inode \d+ → \d+\)/);
  });
});
