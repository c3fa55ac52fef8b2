/**
 * Root and two workers on three "hosts": separate network namespaces joined by veth pairs
 * to a bridge, each process reaching the others only through its own interface address.
 * Needs root and `ip netns` (CI runs as root); skipped with the reason otherwise.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, runCli, runCommand, type CliResult } from "../helpers/cli.js";
import { createNetnsLan, netemAvailable, netnsUnavailableReason, type NetnsLan, type NetnsNode } from "../helpers/netns.js";
import { modelFile } from "../helpers/paths.js";
import { statsOf } from "./workerProcess.js";
import { defaultClusterKeyPath, generateClusterKey, writeClusterKey } from "../../src/host/clusterKey.js";

const MODEL = modelFile("stories260K.gguf");
const PROMPT = "Once upon a time, there was a little dog named Max";
const PORT = 5555; // each namespace has its own port space
const unavailable = netnsUnavailableReason();
if (unavailable) console.log(`multiHost.test.ts skipped: network namespaces unavailable: ${unavailable}`);

interface NsWorker {
  readonly child: ChildProcess;
  readonly address: string;
  stderr(): string;
}

/** `ip netns exec NS node bin/layerstream.js worker …`; resolves once it is listening. */
function startNsWorker(lan: NetnsLan, node: NetnsNode, timeoutMs = 15_000): Promise<NsWorker> {
  const address = `tcp://${node.address}:${PORT}`;
  const [cmd, ...prefix] = lan.exec(node);
  const child = spawn(cmd, [...prefix, process.execPath, BIN, "worker", "--model", MODEL, "--listen", address], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (s: string) => (stderr += s));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker in ${node.ns} did not start: ${stderr}`)), timeoutMs);
    child.once("exit", (code) => reject(new Error(`worker in ${node.ns} exited with ${code}: ${stderr}`)));
    child.stdout!.setEncoding("utf8").on("data", (s: string) => {
      stdout += s;
      if (!/^worker listening on /m.test(stdout)) return;
      clearTimeout(timer);
      resolve({ child, address, stderr: () => stderr });
    });
  });
}

/** Resolves when the process has exited, SIGKILLing it if SIGTERM was not enough. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
  await exited;
  clearTimeout(timer);
}

describe.skipIf(unavailable !== undefined)("cluster across network namespaces (root + 2 worker hosts)", () => {
  let lan: NetnsLan | undefined;
  const workers: NsWorker[] = [];
  let single: CliResult;

  /** generate in the root's namespace, greedy, against the two namespaced workers */
  const rootCommand = (extra: readonly string[]) => {
    const [cmd, ...prefix] = lan!.exec(lan!.nodes[0]);
    const args = ["generate", "-m", MODEL, "-p", PROMPT, "-n", "24", "--temperature", "0", "--ignore-eos", "--stats-json"];
    return [cmd, [...prefix, process.execPath, BIN, ...args, "--workers", workers.map((w) => w.address).join(","), ...extra]] as const;
  };
  const generateOnRoot = (extra: readonly string[], env: NodeJS.ProcessEnv = {}) => {
    const [cmd, args] = rootCommand(extra);
    return runCommand(cmd, args, env, 20_000);
  };

  beforeAll(async () => {
    lan = createNetnsLan(3); // node 0: root, nodes 1 and 2: workers
    const [started, reference] = await Promise.all([Promise.all(lan.nodes.slice(1).map((node) => startNsWorker(lan!, node))), runCli(["generate", "-m", MODEL, "-p", PROMPT, "-n", "24", "--temperature", "0", "--ignore-eos"])]);
    workers.push(...started);
    single = reference;
    expect(single.code, single.stderr).toBe(0);
    expect(single.stdout.length).toBeGreaterThan(10);
  }, 30_000);

  afterAll(async () => {
    await Promise.all(workers.map((w) => stop(w.child)));
    lan?.dispose();
  });

  it("the namespaces are isolated: from the root's namespace a worker answers on its address only", async () => {
    const [cmd, ...prefix] = lan!.exec(lan!.nodes[0]);
    const probe = (host: string) =>
      runCommand(cmd, [...prefix, process.execPath, "-e", `require("node:net").connect(${PORT}, "${host}").on("connect", () => process.exit(0)).on("error", (e) => { console.log(e.code); process.exit(3); })`], {}, 5000);
    expect((await probe("127.0.0.1")).code).toBe(3);
    expect((await probe(lan!.nodes[1].address)).code).toBe(0);
  });

  it.each([
    ["round-robin", "f32"],
    ["contiguous", "q8_0"],
  ])("--assign %s --wire %s: the same greedy text as one process", async (assign, wire) => {
    const run = await generateOnRoot(["--assign", assign, "--wire", wire]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe(single.stdout);
    const stats = statsOf(run.stderr);
    expect(stats).toMatchObject({ workers: 2, assign, wire, workerBadFrames: 0 });
    expect(stats.wireBytesSent as number).toBeGreaterThan(0);
  }, 20_000);

  it("still the same text with 2 ms of netem delay on one worker's link", async (ctx) => {
    const delayed = lan!.nodes[2];
    if (!netemAvailable(delayed)) {
      console.log("multiHost.test.ts: netem delay skipped: tc qdisc netem unavailable (sch_netem module missing)");
      ctx.skip();
    }
    lan!.addDelay(delayed, 2);
    const run = await generateOnRoot(["--assign", "round-robin", "--wire", "q8_0"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe(single.stdout);
    // 24 passes (1 prompt + 23 decode), each leaving the delayed worker at least once: ≥ 48 ms
    const stats = statsOf(run.stderr);
    expect(stats.networkSeconds as number).toBeGreaterThan(0.002 * 24);
  }, 20_000);

  it("a root with another cluster key is refused within 15 s, in one line; a keyless worker refuses to start; a plaintext peer on the LAN gets no reply", async () => {
    const other = fs.mkdtempSync(path.join(os.tmpdir(), "layerstream-otherkey-"));
    writeClusterKey(defaultClusterKeyPath({ XDG_CONFIG_HOME: other }), generateClusterKey());
    const t0 = performance.now();
    const run = await generateOnRoot([], { XDG_CONFIG_HOME: other });
    fs.rmSync(other, { recursive: true, force: true });
    expect(performance.now() - t0).toBeLessThan(15_000);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/does not hold this root's cluster key/);
    const [cmd, ...prefix] = lan!.exec(lan!.nodes[0]);
    const keyless = await runCommand(cmd, [...prefix, process.execPath, BIN, "worker", "--model", MODEL, "--listen", `tcp://${lan!.nodes[0].address}:${PORT + 1}`], { XDG_CONFIG_HOME: path.join(os.tmpdir(), "layerstream-no-config") }, 10_000);
    expect(keyless.code).toBe(2);
    expect(keyless.stderr).toMatch(/a worker needs the cluster key: no cluster key at/);
    const probe = `const zmq = require("zeromq"); const d = new zmq.Dealer({ linger: 0, receiveTimeout: 1500, sendTimeout: 0 }); d.connect("${workers[0].address}");
      d.send([Buffer.from("LS"), Buffer.alloc(22)]).catch(() => {}); d.receive().then(() => console.log("REPLY"), () => console.log("NO REPLY")).finally(() => d.close());`;
    const peer = await runCommand(cmd, [...prefix, process.execPath, "-e", probe], {}, 10_000);
    expect(peer.stdout.trim()).toBe("NO REPLY");
  }, 30_000);

  it("a worker host that dies mid-generation: its layers move to the other host, the same text (f32 wire)", async () => {
    const reference = await runCli(["generate", "-m", MODEL, "-p", PROMPT, "-n", "400", "--temperature", "0", "--ignore-eos"]);
    const [cmd, args] = rootCommand(["-n", "400", "--wire", "f32"]);
    const root = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    root.stderr.setEncoding("utf8").on("data", (text: string) => (stderr += text));
    root.stdout.setEncoding("utf8").on("data", (text: string) => {
      if (stdout.length === 0) workers[1].child.kill("SIGKILL");
      stdout += text;
    });
    const code = await new Promise((resolve) => root.on("close", resolve));
    expect(code, stderr).toBe(0);
    expect(stdout).toBe(reference.stdout);
    expect(statsOf(stderr)).toMatchObject({ workers: 1, recoveries: 1 });
  }, 30_000);
});
