/** `--listen` addresses checked before binding, and ZeroMQ bind failures in plain words. */
import net from "node:net";
import * as zmq from "zeromq";
import { describe, expect, it } from "vitest";
import { bindFailure, ListenError, parseListenAddress } from "../../src/worker/listenAddress.js";

async function refusal(address: string): Promise<ListenError> {
  try {
    await parseListenAddress(address);
  } catch (error) {
    expect(error).toBeInstanceOf(ListenError);
    return error as ListenError;
  }
  throw new Error(`${address} was accepted`);
}

describe("parseListenAddress", () => {
  it.each([
    ["tcp://127.0.0.1:5555", "tcp://127.0.0.1:5555", false],
    ["tcp://0.0.0.0:*", "tcp://0.0.0.0:*", false],
    ["tcp://*:0", "tcp://*:*", false],
    ["tcp://127.0.0.1:65535", "tcp://127.0.0.1:65535", false],
    ["tcp://127.0.0.1:00080", "tcp://127.0.0.1:80", false],
    ["tcp://[::1]:5555", "tcp://[::1]:5555", true],
    ["tcp://lo:*", "tcp://lo:*", false],
    ["ipc:///tmp/worker.sock", "ipc:///tmp/worker.sock", false],
  ])("%s binds %s", async (address, bind, ipv6) => {
    expect(await parseListenAddress(address)).toEqual({ text: address, bind, ipv6 });
  });

  it("a host name binds the address it resolves to", async () => {
    expect((await parseListenAddress("tcp://localhost:7000")).bind).toMatch(/^tcp:\/\/(127\.0\.0\.1|\[::1\]):7000$/);
  });

  it.each([
    ["tcp://127.0.0.1:99999", /port 99999 is out of range \(1–65535, or \* for any free port\)/],
    ["tcp://127.0.0.1:65536", /port 65536 is out of range/],
    ["tcp://127.0.0.1:-1", /port "-1" is not a number/],
    ["tcp://127.0.0.1:", /no port/],
    ["tcp://127.0.0.1", /no port/],
    ["tcp://:5555", /no host/],
    ["tcp://1.2.3:5555", /1\.2\.3 is not a valid IPv4 address/],
    ["tcp://::1:5555", /an IPv6 address goes in brackets/],
    ["tcp://no-such-host.invalid:5555", /host "no-such-host\.invalid" is not an IP address, a network interface of this machine \(.*lo.*\) or a host name that resolves/],
    ["udp://127.0.0.1:5555", /expected tcp:\/\/HOST:PORT/],
    ["127.0.0.1:5555", /expected tcp:\/\/HOST:PORT/],
    ["", /expected tcp:\/\/HOST:PORT/],
  ])("%s is refused before binding", async (address, why) => {
    const error = await refusal(address);
    expect(error.code).toBe("BAD_LISTEN_ADDRESS");
    expect(error.message).toMatch(new RegExp(`^cannot listen on ${address.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: ${why.source}`));
  });
});

describe("bindFailure", () => {
  it("names the address and the cause of a real ZeroMQ bind failure", async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const address = `tcp://127.0.0.1:${(taken.address() as net.AddressInfo).port}`;
    const router = new zmq.Router();
    try {
      const failure = async (target: string) => router.bind(target).then(() => undefined, (error: unknown) => bindFailure("ADDR", error));
      const inUse = await failure(address);
      const notHere = await failure("tcp://192.0.2.1:5555");
      expect(inUse?.message).toBe("cannot listen on ADDR: address already in use (another process listens there; pick another port, or * for any free one)");
      expect(notHere?.message).toBe("cannot listen on ADDR: this machine has no such address");
      expect(inUse?.code).toBe("LISTEN_FAILED");
    } finally {
      router.close();
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});
