/**
 * `LMStudioClient`: the public face of one LM Studio server. Each job lives in its own module
 * (detect, listing, download, load, unload, server_control); this file resolves the options and
 * gives every method its deadline. HTTP only, through web-standard `fetch`: nothing here touches
 * the file system (the `lms` fallback is imported on first use).
 *
 * @module
 */
import { configuredBaseUrl, mergeConfig, tokenSourceOf } from "./config.ts";
import { connect, type Connection } from "./connection.ts";
import { type CallOptions, DEFAULT_TIMEOUTS, withDeadline } from "./deadline.ts";
import { downloadModel, type DownloadOptions, type DownloadResult } from "./download.ts";
import type { FetchLike } from "./http.ts";
import { listModels } from "./listing.ts";
import { loadModel, type LoadOptions, type LoadResult } from "./load.ts";
import { matchModel, type ModelMatchResult } from "./model_match.ts";
import { validateModelName } from "./model_name.ts";
import { listenerOption } from "./listener.ts";
import { givenOnly, optionsObject } from "./options.ts";
import { LMStudioError } from "./errors.ts";
import type { ApiFamily, ModelInfo, ModelInstance } from "./models.ts";
import type { DownloadProgress, LoadProgress } from "./progress.ts";
import { type EnvReader, getEnv } from "./runtime.ts";
import {
  checkServer,
  type ServerStatus,
  startServer,
  waitForServer,
  type WaitOptions,
} from "./server_control.ts";
import { unloadModel, type UnloadResult } from "./unload.ts";

export type {
  DownloadOptions,
  DownloadResult,
  LoadOptions,
  LoadResult,
  ServerStatus,
  UnloadResult,
  WaitOptions,
};

/** Options of {@linkcode LMStudioClient}. Explicit options win over the environment. */
export interface LMStudioClientOptions {
  /** Server URL, with or without `/v1`. Default: `LMSTUDIO_URL`, else `http://localhost:1234`. */
  baseUrl?: string;
  /** Bearer token for servers with authentication on. Default: `LM_API_TOKEN`. Never printed. */
  apiToken?: string;
  /** The environment variable the token is read from when `apiToken` is not given (default `LM_API_TOKEN`). */
  apiTokenEnv?: string;
  /** The `fetch` to use (default: the global one). */
  fetch?: FetchLike;
  /** Where to read environment variables (default: the process environment). */
  env?: EnvReader;
  /** The `lms` binary to use, skipping discovery. Default: `LMSTUDIO_LMS_PATH`, then discovery. */
  lmsPath?: string;
  /** Whether the server runs on this machine (decides if `lms` may act for it). Default: from the URL. */
  local?: boolean;
  /** Smallest poll interval for download status, in ms (default 250). */
  pollIntervalMs?: number;
}

/**
 * A client for one LM Studio server.
 *
 * @example
 * ```ts
 * import { LMStudioClient } from "@vtcode/lmstudio";
 * const client = new LMStudioClient({ baseUrl: "http://localhost:1234" });
 * const status = await client.check();
 * console.log(status.api, await client.fetchModels());
 * ```
 */
export class LMStudioClient {
  /** The normalised base URL (no `/v1`, no trailing slash). */
  readonly baseUrl: string;
  readonly #conn: Connection;

  /**
   * Builds a client; options win over `LMSTUDIO_URL`, `LM_API_TOKEN`, `LMSTUDIO_LMS_PATH` (empty
   * values count as not given). No file is read: `resolveConfig` adds `vtcode.toml` and LM Studio's
   * saved port.
   */
  constructor(options: LMStudioClientOptions = {}) {
    options = optionsObject(options, "options");
    const env = options.env ?? getEnv;
    // The file-free half of the one configuration precedence (options > environment > defaults).
    const config = mergeConfig({
      env,
      overrides: {
        baseUrl: options.baseUrl,
        apiToken: options.apiToken,
        apiTokenEnv: options.apiTokenEnv,
        lmsPath: options.lmsPath,
      },
    });
    this.#conn = connect({
      baseUrl: configuredBaseUrl(config),
      token: config.apiToken,
      tokenSource: tokenSourceOf(config),
      fetch: options.fetch,
      local: options.local,
      pollMs: options.pollIntervalMs,
      env,
      lmsPath: config.lmsPath,
    });
    this.baseUrl = this.#conn.baseUrl;
  }

  /**
   * The Rust crate's constructor: builds a client from a config and fails with a clear error when
   * the server is not reachable.
   *
   * @example
   * ```ts
   * import { LMStudioClient } from "@vtcode/lmstudio";
   * const client = await LMStudioClient.tryFromProvider({ baseUrl: "http://localhost:1234" });
   * ```
   */
  static async tryFromProvider(
    config: { baseUrl?: string; apiToken?: string; lmsPath?: string } = {},
    options: LMStudioClientOptions & CallOptions = {},
  ): Promise<LMStudioClient> {
    const client = new LMStudioClient({ ...options, ...givenOnly(config) });
    await client.check({ signal: options?.signal, timeoutMs: options?.timeoutMs });
    return client;
  }

  /** Whether the server is on this machine (so `lms` may act for it). */
  get isLocal(): boolean {
    return this.#conn.local;
  }

  /**
   * Is the server reachable, is it LM Studio, is the token accepted, which API family does it
   * speak? One request when REST v1 answers; the listing that answers must be well-formed.
   *
   * @example
   * ```ts
   * import { LMStudioClient } from "@vtcode/lmstudio";
   * const { api } = await new LMStudioClient().check({ timeoutMs: 2000 });
   * ```
   */
  check(options: CallOptions = {}): Promise<ServerStatus> {
    return checkServer(this.#conn, options);
  }

  /**
   * The API family, detected once per client (REST v1, else v0, else OpenAI `/v1/models`).
   *
   * @example
   * ```ts
   * import { LMStudioClient } from "@vtcode/lmstudio";
   * console.log(await new LMStudioClient().detectApi());
   * ```
   */
  detectApi(options: CallOptions = {}): Promise<ApiFamily> {
    return withDeadline(`Checking ${this.baseUrl}`, options, DEFAULT_TIMEOUTS.check, async (signal) => {
      return (await this.#conn.detect(signal)).api;
    });
  }

  /**
   * The Rust crate's listing: the ids of the models the server knows.
   *
   * @example
   * ```ts
   * import { LMStudioClient } from "@vtcode/lmstudio";
   * const ids = await new LMStudioClient().fetchModels();
   * ```
   */
  async fetchModels(options: CallOptions = {}): Promise<string[]> {
    return (await this.listModels(options)).map((model) => model.id);
  }

  /**
   * Rich model listing with loaded state (`loaded: null` where the server cannot say).
   *
   * @example
   * ```ts
   * import { LMStudioClient } from "@vtcode/lmstudio";
   * for (const m of await new LMStudioClient().listModels()) console.log(m.id, m.loaded);
   * ```
   */
  listModels(options: CallOptions = {}): Promise<ModelInfo[]> {
    return withDeadline(
      `Listing models at ${this.baseUrl}`,
      options,
      DEFAULT_TIMEOUTS.list,
      (signal) => listModels(this.#conn, signal),
    );
  }

  /**
   * Finds the model a name refers to among the listed ones (exact first, then tolerant forms of
   * the same model; never a different model), with suggestions when there is none.
   *
   * @example
   * ```ts
   * import { LMStudioClient } from "@vtcode/lmstudio";
   * const found = await new LMStudioClient().findModel("gpt-oss-20b");
   * console.log(found.model?.id ?? `did you mean ${found.suggestions.join(", ")}`);
   * ```
   */
  findModel(name: string, options: CallOptions = {}): Promise<ModelMatchResult> {
    return withDeadline(
      `Listing models at ${this.baseUrl}`,
      options,
      DEFAULT_TIMEOUTS.list,
      async (signal) => {
        validateModelName(name);
        return matchModel(name, await listModels(this.#conn, signal));
      },
    );
  }

  /**
   * Downloads a model: REST v1 (job + status polling) when the server has it, else `lms get` when
   * the server is on this machine. A remote server without REST v1 is an error, never a download
   * onto the wrong disk.
   *
   * @example
   * ```ts
   * import { LMStudioClient } from "@vtcode/lmstudio";
   * await new LMStudioClient().downloadModel("openai/gpt-oss-20b", {
   *   onProgress: (p) => console.error(`${p.percent?.toFixed(1)}%`),
   * });
   * ```
   */
  downloadModel(name: string, options: DownloadOptions = {}): Promise<DownloadResult> {
    return withDeadline(`Downloading ${name}`, options, DEFAULT_TIMEOUTS.download, (signal) => {
      validateModelName(name);
      const given = optionsObject(options, "options");
      const onProgress = listenerOption<[DownloadProgress]>(given, "onProgress");
      return downloadModel(this.#conn, name, { ...given, onProgress }, signal);
    });
  }

  /**
   * Loads a model, never creating a second instance of a model already loaded: REST v1 when the
   * server has it, else `lms load` (server on this machine), else a JIT warm-up request.
   *
   * @example
   * ```ts
   * import { LMStudioClient } from "@vtcode/lmstudio";
   * const { instanceId } = await new LMStudioClient().loadModel("openai/gpt-oss-20b", { contextLength: 16384 });
   * ```
   */
  loadModel(name: string, options: LoadOptions = {}): Promise<LoadResult> {
    return withDeadline(`Loading ${name}`, options, DEFAULT_TIMEOUTS.load, (signal) => {
      validateModelName(name);
      const given = optionsObject(options, "options");
      const listeners = {
        onProgress: listenerOption<[LoadProgress]>(given, "onProgress"),
        onReplace: listenerOption<[ModelInstance[]]>(given, "onReplace"),
      };
      return loadModel(this.#conn, name, { ...given, ...listeners }, signal);
    });
  }

  /**
   * Unloads a model's instances (or one instance by id, or everything with `{ all: true }`).
   * A model that is not loaded is not an error: nothing is unloaded.
   *
   * @example
   * ```ts
   * import { LMStudioClient } from "@vtcode/lmstudio";
   * const { unloaded } = await new LMStudioClient().unloadModel({ all: true });
   * ```
   */
  unloadModel(target: string | { all: true }, options: CallOptions = {}): Promise<UnloadResult> {
    const all = typeof target === "object" && target !== null && target.all === true;
    const what = all ? "all models" : typeof target === "string" ? target : "nothing named";
    return withDeadline(`Unloading ${what}`, options, DEFAULT_TIMEOUTS.unload, (signal) => {
      // Only `{ all: true }` says "everything": a missing or mistyped target is never read as it.
      if (!all && typeof target !== "string") {
        throw new LMStudioError(
          "USAGE",
          `unloadModel needs a model id or { all: true }, got ${target === null ? "null" : typeof target}`,
          { hint: "Pass the model (or instance) id to unload, or { all: true } to unload every model." },
        );
      }
      if (typeof target === "string") validateModelName(target);
      return unloadModel(this.#conn, all ? { all: true } : target, signal);
    });
  }

  /**
   * Starts the server with `lms server start` (on the URL's port) and waits until it answers.
   * Only for a server on this machine.
   *
   * @example
   * ```ts
   * import { LMStudioClient } from "@vtcode/lmstudio";
   * await new LMStudioClient().startServer({ timeoutMs: 60_000 });
   * ```
   */
  startServer(options: WaitOptions = {}): Promise<ServerStatus> {
    return withDeadline(
      `Starting the server at ${this.baseUrl}`,
      options,
      DEFAULT_TIMEOUTS.wait,
      (signal) => startServer(this.#conn, retryListener(options), signal),
    );
  }

  /**
   * Waits until the server answers as LM Studio, polling with backoff up to the deadline.
   * Authentication and "not LM Studio" answers end the wait at once: waiting will not fix them.
   *
   * @example
   * ```ts
   * import { LMStudioClient } from "@vtcode/lmstudio";
   * await new LMStudioClient().waitForServer({ timeoutMs: 30_000 });
   * ```
   */
  waitForServer(options: WaitOptions = {}): Promise<ServerStatus> {
    return withDeadline(
      `Waiting for ${this.baseUrl}`,
      options,
      DEFAULT_TIMEOUTS.wait,
      (signal) => waitForServer(this.#conn, retryListener(options), signal),
    );
  }
}

/** `onRetry` of a wait, checked and made quiet. */
function retryListener(options: WaitOptions | null | undefined): WaitOptions["onRetry"] {
  return listenerOption<[number, LMStudioError]>(optionsObject(options, "options"), "onRetry");
}
