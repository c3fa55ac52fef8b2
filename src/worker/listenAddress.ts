/**
 * A worker's `--listen` address, checked before binding, and bind failures in plain words.
 *
 * ZeroMQ would take `tcp://127.0.0.1:99999` and bind port 34463 (the port wraps at 2^16), read
 * `tcp://foo:5555` as a network interface called "foo" ("No such device"), and never name the
 * address it failed on. Here: the scheme is tcp or ipc, a tcp port is 1–65535 (or `*`/0 for any
 * free one), the host is `*`, an IP address, an interface of this machine or a name that
 * resolves (bound as the address it resolves to), and every failure is a one-line
 * `ListenError` naming the address and the cause.
 */
import { lookup } from "node:dns/promises";
import net from "node:net";
import os from "node:os";
import { LayerstreamError } from "../engine/errors.js";

/** A --listen address that cannot be used: malformed, or the bind failed (the message names both the address and why). */
export class ListenError extends LayerstreamError {}

export interface ListenAddress {
  /** as given */
  readonly text: string;
  /** what to bind: ports `*`/0 as `*`, host names as the address they resolve to */
  readonly bind: string;
  /** the host is an IPv6 address (the socket must allow IPv6) */
  readonly ipv6: boolean;
}

const USAGE = "expected tcp://HOST:PORT (HOST: *, an IP address, an interface or a host name of this machine; PORT: 1–65535, or * for any free port) or ipc://PATH";

/** @throws ListenError BAD_LISTEN_ADDRESS naming what is wrong */
export async function parseListenAddress(text: string): Promise<ListenAddress> {
  const match = /^(tcp|ipc):\/\/(.+)$/.exec(text.trim());
  if (!match) throw bad(text, USAGE);
  if (match[1] === "ipc") return { text, bind: `ipc://${match[2]}`, ipv6: false };
  const { host, port } = splitHostPort(text, match[2]);
  const bindHost = await resolveHost(text, host);
  const ipv6 = net.isIPv6(bindHost);
  return { text, bind: `tcp://${ipv6 ? `[${bindHost}]` : bindHost}:${port}`, ipv6 };
}

/** A ZeroMQ bind error as a ListenError: "cannot listen on tcp://127.0.0.1:5555: address already in use". */
export function bindFailure(address: string, error: unknown): ListenError {
  const code = (error as { code?: unknown }).code;
  const causes: Record<string, string> = {
    EADDRINUSE: "address already in use (another process listens there; pick another port, or * for any free one)",
    EADDRNOTAVAIL: "this machine has no such address",
    ENODEV: "no such network interface or address on this machine",
    EACCES: "permission denied (ports below 1024 need privileges)",
    ENOENT: "no such directory for the ipc path",
    EINVAL: "invalid address",
  };
  const cause = (typeof code === "string" && causes[code]) || (error as Error).message || String(error);
  return new ListenError("LISTEN_FAILED", `cannot listen on ${address}: ${cause}`);
}

function splitHostPort(text: string, rest: string): { host: string; port: string } {
  const bracketed = /^\[([^\]]+)\]:([^:]*)$/.exec(rest);
  const at = rest.lastIndexOf(":");
  const [host, port] = bracketed ? [bracketed[1], bracketed[2]] : at < 0 ? [rest, ""] : [rest.slice(0, at), rest.slice(at + 1)];
  if (host === "") throw bad(text, `no host (${USAGE})`);
  if (!bracketed && host.includes(":")) throw bad(text, "an IPv6 address goes in brackets: tcp://[::1]:5555");
  if (port === "*" || port === "0") return { host, port: "*" };
  if (!/^\d+$/.test(port)) throw bad(text, port === "" ? "no port (1–65535, or * for any free port)" : `port "${port}" is not a number (1–65535, or * for any free port)`);
  if (Number(port) < 1 || Number(port) > 65535) throw bad(text, `port ${port} is out of range (1–65535, or * for any free port)`);
  return { host, port: String(Number(port)) };
}

/** `*`, an IP literal or an interface name as is; a host name as the first address it resolves to. */
async function resolveHost(text: string, host: string): Promise<string> {
  if (host === "*" || net.isIP(host) !== 0 || Object.hasOwn(os.networkInterfaces(), host)) return host;
  if (/^[\d.]+$/.test(host)) throw bad(text, `${host} is not a valid IPv4 address`);
  try {
    return (await lookup(host)).address;
  } catch {
    const interfaces = Object.keys(os.networkInterfaces()).join(", ");
    throw bad(text, `host "${host}" is not an IP address, a network interface of this machine (${interfaces}) or a host name that resolves`);
  }
}

function bad(text: string, why: string): ListenError {
  return new ListenError("BAD_LISTEN_ADDRESS", `cannot listen on ${text}: ${why}`);
}
