/**
 * A cluster you can trust on a shared network (real worker processes, real ZeroMQ): the cluster
 * key is required, a root or peer without it is refused — quickly, in one line — and gets
 * nothing; an attacker cannot disturb a running generation; a worker sends nothing to a next hop
 * that cannot prove it holds the key; --insecure says what it gives up.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import * as zmq from "zeromq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { modelFile } from "../helpers/paths.js";
import { keyedDealer } from "../helpers/clusterKey.js";
import { encodeMessage, decodeMessage } from "../../src/protocol/message.js";
import { MessageType, PayloadEncoding } from "../../src/protocol/header.js";
import { encodeControl } from "../../src/protocol/control.js";
import { decodeHelloReply } from "../../src/protocol/clusterControl.js";
import { encodeBatch } from "../../src/protocol/batch.js";
import { defaultClusterKeyPath, generateClusterKey, loadClusterKey, writeClusterKey } from "../../src/host/clusterKey.js";
import { startWorker, statsOf, type WorkerProcess } from "./workerProcess.js";

const STORIES = modelFile("stories260K.gguf");
const N_EMBD = 64;
const base = { requestId: 9, position: 0, sequenceId: 0, layerFrom: 0, layerTo: 1, nTokens: 1, flags: 0 };
const generateArgs = (workers: readonly WorkerProcess[], extra: readonly string[] = []) => [
  "generate", "-m", STORIES, "-p", "Once upon a time", "-n", "600", "--ignore-eos", "--temperature", "0", "--wire", "f32", "--stats-json",
  "--workers", workers.map((w) => w.address).join(","), ...extra,
];

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "layerstream-trust-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A folder to use as XDG_CONFIG_HOME, with a fresh cluster key (or none). */
function configHome(name: string, withKey: boolean): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  if (withKey) writeClusterKey(defaultClusterKeyPath({ XDG_CONFIG_HOME: dir }), generateClusterKey());
  return dir;
}

/** Collects whatever `socket` receives (an attacker hoping for replies). */
function collect(socket: zmq.Dealer | zmq.Router): Uint8Array[][] {
  const got: Uint8Array[][] = [];
  void (async () => {
    try {
      for await (const frames of socket) got.push(frames);
    } catch {}
  })();
  return got;
}

/** Everything an attacker would send: HELLO, a hijacking ASSIGN, poisoning ACTIVATIONS for likely sessions, STATS. */
function attackFrames(nextHop: string): Uint8Array[][] {
  const hello = encodeMessage({ ...base, type: MessageType.HELLO, encoding: PayloadEncoding.MSGPACK }, encodeControl({ protocolVersion: 2, fileBytes: 0, fingerprint: "x", nLayer: 5 }));
  const assign = encodeMessage({ ...base, type: MessageType.ASSIGN, encoding: PayloadEncoding.MSGPACK }, encodeControl({ session: 1, workerIndex: 0, addresses: ["tcp://127.0.0.1:1", nextHop], stages: [{ worker: 0, layerFrom: 0, layerTo: 1 }, { worker: 1, layerFrom: 1, layerTo: 5 }], encoding: 3, kvType: "f16", contextSize: 2 ** 53 - 1 }));
  const poison = [0, 1, 2 ** 31].map((session) =>
    encodeMessage({ ...base, type: MessageType.ACTIVATIONS, encoding: PayloadEncoding.F32 }, encodeBatch({ session, endLayer: 5, rows: "last", sequences: [{ sequenceId: 0, position: 3, nTokens: 1 }] }, new Float32Array(N_EMBD).fill(1e30), PayloadEncoding.F32)),
  );
  const stats = encodeMessage({ ...base, type: MessageType.STATS, encoding: PayloadEncoding.NONE });
  return [hello, assign, ...poison, stats];
}

describe("cluster trust", () => {
  let workers: WorkerProcess[];
  let expected: string;

  beforeAll(async () => {
    const single = await runCli(["generate", "-m", STORIES, "-p", "Once upon a time", "-n", "600", "--ignore-eos", "--temperature", "0"]);
    expect(single.code, single.stderr).toBe(0);
    expected = single.stdout;
    workers = await Promise.all([startWorker(STORIES), startWorker(STORIES)]);
  });
  afterAll(async () => {
    await Promise.all((workers ?? []).map((w) => w.stop()));
  });

  it("a worker without a cluster key refuses to start, in one line naming the file, keygen and --insecure", async () => {
    const run = await runCli(["worker", "-m", STORIES, "-l", "tcp://127.0.0.1:*"], { XDG_CONFIG_HOME: configHome("empty", false) });
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(run.stderr).toMatch(/error: a worker needs the cluster key: no cluster key at .*empty\/layerstream\/cluster\.key: create one with `layerstream keygen`.*--insecure/);
  });

  it("keygen writes a key only its owner can read, refuses to overwrite it, and a readable key is refused", async () => {
    const home = configHome("keygen", false);
    const first = await runCli(["keygen"], { XDG_CONFIG_HOME: home });
    expect(first.code, first.stderr).toBe(0);
    const file = first.stdout.trim();
    expect(file).toBe(path.join(home, "layerstream", "cluster.key"));
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(loadClusterKey(file).publicKey).toHaveLength(40);
    const again = await runCli(["keygen"], { XDG_CONFIG_HOME: home });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already holds a cluster key.*--force/);
    fs.chmodSync(file, 0o644);
    const open = await runCli(["worker", "-m", STORIES, "-l", "tcp://127.0.0.1:*"], { XDG_CONFIG_HOME: home });
    expect(open.code).toBe(2);
    expect(open.stderr).toMatch(/can be read by other users \(mode 644\); run: chmod 600/);
  });

  it("a root with another key is refused within 15 s, in one line naming the cause", async () => {
    const t0 = performance.now();
    const run = await runCli(generateArgs(workers), { XDG_CONFIG_HOME: configHome("other", true) });
    expect(performance.now() - t0).toBeLessThan(15_000);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/error: worker tcp:\/\/\S+ closed the connection during the CurveZMQ handshake \d+ times: it does not hold this root's cluster key/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it("--insecure on one side only fails in one line either way; both insecure works, with a warning on each start", async () => {
    await using open = await startWorker(STORIES, ["--insecure"]);
    expect(open.stderr()).toMatch(/warning: --insecure: cluster links are plaintext and unauthenticated/);
    const keyedRoot = await runCli(generateArgs([open], ["-n", "5"]));
    expect(keyedRoot.code).toBe(2);
    // which side of the failed handshake ZeroMQ reports first depends on timing: either names --insecure
    expect(keyedRoot.stderr).toMatch(/refused the connection: it runs without a cluster key \(--insecure\) while this root uses one|closed the connection during the CurveZMQ handshake \d+ times: .*none: --insecure/);
    const insecureRoot = await runCli(generateArgs([workers[0]], ["-n", "5", "--insecure"]));
    expect(insecureRoot.code).toBe(2);
    expect(insecureRoot.stderr).toMatch(/(refused the connection|closed the connection during the handshake \d+ times): it requires the cluster key while this root runs --insecure/);
    const both = await runCli(generateArgs([open], ["-n", "600", "--insecure"]));
    expect(both.code, both.stderr).toBe(0);
    expect(both.stdout).toBe(expected);
    expect(both.stderr).toMatch(/warning: --insecure/);
  });

  it("peers without the key get no reply and cannot disturb a running generation (no poisoning, no hijack, no STATS)", async () => {
    const sink = new zmq.Router({ linger: 0 });
    await sink.bind("tcp://127.0.0.1:*");
    const sinkGot = collect(sink);
    const stranger = generateClusterKey();
    const cluster = loadClusterKey(defaultClusterKeyPath());
    const attackers = workers.flatMap((w) => [
      new zmq.Dealer({ linger: 0, sendTimeout: 0 }), // plaintext
      new zmq.Dealer({ linger: 0, sendTimeout: 0, curveServerKey: stranger.publicKey, curvePublicKey: stranger.publicKey, curveSecretKey: stranger.secretKey }), // another cluster
      new zmq.Dealer({ linger: 0, sendTimeout: 0, curveServerKey: cluster.publicKey, curvePublicKey: stranger.publicKey, curveSecretKey: stranger.secretKey }), // knows the public key only
    ].map((dealer) => (dealer.connect(w.address), dealer)));
    const replies = attackers.map(collect);
    let attacking = true;
    const attack = (async () => {
      while (attacking) {
        for (const dealer of attackers) for (const frames of attackFrames(sink.lastEndpoint!)) await dealer.send(frames).catch(() => {});
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const run = await runCli(generateArgs(workers));
    attacking = false;
    await attack;
    await new Promise((r) => setTimeout(r, 300));
    for (const socket of [...attackers, sink]) socket.close();
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe(expected);
    expect(statsOf(run.stderr).workerBadFrames).toBe(0);
    expect(replies.map((r) => r.length)).toEqual(attackers.map(() => 0));
    expect(sinkGot).toHaveLength(0);
    expect(workers[0].stderr()).toMatch(/refused a peer at .*: it does not hold the cluster key/);
    expect(workers[0].stderr()).toMatch(/refused a connection from .*: it does not speak CurveZMQ/);
  });

  it("a worker sends nothing to a next hop that cannot prove it holds the key", async () => {
    await using worker = await startWorker(STORIES, ["--heartbeat-timeout", "0.5"]);
    const stranger = generateClusterKey();
    const plain = new zmq.Router({ linger: 0 });
    const impostor = new zmq.Router({ linger: 0, curveServer: true, curvePublicKey: stranger.publicKey, curveSecretKey: stranger.secretKey });
    for (const hop of [plain, impostor]) {
      await hop.bind("tcp://127.0.0.1:*");
      const got = collect(hop);
      const root = keyedDealer(worker.address, { receiveTimeout: 3000 });
      const ask = async (frames: Uint8Array[], expect: MessageType) => {
        await root.send(frames);
        for (;;) {
          const message = decodeMessage(await root.receive());
          if (message.header.type === expect) return message;
        }
      };
      const probe = await ask(encodeMessage({ ...base, type: MessageType.HELLO, encoding: PayloadEncoding.MSGPACK }, encodeControl({ protocolVersion: 2, fileBytes: 0, fingerprint: "?", nLayer: 0 })), MessageType.HELLO_REPLY);
      const { identity } = decodeHelloReply(probe.payload);
      await ask(encodeMessage({ ...base, type: MessageType.HELLO, encoding: PayloadEncoding.MSGPACK }, encodeControl(identity)), MessageType.HELLO_REPLY);
      const plan = { session: 7, workerIndex: 0, addresses: [worker.address, hop.lastEndpoint!], stages: [{ worker: 0, layerFrom: 0, layerTo: 2 }, { worker: 1, layerFrom: 2, layerTo: identity.nLayer }], encoding: PayloadEncoding.F32, kvType: "f16", contextSize: 16 };
      await ask(encodeMessage({ ...base, type: MessageType.ASSIGN, encoding: PayloadEncoding.MSGPACK }, encodeControl(plan)), MessageType.ASSIGN);
      const batch = encodeBatch({ session: 7, endLayer: identity.nLayer, rows: "last", sequences: [{ sequenceId: 0, position: 0, nTokens: 1 }] }, new Float32Array(N_EMBD), PayloadEncoding.F32);
      await root.send(encodeMessage({ ...base, type: MessageType.ACTIVATIONS, encoding: PayloadEncoding.F32, layerTo: 2 }, batch));
      await expect.poll(() => worker.stderr(), { timeout: 5000 }).toMatch(new RegExp(`could not send to the next worker ${hop.lastEndpoint!.replace(/[.]/g, "\\.")}`));
      expect(got).toHaveLength(0);
      root.close();
      hop.close();
    }
  });

  it("a frame over --max-frame drops its connection before it costs memory; the worker keeps serving", async () => {
    await using worker = await startWorker(STORIES, ["--max-frame", "1MB"]);
    const big = keyedDealer(worker.address, { receiveTimeout: 1500 });
    await big.send(encodeMessage({ ...base, type: MessageType.ACTIVATIONS, encoding: PayloadEncoding.F32 }, new Uint8Array(4 * 2 ** 20)));
    await expect(big.receive()).rejects.toThrow();
    big.close();
    const fine = keyedDealer(worker.address, { receiveTimeout: 3000 });
    await fine.send(encodeMessage({ ...base, type: MessageType.PING, encoding: PayloadEncoding.NONE }));
    expect(decodeMessage(await fine.receive()).header.type).toBe(MessageType.PONG);
    fine.close();
    const rss = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${worker.pid}/status`, "utf8"))![1]) * 1024;
    expect(rss).toBeLessThan(300 * 2 ** 20);
  });
});
