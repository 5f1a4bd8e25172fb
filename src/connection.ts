/**
 * What every job of the client shares about one server: the HTTP target, whether the server is on
 * this machine, the API family detected once, and the `lms` fallback found on first use. Internal:
 * the public face is {@linkcode LMStudioClient}.
 *
 * @module
 */
import { LMStudioError } from "./errors.ts";
import type { HttpTarget } from "./http.ts";
import type { Lms } from "./lms.ts";
import type { ApiFamily } from "./models.ts";
import { type Detection, probeServer } from "./detect.ts";
import type { EnvReader } from "./runtime.ts";

/** How a connection is made; everything is already resolved (no environment lookups here). */
export interface ConnectionInit {
  http: HttpTarget;
  local: boolean;
  pollMs: number;
  env: EnvReader;
  lmsPath?: string;
}

/** One LM Studio server, as the client's jobs see it. */
export class Connection {
  readonly baseUrl: string;
  readonly http: HttpTarget;
  readonly local: boolean;
  readonly pollMs: number;
  readonly #env: EnvReader;
  readonly #lmsPath?: string;
  #lms?: Promise<Lms>;
  #detection?: Promise<Detection>;

  constructor(init: ConnectionInit) {
    this.http = init.http;
    this.baseUrl = init.http.baseUrl;
    this.local = init.local;
    this.pollMs = init.pollMs;
    this.#env = init.env;
    this.#lmsPath = init.lmsPath;
  }

  /** The API family and the probe's listing, detected once (a failed detection is not cached). */
  detect(signal: AbortSignal): Promise<Detection> {
    if (!this.#detection) {
      const running = probeServer(this.http, signal);
      this.#detection = running;
      running.catch(() => {
        if (this.#detection === running) this.#detection = undefined;
      });
    }
    return this.#detection;
  }

  /** Detects afresh: the server may have changed (restarted, upgraded) since the last call. */
  redetect(signal: AbortSignal): Promise<Detection> {
    this.#detection = undefined;
    return this.detect(signal);
  }

  /** The probe's listing is only good until something on the server changes. */
  async forgetListing(): Promise<void> {
    const detection = await this.#detection?.catch(() => undefined);
    if (detection) detection.listing = undefined;
  }

  /**
   * The `lms` binary, found on first use. Discovery reads the file system, so it is imported only
   * when a job needs `lms`: a client that only talks HTTP never loads it.
   */
  lms(): Promise<Lms> {
    if (!this.#lms) {
      const found = Promise.all([import("./lms_find.ts"), import("./lms.ts")]).then(([find, lms]) =>
        new lms.Lms(find.findLms({ path: this.#lmsPath, env: this.#env }))
      );
      this.#lms = found;
      found.catch(() => {
        if (this.#lms === found) this.#lms = undefined;
      });
    }
    return this.#lms;
  }

  /** `lms` acts only on this machine: a remote server without a REST route for the job is a dead end. */
  requireLocal(what: string, api?: ApiFamily): void {
    if (this.local) return;
    throw new LMStudioError(
      "UNSUPPORTED",
      `Cannot ${what} on ${this.baseUrl}: ${api ? `it has no REST v1 API (it speaks ${api}) and ` : ""}` +
        "it is not on this machine, and `lms` acts only on this machine",
      { hint: `Upgrade LM Studio on that machine to 0.4 or newer, or run \`lms\` there.` },
    );
  }

  /** The error for a job that needs REST v1 on a server that does not have it. */
  noRestApi(what: string, api: ApiFamily): LMStudioError {
    return new LMStudioError(
      "UNSUPPORTED",
      `The server at ${this.baseUrl} has no REST API to ${what} models (it speaks ${api}; LM Studio 0.4+ has one)`,
      { hint: "Upgrade LM Studio to 0.4 or newer, or use the lms route." },
    );
  }
}
