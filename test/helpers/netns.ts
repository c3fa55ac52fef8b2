/**
 * Throwaway network namespaces for multi-host tests: N node namespaces joined by veth pairs
 * to a bridge in a hub namespace, on a private /24 used only inside these namespaces.
 * Names carry a per-run tag (pid + counter) so parallel runs never collide; `dispose()`
 * deletes everything it created (deleting a namespace deletes its veth ends and the bridge).
 */
import { execFileSync, spawnSync } from "node:child_process";

export interface NetnsNode {
  /** namespace name, for `ip netns exec` */
  readonly ns: string;
  /** IPv4 address inside the private subnet */
  readonly address: string;
  /** this node's end of its veth pair (inside `ns`) */
  readonly device: string;
}

export interface NetnsLan extends AsyncDisposable {
  readonly nodes: readonly NetnsNode[];
  /** argv prefix running a command inside a node's namespace */
  exec(node: NetnsNode): string[];
  /** adds `delayMs` of netem delay to every packet the node sends (egress of its veth end) */
  addDelay(node: NetnsNode, delayMs: number): void;
  dispose(): void;
}

/** Why namespaces cannot be used here, or undefined when they can. */
export function netnsUnavailableReason(): string | undefined {
  if (process.platform !== "linux") return `not Linux (${process.platform})`;
  if (process.getuid?.() !== 0) return "not running as root (ip netns needs CAP_SYS_ADMIN)";
  const probe = `lsprobe${process.pid}`;
  const add = spawnSync("ip", ["netns", "add", probe], { encoding: "utf8" });
  if (add.error) return `the ip command is unavailable (${add.error.message})`;
  if (add.status !== 0) return `ip netns add failed: ${add.stderr.trim()}`;
  spawnSync("ip", ["netns", "del", probe]);
  return undefined;
}

/** Whether `tc qdisc … netem` works in a namespace (needs the sch_netem kernel module). */
export function netemAvailable(node: NetnsNode): boolean {
  const r = spawnSync("ip", ["netns", "exec", node.ns, "tc", "qdisc", "add", "dev", node.device, "root", "netem", "delay", "0ms"], { encoding: "utf8" });
  if (r.status !== 0) return false;
  spawnSync("ip", ["netns", "exec", node.ns, "tc", "qdisc", "del", "dev", node.device, "root"]);
  return true;
}

let runCounter = 0;

/**
 * Creates `count` node namespaces on 10.231.<subnet>.0/24 (.1, .2, …). The subnet byte only
 * has to be private: the addresses exist inside these namespaces alone.
 */
export function createNetnsLan(count: number, subnet = 7): NetnsLan {
  const tag = `${process.pid.toString(36)}${(runCounter++).toString(36)}`;
  const created: string[] = [];
  const ip = (...args: string[]) => execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });
  const inNs = (ns: string, ...args: string[]) => ip("netns", "exec", ns, ...args);
  const dispose = () => {
    for (const ns of created.splice(0).reverse()) spawnSync("ip", ["netns", "del", ns]);
  };
  const nodes: NetnsNode[] = [];
  try {
    const hub = `ls${tag}hub`;
    ip("netns", "add", hub);
    created.push(hub);
    inNs(hub, "ip", "link", "set", "lo", "up");
    inNs(hub, "ip", "link", "add", "br0", "type", "bridge");
    inNs(hub, "ip", "link", "set", "br0", "up");
    for (let i = 0; i < count; i++) {
      const ns = `ls${tag}n${i}`;
      const device = `ls${tag}v${i}`; // ≤ 15 characters: interface names are short
      const peer = `ls${tag}p${i}`;
      const address = `10.231.${subnet}.${i + 1}`;
      ip("netns", "add", ns);
      created.push(ns);
      ip("link", "add", device, "netns", ns, "type", "veth", "peer", "name", peer, "netns", hub);
      inNs(ns, "ip", "link", "set", "lo", "up");
      inNs(ns, "ip", "addr", "add", `${address}/24`, "dev", device);
      inNs(ns, "ip", "link", "set", device, "up");
      inNs(hub, "ip", "link", "set", peer, "master", "br0");
      inNs(hub, "ip", "link", "set", peer, "up");
      nodes.push({ ns, address, device });
    }
  } catch (error) {
    dispose();
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`could not build the namespace LAN: ${stderr || (error as Error).message}`);
  }
  return {
    nodes,
    exec: (node) => ["ip", "netns", "exec", node.ns],
    addDelay: (node, delayMs) => inNs(node.ns, "tc", "qdisc", "add", "dev", node.device, "root", "netem", "delay", `${delayMs}ms`),
    dispose,
    [Symbol.asyncDispose]: async () => dispose(),
  };
}
