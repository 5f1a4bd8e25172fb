/**
 * The main job: make a model ready. `ensureReady` is the strict form (every failure is an error,
 * typed progress events, one deadline, single-flight per model); `ensureOssReady` keeps the Rust
 * crate's forgiving semantics.
 *
 * @module
 */
import {
  type DownloadResult,
  LMStudioClient,
  type LMStudioClientOptions,
  type LoadResult,
  type ServerStatus,
} from "./client.ts";
import { type BaseUrlSource, DEFAULT_MODEL, resolveConfig, type ResolvedConfig } from "./config.ts";
import { type CallOptions, DEFAULT_TIMEOUTS, validDuration, withDeadline } from "./deadline.ts";
import { isLMStudioError, LMStudioError, toLMStudioError } from "./errors.ts";
import { mayComeUp } from "./http.ts";
import type { MatchKind, ModelMatchResult } from "./model_match.ts";
import { matchModel } from "./model_match.ts";
import { validateModelName } from "./model_name.ts";
import { type ModelInfo, type ModelInstance, MODELS_PATH } from "./models.ts";
import { checkContextLength, checkRequired, chooseInstance, requireCapabilities } from "./suitability.ts";
import type { DownloadProgress, LoadProgress } from "./progress.ts";

/** The Rust crate's name for the default model, `openai/gpt-oss-20b` (same as `DEFAULT_MODEL`). */
export const DEFAULT_OSS_MODEL: string = DEFAULT_MODEL;

/** A step of {@linkcode ensureReady}, as listed in `actions`. */
export type EnsureAction = "start-server" | "check" | "list" | "download" | "unload" | "load";

/** Typed progress events of {@linkcode ensureReady}. */
export type EnsureEvent =
  | { type: "step"; step: EnsureAction; message: string }
  | { type: "server"; status: ServerStatus }
  | { type: "resolved"; requested: string; model: string; how: MatchKind | "downloaded" }
  | { type: "download-progress"; model: string; progress: DownloadProgress }
  | { type: "downloaded"; model: string; result: DownloadResult }
  | { type: "load-progress"; model: string; progress: LoadProgress }
  | { type: "unloaded"; model: string; instances: ModelInstance[] }
  | { type: "loaded"; model: string; result: LoadResult }
  | { type: "warning"; message: string; error?: LMStudioError };

/** Options of {@linkcode ensureReady}. */
export interface EnsureReadyOptions extends CallOptions, LMStudioClientOptions {
  /** The model to make ready (default `openai/gpt-oss-20b`). */
  model?: string;
  /** A client to use instead of building one from the options. */
  client?: LMStudioClient;
  /** Download a missing model (default true); false makes it a `MODEL_NOT_FOUND` error. */
  download?: boolean;
  /** Load the model (default true); false stops once it is present. */
  load?: boolean;
  /** Run `lms server start` when the server is down, then wait for it (default false). */
  startServer?: boolean;
  /** How long to wait for a started server (default 60 s, within the overall deadline). */
  startServerTimeoutMs?: number;
  /**
   * The context the job needs, in tokens: at least this much. An instance loaded with less is
   * replaced (unloaded, then loaded with this); LM Studio giving less than asked (it fits the
   * context to free memory) is `MODEL_UNSUITABLE`.
   */
  contextLength?: number;
  /**
   * Capabilities the job needs: `tool-use`, `vision`. A model LM Studio says lacks one is
   * `MODEL_UNSUITABLE`, decided before any download or load when the listing says so.
   */
  require?: readonly ("tool-use" | "vision")[];
  /** Called with every event. Exceptions thrown by it are ignored. */
  onEvent?: (event: EnsureEvent) => void;
}

/** What {@linkcode ensureReady} did. */
export interface EnsureResult {
  /** The normalised server URL. */
  baseUrl: string;
  /**
   * Where the URL came from: `option` (the `baseUrl` option, or a client passed in), `env`
   * (`LMSTUDIO_URL`), `config` (`vtcode.toml`), `lmstudio-settings` (LM Studio's saved port) or
   * `default`.
   */
  baseUrlSource: BaseUrlSource;
  /** The API family the server speaks. */
  api: ServerStatus["api"];
  /** The name asked for. */
  requested: string;
  /** The model id it resolved to. */
  model: string;
  /** The steps taken, in order. */
  actions: EnsureAction[];
  /** A download happened in this run. */
  downloaded: boolean;
  /** The model is loaded at the end (`null` when loading was skipped and the server cannot say). */
  loaded: boolean | null;
  /** The instance id to use in requests, when known. */
  instanceId: string | null;
  /** The context that instance is loaded with, as LM Studio reports it; `null` where it does not say. */
  contextLength: number | null;
  /** Milliseconds per step, and in total. */
  timings: { totalMs: number; checkMs: number; listMs: number; downloadMs?: number; loadMs?: number };
}

interface Shared<T> {
  promise: Promise<T>;
  controller: AbortController;
  waiters: number;
}

const inFlight = new Map<string, Shared<unknown>>();

/**
 * Runs `start` once per key among concurrent callers. The shared work is aborted only when every
 * caller waiting on it has gone (aborted or timed out).
 */
function singleFlight<T>(
  key: string,
  signal: AbortSignal,
  start: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  let shared = inFlight.get(key) as Shared<T> | undefined;
  if (!shared) {
    const controller = new AbortController();
    const promise = Promise.resolve().then(() => start(controller.signal)).finally(() => {
      if (inFlight.get(key) === created) inFlight.delete(key);
    });
    const created: Shared<T> = { promise, controller, waiters: 0 };
    shared = created;
    inFlight.set(key, created as Shared<unknown>);
    promise.catch(() => {});
  }
  const entry = shared;
  entry.waiters++;
  const leave = () => {
    entry.waiters--;
    if (entry.waiters === 0 && inFlight.get(key) === entry) {
      inFlight.delete(key);
      entry.controller.abort(signal.reason);
    }
  };
  signal.addEventListener("abort", leave, { once: true });
  return entry.promise.finally(() => signal.removeEventListener("abort", leave));
}

function emitter(onEvent: EnsureReadyOptions["onEvent"]): (event: EnsureEvent) => void {
  return (event) => {
    try {
      onEvent?.(event);
    } catch {
      // A broken listener must not break readiness.
    }
  };
}

/**
 * Makes a model ready for the agent's job, strictly: check → (start the server) → list → download
 * if missing → load if not loaded, or loaded with less than `contextLength` (then the instance is
 * replaced, and the context LM Studio gave is read back). A model LM Studio says lacks a `require`d
 * capability, or that gets less context than asked, is `MODEL_UNSUITABLE`. Configuration is
 * resolved as the CLI does it (options, environment, `vtcode.toml`, LM Studio's saved port). Every
 * failure rejects with a typed {@linkcode LMStudioError}. Concurrent calls for the same model in
 * one process share one download and one load.
 *
 * @example
 * ```ts
 * import { ensureReady } from "@vtcode/lmstudio";
 * const result = await ensureReady({
 *   model: "openai/gpt-oss-20b",
 *   contextLength: 32768,
 *   require: ["tool-use"],
 *   timeoutMs: 30 * 60_000,
 *   onEvent: (e) => e.type === "step" && console.error(e.message),
 * });
 * console.log(result.actions, `${result.baseUrl}/v1`, result.instanceId, result.contextLength);
 * ```
 */
export async function ensureReady(options: EnsureReadyOptions = {}): Promise<EnsureResult> {
  // The same precedence as the CLI: option > env > vtcode.toml > LM Studio's saved port > default.
  // A client passed in already knows its server; with a model too, nothing is left to resolve.
  const config: ResolvedConfig | undefined = options.client && options.model !== undefined
    ? undefined
    : await resolveConfig({
      env: options.env,
      overrides: {
        baseUrl: options.baseUrl,
        apiToken: options.apiToken,
        apiTokenEnv: options.apiTokenEnv,
        lmsPath: options.lmsPath,
        model: options.model,
      },
    });
  const requested = options.model ?? config?.model ?? DEFAULT_OSS_MODEL;
  const baseUrlSource: BaseUrlSource = options.client ? "option" : config!.sources.baseUrl;
  return withDeadline(`Making ${requested} ready`, options, DEFAULT_TIMEOUTS.ensure, async (signal) => {
    validateModelName(requested);
    checkContextLength(options.contextLength);
    const startTimeoutMs = validDuration(
      options.startServerTimeoutMs,
      DEFAULT_TIMEOUTS.wait,
      "startServerTimeoutMs",
    );
    const required = checkRequired(options.require);
    const emit = emitter(options.onEvent);
    // The token stays the client's to read (option, else the variable the config names), so that
    // its hints name where it came from.
    const client = options.client ?? new LMStudioClient({
      ...options,
      baseUrl: config!.baseUrl,
      apiTokenEnv: config!.apiTokenEnv,
      lmsPath: config!.lmsPath,
    });
    const started = Date.now();
    const actions: EnsureAction[] = [];
    const timings: EnsureResult["timings"] = { totalMs: 0, checkMs: 0, listMs: 0 };

    // 1. Check (and optionally start the server).
    actions.push("check");
    emit({ type: "step", step: "check", message: `Checking LM Studio at ${client.baseUrl}` });
    const status = await checkOrStart(
      client,
      options.startServer === true,
      { signal },
      startTimeoutMs,
      () => {
        actions.push("start-server");
        emit({
          type: "step",
          step: "start-server",
          message: "Starting the LM Studio server (lms server start)",
        });
      },
    );
    timings.checkMs = Date.now() - started;
    emit({ type: "server", status });

    // 2. Discover.
    const listStarted = Date.now();
    actions.push("list");
    emit({ type: "step", step: "list", message: `Looking for ${requested}` });
    let match: ModelMatchResult = matchModel(requested, await client.listModels({ signal }));
    timings.listMs = Date.now() - listStarted;
    if (!match.model && match.ambiguous) {
      throw new LMStudioError(
        "MODEL_NOT_FOUND",
        `${requested} matches several models: ${match.suggestions.join(", ")}`,
        { hint: "Use the full model id (publisher/name)." },
      );
    }

    // What the listing says about capabilities decides before anything is downloaded or loaded.
    const unknownCapabilities = match.model ? requireCapabilities(match.model, required) : undefined;

    // 3. Download if missing.
    let downloaded = false;
    if (!match.model) {
      const suggestions = match.suggestions.length > 0
        ? ` Did you mean: ${match.suggestions.join(", ")}?`
        : "";
      if (options.download === false) {
        throw new LMStudioError(
          "MODEL_NOT_FOUND",
          `Model ${requested} is not downloaded on ${client.baseUrl}.${suggestions}`,
          {
            hint: "Run without download: false to download it, or check the name with `listModels()`.",
          },
        );
      }
      const downloadStarted = Date.now();
      actions.push("download");
      emit({ type: "step", step: "download", message: `Downloading ${requested}` });
      const result = await singleFlight(
        `download ${client.baseUrl} ${requested}`,
        signal,
        (shared) =>
          client.downloadModel(requested, {
            signal: shared,
            onProgress: (progress) => emit({ type: "download-progress", model: requested, progress }),
          }),
      );
      downloaded = !result.alreadyDownloaded;
      timings.downloadMs = Date.now() - downloadStarted;
      emit({ type: "downloaded", model: requested, result });
      match = matchModel(requested, await client.listModels({ signal }));
      if (!match.model) {
        throw new LMStudioError(
          "MODEL_NOT_FOUND",
          `Downloaded ${requested}, but the server does not list it under that name`,
          { hint: "Check `listModels()` for the id LM Studio gave it and use that id." },
        );
      }
    }
    const model: ModelInfo = match.model!;
    const unknown = unknownCapabilities ?? requireCapabilities(model, required);
    if (unknown.length > 0) {
      emit({
        type: "warning",
        message: `LM Studio does not say whether ${model.id} has ${unknown.join(" and ")}`,
      });
    }
    emit({
      type: "resolved",
      requested,
      model: model.id,
      how: downloaded ? "downloaded" : match.kind ?? "exact",
    });

    // 4. Load unless an instance with enough context is loaded (then no request at all).
    let loaded: boolean | null = model.loaded;
    const choice = chooseInstance(model, match.instanceId, options.contextLength);
    // With load: false, an instance that has too little context is still what is there: say so.
    const present = choice.kind === "use"
      ? choice.instance
      : choice.kind === "replace"
      ? choice.instances[0]
      : null;
    let instanceId: string | null = present?.id ?? match.instanceId ?? null;
    let contextLength: number | null = present?.contextLength ?? null;
    if (options.load === false && choice.kind === "replace") {
      emit({
        type: "warning",
        message:
          `${present!.id} is loaded with a context of ${present!.contextLength} tokens, less than the ` +
          `${options.contextLength} asked; not replaced (load: false)`,
      });
    }
    if (options.load !== false && choice.kind !== "use") {
      const loadStarted = Date.now();
      const loadStep = () => emit({ type: "step", step: "load", message: `Loading ${model.id}` });
      if (choice.kind === "load") loadStep();
      const result = await singleFlight(
        `load ${client.baseUrl} ${model.id} ${options.contextLength ?? ""}`,
        signal,
        (shared) =>
          client.loadModel(model.id, {
            signal: shared,
            contextLength: options.contextLength,
            onReplace: (instances) => {
              const list = instances.map((i) => `${i.id} (context ${i.contextLength})`).join(", ");
              emit({
                type: "step",
                step: "unload",
                message: `Unloading ${list}: less context than the ${options.contextLength} asked`,
              });
              emit({ type: "unloaded", model: model.id, instances });
              loadStep();
            },
            onProgress: (progress) => emit({ type: "load-progress", model: model.id, progress }),
          }),
      );
      if (result.unloaded.length > 0) actions.push("unload");
      actions.push("load");
      timings.loadMs = Date.now() - loadStarted;
      loaded = true;
      instanceId = result.instanceId;
      contextLength = result.contextLength;
      for (const message of result.warnings) emit({ type: "warning", message });
      emit({ type: "loaded", model: model.id, result });
    } else if (choice.kind === "use" && contextLength === null) {
      emit({
        type: "warning",
        message: `LM Studio does not say what context ${choice.instance.id} is loaded with${
          options.contextLength === undefined
            ? ""
            : `, so it cannot be held against the ${options.contextLength} asked`
        }`,
      });
    }
    timings.totalMs = Date.now() - started;
    return {
      baseUrl: client.baseUrl,
      baseUrlSource,
      api: status.api,
      requested,
      model: model.id,
      actions,
      downloaded,
      loaded,
      instanceId,
      contextLength,
      timings,
    };
  });
}

/**
 * `check` (with `call`); when the server is down and `start` allows it, `lms server start` and a
 * wait of up to `startTimeoutMs` (default 60 s). Internal: `ensureReady` and the CLI's `check`
 * share it.
 */
export async function checkOrStart(
  client: LMStudioClient,
  start: boolean,
  call: CallOptions,
  startTimeoutMs: number | undefined,
  onStart: () => void,
): Promise<ServerStatus> {
  try {
    return await client.check(call);
  } catch (error) {
    if (!start || !mayComeUp(error)) throw error;
    onStart();
    return await client.startServer({
      signal: call.signal,
      timeoutMs: startTimeoutMs ?? DEFAULT_TIMEOUTS.wait,
    });
  }
}

/** The Rust crate's configuration (`OssConfig`): the model and where the server is. */
export interface OssConfig {
  /** Model to make ready (default `openai/gpt-oss-20b`). */
  model?: string;
  /** Server URL (default `LMSTUDIO_URL`, else `http://localhost:1234`). */
  baseUrl?: string;
  /** API token (default `LM_API_TOKEN`). */
  apiToken?: string;
  /** `lms` binary (default: discovery). */
  lmsPath?: string;
}

/** Options of {@linkcode ensureOssReady}. */
export interface EnsureOssReadyOptions extends LMStudioClientOptions {
  /** Where warnings go (default: `console.warn`). */
  onWarning?: (message: string, error: LMStudioError) => void;
  /** Progress of a download. */
  onDownloadProgress?: (progress: DownloadProgress) => void;
  /**
   * Cancels the check, the listing and the download (they reject with `INTERRUPTED`) and the
   * background load (which then resolves `null` after a warning, as any failed load does).
   */
  signal?: AbortSignal;
}

/** What {@linkcode ensureOssReady} returns: the model, the client, and the background load. */
export interface OssReadyHandle {
  /** The model id made ready. */
  model: string;
  /** The client used. */
  client: LMStudioClient;
  /** The background load: resolves with its result, or `null` if it failed (after a warning). Never rejects. */
  load: Promise<LoadResult | null>;
}

/**
 * The Rust crate's `ensure_oss_ready`: model from config or `openai/gpt-oss-20b`; an unreachable server
 * is fatal; a failed listing is a warning; a missing model is downloaded (failure fatal); the load
 * runs in the background and its failure is only a warning. Improved: tolerant model matching,
 * REST v1 download with `lms` fallback, and an awaitable load.
 *
 * @example
 * ```ts
 * import { ensureOssReady } from "@vtcode/lmstudio";
 * const { model, load } = await ensureOssReady({ model: "openai/gpt-oss-20b" });
 * await load; // optional: wait for the background load
 * ```
 */
export async function ensureOssReady(
  config: OssConfig = {},
  options: EnsureOssReadyOptions = {},
): Promise<OssReadyHandle> {
  const warn = options.onWarning ?? ((message: string) => console.warn(message));
  const requested = config.model ?? DEFAULT_OSS_MODEL;
  validateModelName(requested);
  const signal = options.signal;
  const client = new LMStudioClient({ ...options, ...definedOnly(config) });
  let model = requested;
  let models: ModelInfo[] | undefined;
  let listingError: unknown;
  try {
    await client.check({ signal });
  } catch (error) {
    // The check reads the listing too: LM Studio answering with a malformed listing is reachable, and
    // for the Rust crate's semantics that is a failed listing (a warning below), not a failed check.
    const listing = Object.values(MODELS_PATH).map((path) => `GET ${path}`);
    if (!isLMStudioError(error, "INVALID_RESPONSE") || !listing.includes(error.endpoint ?? "")) throw error;
    listingError = error;
  }
  try {
    if (listingError) throw listingError;
    models = await client.listModels({ signal });
  } catch (error) {
    const typed = toLMStudioError(error);
    // Cancelled is not a failed listing: stop here rather than download on a guess.
    if (signal?.aborted) throw typed;
    // Not fatal, as in the Rust crate: later requests surface the problem if there is one.
    warn(`Failed to query local models from LM Studio: ${typed.message}.`, typed);
  }
  if (models) {
    const match = matchModel(requested, models);
    if (match.model) model = match.model.id;
    else {
      await client.downloadModel(requested, { onProgress: options.onDownloadProgress, signal });
    }
  }
  const load = client.loadModel(model, { signal }).catch((error: unknown) => {
    const typed = toLMStudioError(error);
    warn(`Failed to load model ${model}: ${typed.message}`, typed);
    return null;
  });
  return { model, client, load };
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
