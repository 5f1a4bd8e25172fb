/**
 * What every job of the client shares about one server: the HTTP target, whether the server is on
 * this machine, the API family detected once, and the `lms` fallback found on first use. Internal:
 * the public face is {@linkcode LMStudioClient}.
 *
 * @module
 */
import { LMStudioError, registerSecret } from "./errors.ts";
import type { FetchLike, HttpTarget } from "./http.ts";
import type { Lms } from "./lms.ts";
import type { ApiFamily } from "./models.ts";
import { type Detection, probeServer } from "./detect.ts";
import { validDuration } from "./deadline.ts";
import type { EnvReader } from "./runtime.ts";
import { isLocalServer, normalizeBaseUrl } from "./url.ts";

/** How a connection is made; everything is already resolved (no environment lookups here). */
export interface ConnectionInit {
  http: HttpTarget;
  local: boolean;
  pollMs: number;
  env: EnvReader;
  lmsPath?: string;
}

/**
 * What {@linkcode connect} needs: the configuration already merged (options, environment, files),
 * the URL not yet normalised.
 */
export interface ConnectOptions {
  /** The server URL, with or without `/v1`. */
  baseUrl: string;
  /** The token as given (surrounding whitespace is dropped; empty means none). */
  token?: string;
  /** Where the token came from, for messages ("the apiToken option", or a variable name). */
  tokenSource: string;
  /** The `fetch` to use (default: the global one). */
  fetch?: FetchLike;
  /** Whether the server is on this machine (default: from the URL). */
  local?: boolean;
  /** Smallest poll interval for download status, in ms (default 250). */
  pollMs?: number;
  /** Where `lms` discovery reads the environment. */
  env: EnvReader;
  /** The `lms` binary, skipping discovery. */
  lmsPath?: string;
}

/**
 * A connection to the server `options` name: the URL normalised, the token checked (one that
 * cannot go into an HTTP header is a `USAGE` error naming its source, never its value) and
 * registered as a secret. The one way a connection is made: by the client, and by the CLI's
 * `check`, which does not load the client's other jobs.
 */
export function connect(options: ConnectOptions): Connection {
  const baseUrl = normalizeBaseUrl(options.baseUrl);
  const given = options.token;
  registerSecret(given);
  // Surrounding whitespace (a token read from a file) is not part of it; fetch would drop it too.
  const token = given?.trim();
  registerSecret(token);
  const { tokenSource } = options;
  // A line break or control character cannot go into a header: fetch would fail before sending,
  // which would read as "server unreachable". Say what is wrong instead.
  // deno-lint-ignore no-control-regex
  if (token !== undefined && /[\u0000-\u001f\u007f-\u009f\u0100-\uffff]/.test(token)) {
    throw new LMStudioError(
      "USAGE",
      `The API token from ${tokenSource} contains a line break, a control character or a character that cannot go into an HTTP header`,
      {
        hint:
          `Give ${tokenSource} the token alone (sk-lm-...), as LM Studio shows it in Developer → Server Settings → Manage Tokens.`,
      },
    );
  }
  return new Connection({
    http: {
      baseUrl,
      token: token === "" ? undefined : token,
      tokenSource,
      fetch: options.fetch ?? ((input, init) => fetch(input, init)),
    },
    local: options.local ?? isLocalServer(baseUrl),
    pollMs: validDuration(options.pollMs, 250, "pollIntervalMs"),
    env: options.env,
    lmsPath: options.lmsPath,
  });
}

/** One LM Studio server, as the client's jobs see it. */
export class Connection {
  readonly baseUrl: string;
  readonly http: HttpTarget;
  readonly local: boolean;
  readonly pollMs: number;
  /** Where `lms` discovery reads the environment. */
  readonly env: EnvReader;
  /** The `lms` binary given by the caller, if any (else discovery). */
  readonly lmsPath?: string;
  #detection?: Promise<Detection>;

  constructor(init: ConnectionInit) {
    this.http = init.http;
    this.baseUrl = init.http.baseUrl;
    this.local = init.local;
    this.pollMs = init.pollMs;
    this.env = init.env;
    this.lmsPath = init.lmsPath;
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

const foundLms = new WeakMap<Connection, Promise<Lms>>();

/**
 * The `lms` binary of a connection, found on first use (a failed search is not kept). A function
 * rather than a method so that code which never needs `lms` (the CLI's `check`) does not carry it:
 * discovery reads the file system, and it and the `lms` wrapper are imported only here, when a job
 * first needs them.
 */
export function lmsOf(conn: Connection): Promise<Lms> {
  let found = foundLms.get(conn);
  if (!found) {
    const search = Promise.all([import("./lms_find.ts"), import("./lms.ts")]).then(([find, lms]) =>
      new lms.Lms(find.findLms({ path: conn.lmsPath, env: conn.env }))
    );
    search.catch(() => {
      if (foundLms.get(conn) === search) foundLms.delete(conn);
    });
    foundLms.set(conn, search);
    found = search;
  }
  return found;
}
