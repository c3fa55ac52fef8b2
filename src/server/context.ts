/** What every route plugin shares: the model slot, the running calls, metrics and settings. */
import type { CallTracker } from "./calls.js";
import type { ServerMetrics } from "./metrics.js";
import type { ModelSlot } from "./modelSlot.js";
import type { StatsCache } from "./statsCache.js";

export interface ServerSettings {
  /** sequences generated at once (the model's `parallel`) */
  readonly parallel: number;
  /** calls that may wait for a slot (the model's `maxQueue`); undefined: the API's default */
  readonly maxQueue: number | undefined;
  /** requests to /v1 and the dashboard's data need `Authorization: Bearer <apiKey>` */
  readonly apiKey: string | undefined;
  /** one line per notable event (the CLI's stderr) */
  readonly log: (line: string) => void;
  /** one line per answered completion request */
  readonly logRequests: boolean;
}

export interface ServerContext {
  readonly slot: ModelSlot;
  readonly calls: CallTracker;
  readonly metrics: ServerMetrics;
  readonly stats: StatsCache;
  readonly settings: ServerSettings;
}
