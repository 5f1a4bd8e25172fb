/**
 * The main job: make a model ready. `ensureReady` is the strict form (every failure is an error,
 * typed progress events, one deadline, single-flight per model); `ensureOssReady` keeps the Rust
 * seed's forgiving semantics.
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
import { DEFAULT_MODEL } from "./config.ts";
import { type CallOptions, DEFAULT_TIMEOUTS, withDeadline } from "./deadline.ts";
import { isLMStudioError, LMStudioError, toLMStudioError } from "./errors.ts";
import type { MatchKind, ModelMatchResult } from "./model_match.ts";
import { matchModel } from "./model_match.ts";
import { validateModelName } from "./model_name.ts";
import type { ModelInfo } from "./models.ts";
import type { DownloadProgress, LoadProgress } from "./progress.ts";

/** The seed's name for the default model, `openai/gpt-oss-20b` (same as `DEFAULT_MODEL`). */
export const DEFAULT_OSS_MODEL: string = DEFAULT_MODEL;

/** A step of {@linkcode ensureReady}, as listed in `actions`. */
export type EnsureAction = "start-server" | "check" | "list" | "download" | "load";

/** Typed progress events of {@linkcode ensureReady}. */
export type EnsureEvent =
  | { type: "step"; step: EnsureAction; message: string }
  | { type: "server"; status: ServerStatus }
  | { type: "resolved"; requested: string; model: string; how: MatchKind | "downloaded" }
  | { type: "download-progress"; model: string; progress: DownloadProgress }
  | { type: "downloaded"; model: string; result: DownloadResult }
  | { type: "load-progress"; model: string; progress: LoadProgress }
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
  /** Context length for the load. */
  contextLength?: number;
  /** Called with every event. Exceptions thrown by it are ignored. */
  onEvent?: (event: EnsureEvent) => void;
}

/** What {@linkcode ensureReady} did. */
export interface EnsureResult {
  /** The normalised server URL. */
  baseUrl: string;
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
 * Makes a model ready, strictly: check → (start the server) → list → download if missing → load if
 * not loaded. Every failure rejects with a typed {@linkcode LMStudioError}. Concurrent calls for the
 * same model in one process share one download and one load.
 *
 * @example
 * ```ts
 * import { ensureReady } from "@vtcode/lmstudio";
 * const result = await ensureReady({
 *   model: "openai/gpt-oss-20b",
 *   timeoutMs: 30 * 60_000,
 *   onEvent: (e) => e.type === "step" && console.error(e.message),
 * });
 * console.log(result.actions, result.instanceId);
 * ```
 */
export function ensureReady(options: EnsureReadyOptions = {}): Promise<EnsureResult> {
  const requested = options.model ?? DEFAULT_OSS_MODEL;
  return withDeadline(`Making ${requested} ready`, options, DEFAULT_TIMEOUTS.ensure, async (signal) => {
    validateModelName(requested);
    const emit = emitter(options.onEvent);
    const client = options.client ?? new LMStudioClient(options);
    const started = Date.now();
    const actions: EnsureAction[] = [];
    const timings: EnsureResult["timings"] = { totalMs: 0, checkMs: 0, listMs: 0 };

    // 1. Check (and optionally start the server).
    actions.push("check");
    emit({ type: "step", step: "check", message: `Checking LM Studio at ${client.baseUrl}` });
    let status: ServerStatus;
    try {
      status = await client.check({ signal });
    } catch (error) {
      if (!options.startServer || !(error instanceof LMStudioError) || error.code !== "SERVER_UNREACHABLE") {
        throw error;
      }
      actions.push("start-server");
      emit({
        type: "step",
        step: "start-server",
        message: "Starting the LM Studio server (lms server start)",
      });
      status = await client.startServer({
        signal,
        timeoutMs: options.startServerTimeoutMs ?? DEFAULT_TIMEOUTS.wait,
      });
    }
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
            hint:
              `Run without --no-download to download it, or check the name with \`vtcode-lmstudio models\`.`,
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
          { hint: "Check `vtcode-lmstudio models` for the id LM Studio gave it and use that id." },
        );
      }
    }
    const model: ModelInfo = match.model!;
    emit({
      type: "resolved",
      requested,
      model: model.id,
      how: downloaded ? "downloaded" : match.kind ?? "exact",
    });

    // 4. Load if not loaded.
    let loaded: boolean | null = model.loaded;
    let instanceId: string | null = match.instanceId ?? model.instances?.[0]?.id ?? null;
    if (options.load !== false && model.loaded !== true) {
      const loadStarted = Date.now();
      actions.push("load");
      emit({ type: "step", step: "load", message: `Loading ${model.id}` });
      const result = await singleFlight(
        `load ${client.baseUrl} ${model.id}`,
        signal,
        (shared) =>
          client.loadModel(model.id, {
            signal: shared,
            contextLength: options.contextLength,
            onProgress: (progress) => emit({ type: "load-progress", model: model.id, progress }),
          }),
      );
      timings.loadMs = Date.now() - loadStarted;
      loaded = true;
      instanceId = result.instanceId;
      emit({ type: "loaded", model: model.id, result });
    }
    timings.totalMs = Date.now() - started;
    return {
      baseUrl: client.baseUrl,
      api: status.api,
      requested,
      model: model.id,
      actions,
      downloaded,
      loaded,
      instanceId,
      timings,
    };
  });
}

/** The seed's configuration: the model and where the server is. */
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
 * The seed's `ensure_oss_ready`: model from config or `openai/gpt-oss-20b`; an unreachable server
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
    if (!isLMStudioError(error, "INVALID_RESPONSE") || !/models/i.test(error.endpoint ?? "")) throw error;
    listingError = error;
  }
  try {
    if (listingError) throw listingError;
    models = await client.listModels({ signal });
  } catch (error) {
    const typed = toLMStudioError(error);
    // Cancelled is not a failed listing: stop here rather than download on a guess.
    if (signal?.aborted) throw typed;
    // Not fatal, as in the seed: later requests surface the problem if there is one.
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
