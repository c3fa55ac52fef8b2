/** The test run's cluster key (see clusterKeySetup.ts) and sockets that use it, as a root would. */
import * as zmq from "zeromq";
import { defaultClusterKeyPath, loadClusterKey } from "../../src/host/clusterKey.js";
import { clientSocketOptions, type LinkSecurity } from "../../src/host/linkSecurity.js";

export function testSecurity(heartbeatTimeoutMs = 2000): LinkSecurity {
  return { key: loadClusterKey(defaultClusterKeyPath()), heartbeatTimeoutMs };
}

/** A DEALER holding the cluster key, connected to `address`. */
export function keyedDealer(address: string, options: { receiveTimeout?: number } = {}): zmq.Dealer {
  const dealer = new zmq.Dealer({ ...clientSocketOptions(testSecurity(), 5000), ...options });
  dealer.connect(address);
  return dealer;
}
