/**
 * `LMStudioClient`: discovery, download, load and unload over HTTP (web-standard `fetch` only),
 * for LM Studio 0.2 through 0.4, with `lms` as the fallback route where the server has no REST
 * API for a job and runs on this machine.
 *
 * @module
 */
import { DEFAULT_BASE_URL } from "./config.ts";
import { type CallOptions, DEFAULT_TIMEOUTS, sleep, withDeadline } from "./deadline.ts";
import { LMStudioError, registerSecret } from "./errors.ts";
import {
  type FetchLike,
  type HttpAnswer,
  type HttpTarget,
  isUnknownRouteAnswer,
  request,
  serverErrorOf,
} from "./http.ts";
import { findLms, type LmsLocation } from "./lms_find.ts";
import { Lms } from "./lms.ts";
import { matchModel, type ModelMatchResult } from "./model_match.ts";
import { validateModelName } from "./model_name.ts";
import { type ApiFamily, looksLikeModelList, type ModelInfo, MODELS_PATH, parseModelList } from "./models.ts";
import type { DownloadProgress, LoadProgress } from "./progress.ts";
import { type EnvReader, getEnv } from "./runtime.ts";
import { isLocalServer, normalizeBaseUrl } from "./url.ts";

/** Options of {@linkcode LMStudioClient}. Explicit options win over the environment. */
export interface LMStudioClientOptions {
  /** Server URL, with or without `/v1`. Default: `LMSTUDIO_URL`, else `http://localhost:1234`. */
  baseUrl?: string;
  /** Bearer token for servers with authentication on. Default: `LM_API_TOKEN`. Never printed. */
  apiToken?: string;
  /**
   * Where `apiToken` came from, named in hints (e.g. `--token` or the variable's name; never the
   * value). Default: `--token` for an explicit token, else `LM_API_TOKEN`.
   */
  apiTokenSource?: string;
  /** The `fetch` to use (default: the global one). */
  fetch?: FetchLike;
  /** Where to read environment variables (default: the process environment). */
  env?: EnvReader;
  /** The `lms` binary to use, skipping discovery. Default: `LMSTUDIO_LMS_PATH`, then discovery. */
  lmsPath?: string;
  /** A ready `Lms` instance (tests, custom setups). */
  lms?: Lms;
  /** Whether the server runs on this machine (decides if `lms` may act for it). Default: from the URL. */
  local?: boolean;
  /** Smallest poll interval for download status, in ms (default 250). */
  pollIntervalMs?: number;
}

/** What {@linkcode LMStudioClient.check} found. */
export interface ServerStatus {
  /** Always true: an unreachable server makes `check` reject. */
  reachable: true;
  /** The best API family the server answered with. */
  api: ApiFamily;
  /** The normalised base URL. */
  baseUrl: string;
  /** Whether a token was sent (and accepted, since a rejection makes `check` reject). */
  authenticated: boolean;
}

/** Options of {@linkcode LMStudioClient.downloadModel}. */
export interface DownloadOptions extends CallOptions {
  /** Called with progress snapshots. */
  onProgress?: (progress: DownloadProgress) => void;
  /** `auto` (default): REST v1 when the server has it, else `lms get` when the server is local. */
  route?: "auto" | "rest" | "lms";
  /** Quantization for Hugging Face links (REST v1 only). */
  quantization?: string;
}

/** What a download did. */
export interface DownloadResult {
  /** The name that was downloaded. */
  model: string;
  /** How. */
  route: "rest" | "lms";
  /** The server already had it: nothing was downloaded. */
  alreadyDownloaded: boolean;
  /** REST v1 job id, when there was a job. */
  jobId?: string;
  /** Total bytes, when known. */
  totalBytes?: number;
}

/** Options of {@linkcode LMStudioClient.loadModel}. */
export interface LoadOptions extends CallOptions {
  /** Context length to load with. */
  contextLength?: number;
  /** Idle TTL in seconds (needs `lms`; REST v1 does not document it). */
  ttlSeconds?: number;
  /** REST v1 llama.cpp options, passed through. */
  flashAttention?: boolean;
  /** REST v1 llama.cpp option. */
  evalBatchSize?: number;
  /** REST v1 MoE option. */
  numExperts?: number;
  /** REST v1 llama.cpp option. */
  offloadKvCacheToGpu?: boolean;
  /** Called with load progress where the route reports it. */
  onProgress?: (progress: LoadProgress) => void;
  /** `auto` (default): REST v1, else `lms load` (local), else a JIT warm-up request. */
  route?: "auto" | "rest" | "lms" | "jit";
}

/** What a load did. */
export interface LoadResult {
  /** The model id that is loaded. */
  model: string;
  /** The instance id to use in requests, when known. */
  instanceId: string | null;
  /** It was loaded already: nothing was done. */
  alreadyLoaded: boolean;
  /** How it was loaded (or found loaded). */
  route: "rest" | "lms" | "jit" | "none";
  /** Seconds the load took, when the server says. */
  loadTimeSeconds?: number;
}

/** What an unload did. */
export interface UnloadResult {
  /** Instance ids that were unloaded. */
  unloaded: string[];
}

/** Options of {@linkcode LMStudioClient.waitForServer}. */
export interface WaitOptions extends CallOptions {
  /** Called before each retry with the attempt number and the last error. */
  onRetry?: (attempt: number, error: LMStudioError) => void;
}

interface Detection {
  api: ApiFamily;
  /** The listing that answered the probe, reused once if still fresh (saves a request). */
  listing?: { json: unknown; at: number };
}

const LISTING_FRESH_MS = 1000;

function probeNote(answer: HttpAnswer): string {
  const error = serverErrorOf(answer.json);
  if (error) return `${answer.endpoint} → HTTP ${answer.status} ${error.message.slice(0, 80)}`;
  const kind = answer.json === undefined
    ? (answer.text.trim() === "" ? "empty body" : "not JSON")
    : "unexpected JSON";
  return `${answer.endpoint} → HTTP ${answer.status} (${kind})`;
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
  readonly #http: HttpTarget;
  readonly #env: EnvReader;
  readonly #lmsPath?: string;
  #lms?: Lms;
  readonly #local: boolean;
  readonly #pollMs: number;
  #detection?: Promise<Detection>;

  /** Builds a client; options win over `LMSTUDIO_URL`, `LM_API_TOKEN`, `LMSTUDIO_LMS_PATH`. */
  constructor(options: LMStudioClientOptions = {}) {
    const env = options.env ?? getEnv;
    this.#env = env;
    const fromEnv = (name: string) => {
      const value = env(name);
      return value === undefined || value.trim() === "" ? undefined : value;
    };
    this.baseUrl = normalizeBaseUrl(options.baseUrl ?? fromEnv("LMSTUDIO_URL") ?? DEFAULT_BASE_URL);
    const given = options.apiToken ?? fromEnv("LM_API_TOKEN");
    registerSecret(given);
    // Surrounding whitespace (a token read from a file) is not part of it; fetch would drop it too.
    const token = given?.trim();
    registerSecret(token);
    const tokenSource = options.apiTokenSource ??
      (options.apiToken !== undefined ? "--token" : "LM_API_TOKEN");
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
    const fetchImpl: FetchLike = options.fetch ?? ((input, init) => fetch(input, init));
    this.#http = {
      baseUrl: this.baseUrl,
      token: token === "" ? undefined : token,
      tokenSource,
      fetch: fetchImpl,
    };
    this.#lmsPath = options.lmsPath ?? fromEnv("LMSTUDIO_LMS_PATH");
    this.#lms = options.lms;
    this.#local = options.local ?? isLocalServer(this.baseUrl);
    this.#pollMs = options.pollIntervalMs ?? 250;
  }

  /**
   * The seed's constructor: builds a client from a config and fails with a clear error when the
   * server is not reachable.
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
    const client = new LMStudioClient({ ...options, ...definedOnly(config) });
    await client.check({ signal: options.signal, timeoutMs: options.timeoutMs });
    return client;
  }

  /** Whether the server is on this machine (so `lms` may act for it). */
  get isLocal(): boolean {
    return this.#local;
  }

  /**
   * Is the server reachable, is it LM Studio, is the token accepted, which API family does it
   * speak? One request when REST v1 answers.
   *
   * @example
   * ```ts
   * import { LMStudioClient } from "@vtcode/lmstudio";
   * const { api } = await new LMStudioClient().check({ timeoutMs: 2000 });
   * ```
   */
  check(options: CallOptions = {}): Promise<ServerStatus> {
    return withDeadline(`Checking ${this.baseUrl}`, options, DEFAULT_TIMEOUTS.check, async (signal) => {
      return await this.#freshStatus(signal);
    });
  }

  /** Detects afresh (the server may have changed since the last call) and reports the status. */
  async #freshStatus(signal: AbortSignal): Promise<ServerStatus> {
    this.#detection = undefined;
    const detection = await this.#detect(signal);
    return { reachable: true, api: detection.api, baseUrl: this.baseUrl, authenticated: !!this.#http.token };
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
      return (await this.#detect(signal)).api;
    });
  }

  #detect(signal: AbortSignal): Promise<Detection> {
    if (!this.#detection) {
      const running = this.#probe(signal);
      this.#detection = running;
      // A failed detection is not cached: the next call probes again.
      running.catch(() => {
        if (this.#detection === running) this.#detection = undefined;
      });
    }
    return this.#detection;
  }

  /** The probe's listing is only good until the client changes something on the server. */
  async #forgetListing(): Promise<void> {
    const detection = await this.#detection?.catch(() => undefined);
    if (detection) detection.listing = undefined;
  }

  async #probe(signal: AbortSignal): Promise<Detection> {
    const notes: string[] = [];
    let lmStudioFingerprint = false;
    for (const api of ["v1", "v0", "openai"] as const) {
      const answer = await request(this.#http, "GET", MODELS_PATH[api], { signal });
      if (answer.status === 200 && looksLikeModelList(api, answer.json)) {
        if (api === "openai" && !lmStudioFingerprint && !(await this.#greets(signal))) {
          throw new LMStudioError(
            "NOT_LMSTUDIO",
            `Something answers at ${this.baseUrl}, but it is not LM Studio (it speaks the OpenAI API only and ` +
              `does not answer /lmstudio-greeting)`,
            {
              hint:
                "Another server (Ollama? llama.cpp?) is on that port: point --url at LM Studio's port (default 1234).",
              endpoint: answer.endpoint,
            },
          );
        }
        return { api, listing: { json: answer.json, at: Date.now() } };
      }
      if (isUnknownRouteAnswer(answer.json)) lmStudioFingerprint = true;
      else if (answer.status === 200 && api === "v1" && isObjectWith(answer.json, "models")) {
        // LM Studio's own endpoint in a shape it does not use: say so rather than guess on.
        await parseModelList(api, answer.json);
      }
      notes.push(probeNote(answer));
      if (
        api === "openai" && answer.status === 200 && answer.json !== undefined &&
        serverErrorOf(answer.json) === undefined
      ) {
        if (lmStudioFingerprint || (isObjectWith(answer.json, "object") && !Array.isArray(answer.json))) {
          throw new LMStudioError(
            "INVALID_RESPONSE",
            `No 'data' array in response from GET /v1/models at ${this.baseUrl}`,
            {
              hint:
                "The server answered in a shape LM Studio does not use: check --url and the LM Studio version.",
              endpoint: answer.endpoint,
              status: answer.status,
            },
          );
        }
      }
    }
    if (lmStudioFingerprint) {
      throw new LMStudioError(
        "INVALID_RESPONSE",
        `LM Studio at ${this.baseUrl} answered, but none of its model endpoints worked (${notes.join("; ")})`,
        { hint: "Restart the LM Studio server (`lms server stop && lms server start`) and retry." },
      );
    }
    throw new LMStudioError(
      "NOT_LMSTUDIO",
      `Something answers at ${this.baseUrl}, but it is not LM Studio (${notes.join("; ")})`,
      { hint: "Point --url / LMSTUDIO_URL at LM Studio's server (default http://localhost:1234)." },
    );
  }

  async #greets(signal: AbortSignal): Promise<boolean> {
    try {
      const answer = await request(this.#http, "GET", "/lmstudio-greeting", { signal, maxBytes: 64 * 1024 });
      return answer.status === 200 && (answer.json as { lmstudio?: unknown } | undefined)?.lmstudio === true;
    } catch (error) {
      if (error instanceof LMStudioError && (error.code === "TIMEOUT" || error.code === "INTERRUPTED")) {
        throw error;
      }
      return false;
    }
  }

  /**
   * The seed's listing: the ids of the models the server knows.
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
      (signal) => this.#list(signal),
    );
  }

  async #list(signal: AbortSignal): Promise<ModelInfo[]> {
    const detection = await this.#detect(signal);
    const listing = detection.listing;
    if (listing && Date.now() - listing.at <= LISTING_FRESH_MS) {
      // Reuse the probe's answer once: on the hot path (ensure of a loaded model) that is the only request.
      detection.listing = undefined;
      return await parseModelList(detection.api, listing.json);
    }
    const answer = await request(this.#http, "GET", MODELS_PATH[detection.api], { signal });
    const error = serverErrorOf(answer.json);
    if (answer.status !== 200 || error) {
      throw new LMStudioError(
        "INVALID_RESPONSE",
        `Failed to fetch models: HTTP ${answer.status}${error ? ` ${error.message}` : ""}`,
        {
          status: answer.status,
          endpoint: answer.endpoint,
          hint: "Check the LM Studio server log (lms log stream).",
        },
      );
    }
    if (answer.json === undefined) {
      throw new LMStudioError(
        "INVALID_RESPONSE",
        `JSON parse error: the answer to ${answer.endpoint} is not JSON`,
        {
          status: answer.status,
          endpoint: answer.endpoint,
          hint: "Check that --url points at LM Studio.",
        },
      );
    }
    return await parseModelList(detection.api, answer.json);
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
        return matchModel(name, await this.#list(signal));
      },
    );
  }

  /**
   * Finds (and caches) the `lms` binary: the `lmsPath` option, `LMSTUDIO_LMS_PATH`, PATH, then
   * LM Studio's home folder.
   *
   * @example
   * ```ts
   * import { LMStudioClient } from "@vtcode/lmstudio";
   * console.log(new LMStudioClient().lms().path);
   * ```
   */
  lms(): Lms {
    if (!this.#lms) {
      const location: LmsLocation = findLms({ path: this.#lmsPath, env: this.#env });
      this.#lms = new Lms(location);
    }
    return this.#lms;
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
    return withDeadline(`Downloading ${name}`, options, DEFAULT_TIMEOUTS.download, async (signal) => {
      validateModelName(name);
      const route = await this.#downloadRoute(options.route ?? "auto", signal);
      await this.#forgetListing();
      if (route === "lms") {
        const { alreadyDownloaded } = await this.lms().get(name, { signal, onProgress: options.onProgress });
        return { model: name, route, alreadyDownloaded };
      }
      return await this.#restDownload(name, options, signal);
    });
  }

  async #downloadRoute(route: "auto" | "rest" | "lms", signal: AbortSignal): Promise<"rest" | "lms"> {
    if (route === "lms") {
      this.#requireLocal("download");
      return "lms";
    }
    const api = (await this.#detect(signal)).api;
    if (api === "v1") return "rest";
    if (route === "rest") throw this.#noRestApi("download", api);
    this.#requireLocal("download", api);
    return "lms";
  }

  #requireLocal(what: string, api?: ApiFamily): void {
    if (this.#local) return;
    throw new LMStudioError(
      "UNSUPPORTED",
      `Cannot ${what} on ${this.baseUrl}: ${api ? `it has no REST v1 API (it speaks ${api}) and ` : ""}` +
        "it is not on this machine, and `lms` acts only on this machine",
      { hint: `Upgrade LM Studio on that machine to 0.4 or newer, or run \`lms\` there.` },
    );
  }

  #noRestApi(what: string, api: ApiFamily): LMStudioError {
    return new LMStudioError(
      "UNSUPPORTED",
      `The server at ${this.baseUrl} has no REST API to ${what} models (it speaks ${api}; LM Studio 0.4+ has one)`,
      { hint: "Upgrade LM Studio to 0.4 or newer, or use the lms route." },
    );
  }

  async #restDownload(name: string, options: DownloadOptions, signal: AbortSignal): Promise<DownloadResult> {
    const body: Record<string, unknown> = { model: name };
    if (options.quantization) body.quantization = options.quantization;
    const started = await request(this.#http, "POST", "/api/v1/models/download", { body, signal });
    const job = this.#downloadJob(started, name);
    if (job.status === "already_downloaded") return { model: name, route: "rest", alreadyDownloaded: true };
    const jobId = job.job_id;
    if (typeof jobId !== "string" || jobId === "") {
      throw new LMStudioError("INVALID_RESPONSE", `The answer to ${started.endpoint} has no job_id`, {
        endpoint: started.endpoint,
        hint: "Check the LM Studio version (0.4+) and its server log.",
      });
    }
    let snapshot = job;
    let interval = this.#pollMs;
    let lastBytes = 0;
    let lastAt = Date.now();
    for (;;) {
      const total = numberOr(snapshot.total_size_bytes);
      if (snapshot.status === "completed" || snapshot.status === "already_downloaded") {
        if (total !== null) options.onProgress?.(progressOf(total, total, null));
        return {
          model: name,
          route: "rest",
          alreadyDownloaded: false,
          jobId,
          totalBytes: total ?? undefined,
        };
      }
      if (snapshot.status === "failed") {
        throw new LMStudioError("DOWNLOAD_FAILED", `Download of ${name} failed (job ${jobId})`, {
          hint: "Check LM Studio's Downloads panel and disk space, then run again to retry.",
        });
      }
      if (snapshot.status === "paused") {
        throw new LMStudioError(
          "DOWNLOAD_FAILED",
          `Download of ${name} is paused in LM Studio (job ${jobId})`,
          {
            hint: "Resume it in LM Studio's Downloads panel, or run again once it completes.",
          },
        );
      }
      const downloaded = numberOr(snapshot.downloaded_bytes);
      if (downloaded !== null) {
        const now = Date.now();
        const measured = now > lastAt ? ((downloaded - lastBytes) * 1000) / (now - lastAt) : null;
        const speed = numberOr(snapshot.bytes_per_second) ??
          (measured !== null && measured >= 0 ? measured : null);
        options.onProgress?.(progressOf(downloaded, total, speed));
        lastBytes = downloaded;
        lastAt = now;
      }
      await sleep(interval, signal);
      interval = Math.min(interval * 1.5, 2000);
      const status = await request(
        this.#http,
        "GET",
        `/api/v1/models/download/status/${encodeURIComponent(jobId)}`,
        {
          signal,
        },
      );
      snapshot = this.#downloadJob(status, name);
    }
  }

  // deno-lint-ignore no-explicit-any
  #downloadJob(answer: HttpAnswer, name: string): any {
    const error = serverErrorOf(answer.json);
    if (error) {
      const notFound = error.type === "model_not_found" || error.code === "model_not_found";
      if (isUnknownRouteAnswer(answer.json)) {
        throw this.#noRestApi("download", "v0");
      }
      throw new LMStudioError(
        notFound ? "MODEL_NOT_FOUND" : "DOWNLOAD_FAILED",
        `Download of ${name} failed: ${error.message}`,
        {
          status: answer.status,
          endpoint: answer.endpoint,
          hint: notFound
            ? "Check the model id in LM Studio's catalog (e.g. openai/gpt-oss-20b) or pass a Hugging Face link."
            : "Check the LM Studio server log (lms log stream) and retry.",
        },
      );
    }
    const json = answer.json as { status?: unknown } | undefined;
    const statuses = ["downloading", "paused", "completed", "failed", "already_downloaded"];
    if (
      answer.status >= 300 || !json || typeof json !== "object" || !statuses.includes(json.status as string)
    ) {
      throw new LMStudioError(
        "INVALID_RESPONSE",
        `Malformed answer from ${answer.endpoint}: field status: expected one of ${statuses.join(", ")}`,
        { status: answer.status, endpoint: answer.endpoint, hint: "Check the LM Studio version (0.4+)." },
      );
    }
    return json;
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
    return withDeadline(`Loading ${name}`, options, DEFAULT_TIMEOUTS.load, async (signal) => {
      validateModelName(name);
      const api = (await this.#detect(signal)).api;
      const route = options.route ?? "auto";
      if (route === "jit" || (route === "auto" && api === "openai")) {
        await this.#forgetListing();
        return await this.#warmUp(name, signal);
      }
      const match = await this.#requireModel(name, signal);
      const model = match.model!;
      const instance = model.instances?.[0];
      if (model.loaded && instance) {
        return {
          model: model.id,
          instanceId: match.instanceId ?? instance.id,
          alreadyLoaded: true,
          route: "none",
        };
      }
      await this.#forgetListing();
      const canLms = this.#local && route !== "rest";
      if (route === "lms" || (api !== "v1" && canLms) || (options.ttlSeconds !== undefined && canLms)) {
        if (!this.#local) this.#requireLocal("load", api);
        const { identifier } = await this.lms().load(model.id, {
          signal,
          ttlSeconds: options.ttlSeconds,
          contextLength: options.contextLength,
          onProgress: options.onProgress ? (fraction) => options.onProgress!({ fraction }) : undefined,
        });
        return { model: model.id, instanceId: identifier, alreadyLoaded: false, route: "lms" };
      }
      if (api !== "v1") {
        if (route === "rest") throw this.#noRestApi("load", api);
        return await this.#warmUp(model.id, signal);
      }
      if (options.ttlSeconds !== undefined) {
        throw new LMStudioError("USAGE", "A load TTL needs `lms` (REST v1 does not document one)", {
          hint: "Install LM Studio's `lms` on this machine, or drop the TTL.",
        });
      }
      return await this.#restLoad(model, options, signal);
    });
  }

  /** The listed model a name refers to, or MODEL_NOT_FOUND with suggestions. */
  async #requireModel(name: string, signal: AbortSignal): Promise<ModelMatchResult> {
    const match = matchModel(name, await this.#list(signal));
    if (match.model) return match;
    const suggestions = match.suggestions.length > 0 ? ` Did you mean: ${match.suggestions.join(", ")}?` : "";
    const what = match.ambiguous ? "matches several models" : "is not downloaded";
    throw new LMStudioError("MODEL_NOT_FOUND", `Model ${name} ${what} on ${this.baseUrl}.${suggestions}`, {
      hint: match.ambiguous
        ? "Use the full model id (publisher/name)."
        : `Download it first (vtcode-lmstudio download ${name}) or check the name with \`vtcode-lmstudio models\`.`,
    });
  }

  async #restLoad(model: ModelInfo, options: LoadOptions, signal: AbortSignal): Promise<LoadResult> {
    const body: Record<string, unknown> = { model: model.id };
    if (options.contextLength !== undefined) body.context_length = options.contextLength;
    if (options.flashAttention !== undefined) body.flash_attention = options.flashAttention;
    if (options.evalBatchSize !== undefined) body.eval_batch_size = options.evalBatchSize;
    if (options.numExperts !== undefined) body.num_experts = options.numExperts;
    if (options.offloadKvCacheToGpu !== undefined) body.offload_kv_cache_to_gpu = options.offloadKvCacheToGpu;
    options.onProgress?.({ fraction: null });
    const answer = await request(this.#http, "POST", "/api/v1/models/load", { body, signal });
    const error = serverErrorOf(answer.json);
    if (error || answer.status >= 300) {
      const notFound = error?.type === "model_not_found" || error?.code === "model_not_found";
      throw new LMStudioError(
        notFound ? "MODEL_NOT_FOUND" : "LOAD_FAILED",
        `Failed to load model ${model.id}: ${error?.message ?? `HTTP ${answer.status}`}`,
        {
          status: answer.status,
          endpoint: answer.endpoint,
          hint: notFound
            ? "Check the model id with `vtcode-lmstudio models`."
            : "Check free memory and LM Studio's server log (lms log stream); a smaller context length may help.",
        },
      );
    }
    const json = answer.json as { instance_id?: unknown; load_time_seconds?: unknown } | undefined;
    if (!json || typeof json.instance_id !== "string") {
      throw new LMStudioError(
        "INVALID_RESPONSE",
        `Malformed answer from ${answer.endpoint}: field instance_id: missing`,
        {
          status: answer.status,
          endpoint: answer.endpoint,
          hint: "Check the LM Studio version (0.4+).",
        },
      );
    }
    options.onProgress?.({ fraction: 1 });
    const result: LoadResult = {
      model: model.id,
      instanceId: json.instance_id,
      alreadyLoaded: false,
      route: "rest",
    };
    if (typeof json.load_time_seconds === "number") result.loadTimeSeconds = json.load_time_seconds;
    return result;
  }

  /** Codex's way: a one-token request makes LM Studio load the model just in time. */
  async #warmUp(name: string, signal: AbortSignal): Promise<LoadResult> {
    let answer = await request(this.#http, "POST", "/v1/responses", {
      body: { model: name, input: "", max_output_tokens: 1 },
      signal,
    });
    if (isUnknownRouteAnswer(answer.json)) {
      // LM Studio before 0.3.29 has no /v1/responses.
      answer = await request(this.#http, "POST", "/v1/chat/completions", {
        body: { model: name, messages: [{ role: "user", content: "hi" }], max_tokens: 1 },
        signal,
      });
    }
    const error = serverErrorOf(answer.json);
    if (error || answer.status >= 300) {
      const message = error?.message ?? `HTTP ${answer.status}`;
      const notFound = error?.code === "model_not_found" ||
        /not found|invalid model identifier/i.test(message);
      throw new LMStudioError(
        notFound ? "MODEL_NOT_FOUND" : "LOAD_FAILED",
        `Failed to load model ${name}: ${message}`,
        {
          status: answer.status,
          endpoint: answer.endpoint,
          hint: /no models loaded/i.test(message)
            ? "Turn on Just-in-Time model loading in LM Studio's server settings, or load it with `lms load`."
            : "Check the model id with `vtcode-lmstudio models` and LM Studio's server log.",
        },
      );
    }
    // A 200 that is not JSON (an HTML page, an empty body) is no proof that anything loaded.
    if (!isObjectJson(answer.json)) throw notAnObject(answer);
    const answered = (answer.json as { model?: unknown }).model;
    // With one model loaded, LM Studio answers with it whatever was asked: that is not a load.
    if (typeof answered === "string" && answered.replace(/:\d+$/, "").toLowerCase() !== name.toLowerCase()) {
      throw new LMStudioError(
        "LOAD_FAILED",
        `LM Studio answered with ${answered} instead of loading ${name}`,
        {
          endpoint: answer.endpoint,
          hint: "Turn on Just-in-Time model loading in LM Studio, or load the model with `lms load`.",
        },
      );
    }
    return {
      model: name,
      instanceId: typeof answered === "string" ? answered : null,
      alreadyLoaded: false,
      route: "jit",
    };
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
    const what = typeof target === "string" ? target : "all models";
    return withDeadline(`Unloading ${what}`, options, DEFAULT_TIMEOUTS.unload, async (signal) => {
      if (typeof target === "string") validateModelName(target);
      const api = (await this.#detect(signal)).api;
      // The same name rules on every server: an unknown model is MODEL_NOT_FOUND, a known one that
      // is not loaded is "nothing to unload".
      const match = typeof target === "string" ? await this.#requireModel(target, signal) : undefined;
      if (api !== "v1") {
        await this.#forgetListing();
        this.#requireLocal("unload", api);
        const lms = this.lms();
        if (!match) {
          const before = await lms.ps({ signal });
          await lms.unload({ all: true }, { signal });
          return { unloaded: before.map((i) => i.identifier) };
        }
        const loaded = await lms.ps({ signal });
        const ids = loaded
          .filter((i) =>
            match.instanceId ? i.identifier === match.instanceId : i.modelKey === match.model!.id
          )
          .map((i) => i.identifier);
        for (const id of ids) await lms.unload(id, { signal });
        return { unloaded: ids };
      }
      const ids = match
        ? (match.instanceId ? [match.instanceId] : (match.model!.instances ?? []).map((i) => i.id))
        : (await this.#list(signal)).flatMap((m) => (m.instances ?? []).map((i) => i.id));
      await this.#forgetListing();
      for (const id of ids) {
        const answer = await request(this.#http, "POST", "/api/v1/models/unload", {
          body: { instance_id: id },
          signal,
        });
        const error = serverErrorOf(answer.json);
        if (error || answer.status >= 300) {
          throw new LMStudioError(
            "INTERNAL",
            `Failed to unload ${id}: ${error?.message ?? `HTTP ${answer.status}`}`,
            {
              status: answer.status,
              endpoint: answer.endpoint,
              hint: "Check LM Studio's server log (lms log stream).",
            },
          );
        }
        // LM Studio answers `{"instance_id": ...}`; anything else does not say it unloaded.
        if (!isObjectJson(answer.json)) throw notAnObject(answer);
      }
      return { unloaded: ids };
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
      async (signal) => {
        if (!this.#local) {
          throw new LMStudioError(
            "SERVER_UNREACHABLE",
            `The server at ${this.baseUrl} is not on this machine, so it cannot be started from here`,
            {
              hint: "Start LM Studio's server on that machine (`lms server start`).",
            },
          );
        }
        const url = new URL(this.baseUrl);
        const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
        await this.lms().serverStart({ signal, port });
        return await this.waitForServer({ signal, onRetry: options.onRetry });
      },
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
    return withDeadline(`Waiting for ${this.baseUrl}`, options, DEFAULT_TIMEOUTS.wait, async (signal) => {
      let delay = 100;
      for (let attempt = 1;; attempt++) {
        try {
          return await this.#freshStatus(signal);
        } catch (error) {
          if (!(error instanceof LMStudioError) || error.code !== "SERVER_UNREACHABLE") throw error;
          options.onRetry?.(attempt, error);
          await sleep(delay, signal);
          delay = Math.min(delay * 2, 1000);
        }
      }
    });
  }
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** A success status whose body is not the JSON object LM Studio sends (HTML, empty, text). */
function notAnObject(answer: HttpAnswer): LMStudioError {
  const what = answer.text.trim() === "" ? "empty body" : "not a JSON object";
  return new LMStudioError("INVALID_RESPONSE", `Malformed answer from ${answer.endpoint}: ${what}`, {
    status: answer.status,
    endpoint: answer.endpoint,
    hint: "Check that --url points at LM Studio and that its server is healthy.",
  });
}

function isObjectJson(json: unknown): boolean {
  return json !== null && typeof json === "object" && !Array.isArray(json);
}

function isObjectWith(json: unknown, key: string): boolean {
  return json !== null && typeof json === "object" && !Array.isArray(json) && key in json;
}

function numberOr(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : null;
}

function progressOf(downloaded: number, total: number | null, speed: number | null): DownloadProgress {
  const percent = total ? Math.min(100, (downloaded / total) * 100) : null;
  const eta = total && speed && speed > 0 ? Math.max(0, (total - downloaded) / speed) : null;
  return { downloadedBytes: downloaded, totalBytes: total, bytesPerSecond: speed, percent, etaSeconds: eta };
}
