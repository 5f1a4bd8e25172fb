/**
 * The Rust crate-compatible entry point: `ensureOssReady`, the crate's `ensure_oss_ready` with its
 * forgiving semantics (a failed listing or load is only a warning; the load runs in the
 * background), and the crate's names for its configuration and default model. The strict main job
 * is `ensureReady` (ensure.ts).
 *
 * @module
 */
import { LMStudioClient, type LMStudioClientOptions, type LoadResult } from "./client.ts";
import { DEFAULT_MODEL } from "./config.ts";
import {
  abortReason,
  DEFAULT_TIMEOUTS,
  phaseCall,
  validDuration,
  validSignal,
  withDeadline,
} from "./deadline.ts";
import { isLMStudioError, type LMStudioError, toLMStudioError } from "./errors.ts";
import { listenerOption } from "./listener.ts";
import { matchModel } from "./model_match.ts";
import { validateModelName } from "./model_name.ts";
import { type ModelInfo, MODELS_PATH } from "./models.ts";
import { checkOptionType, givenOnly, optionsObject } from "./options.ts";
import type { DownloadProgress } from "./progress.ts";

/** The Rust crate's name for the default model, `openai/gpt-oss-20b`. */
export const DEFAULT_OSS_MODEL: string = DEFAULT_MODEL;

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
  /** Where warnings go (default: `console.warn`). What it throws is ignored. */
  onWarning?: (message: string, error: LMStudioError) => void;
  /** Progress of a download. What it throws is ignored: the download goes on. */
  onDownloadProgress?: (progress: DownloadProgress) => void;
  /**
   * Cancels the check, the listing and the download (they reject with `INTERRUPTED`) and the
   * background load (which then resolves `null` after a warning, as any failed load does).
   */
  signal?: AbortSignal;
  /**
   * One deadline, in milliseconds, over the check, the listing and the download (they reject with
   * `TIMEOUT`); the background load gets what remains of it. Without it, each step has its default
   * (check 5 s, list 10 s, download 6 h, load 10 min).
   */
  timeoutMs?: number;
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
 * REST v1 download with `lms` fallback, an awaitable load, and `timeoutMs`, one deadline over the
 * check, the listing and the download (the load gets what remains).
 *
 * @example
 * ```ts
 * import { ensureOssReady } from "@vtcode/lmstudio";
 * const { model, load } = await ensureOssReady({ model: "openai/gpt-oss-20b" }, { timeoutMs: 30 * 60_000 });
 * await load; // optional: wait for the background load
 * ```
 */
export async function ensureOssReady(
  config: OssConfig = {},
  options: EnsureOssReadyOptions = {},
): Promise<OssReadyHandle> {
  config = optionsObject(config, "config");
  options = optionsObject(options, "options");
  checkOptionType(config, "model", "string");
  const onWarning = listenerOption<[string, LMStudioError]>(options, "onWarning");
  const onDownloadProgress = listenerOption<[DownloadProgress]>(options, "onDownloadProgress");
  const callerSignal = validSignal(options.signal);
  const timeoutMs = options.timeoutMs;
  validDuration(timeoutMs, DEFAULT_TIMEOUTS.ensure);
  // The load promise never rejects: `onWarning` is quiet (listenerOption), so it cannot make it fail.
  const warn = onWarning ?? ((message: string) => console.warn(message));
  const requested = config.model ?? DEFAULT_OSS_MODEL;
  validateModelName(requested);
  if (callerSignal?.aborted) throw abortReason(callerSignal, `Making ${requested} ready`);
  // The config's values win over the options' (the Rust crate's constructor), when given.
  const { baseUrl, apiToken, lmsPath } = config;
  const client = new LMStudioClient({ ...options, ...givenOnly({ baseUrl, apiToken, lmsPath }) });
  const endsAt = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
  const overall = { signal: callerSignal, timeoutMs };
  const model = await withDeadline(
    `Making ${requested} ready`,
    overall,
    DEFAULT_TIMEOUTS.ensure,
    async (signal) => {
      const phase = phaseCall(signal, timeoutMs !== undefined);
      let models: ModelInfo[] | undefined;
      let listingError: unknown;
      try {
        await client.check(phase);
      } catch (error) {
        // The check reads the listing too: LM Studio answering with a malformed listing is reachable, and
        // for the Rust crate's semantics that is a failed listing (a warning below), not a failed check.
        const listing = Object.values(MODELS_PATH).map((path) => `GET ${path}`);
        if (
          !isLMStudioError(error, "INVALID_RESPONSE") || !listing.includes(error.endpoint ?? "")
        ) throw error;
        listingError = error;
      }
      try {
        if (listingError) throw listingError;
        models = await client.listModels(phase);
      } catch (error) {
        const typed = toLMStudioError(error);
        // Cancelled (or out of time) is not a failed listing: stop here rather than download on a guess.
        if (signal.aborted) throw typed;
        // Not fatal, as in the Rust crate: later requests surface the problem if there is one.
        warn(`Failed to query local models from LM Studio: ${typed.message}.`, typed);
      }
      if (!models) return requested;
      const match = matchModel(requested, models);
      if (match.model) return match.model.id;
      await client.downloadModel(requested, {
        ...phase,
        onProgress: onDownloadProgress,
      });
      return requested;
    },
  );
  // What remains of the caller's deadline, or the load's default without one.
  const loadTimeoutMs = endsAt === undefined ? undefined : Math.max(1, endsAt - Date.now());
  const load = client.loadModel(model, { signal: callerSignal, timeoutMs: loadTimeoutMs }).catch(
    (error: unknown) => {
      const typed = toLMStudioError(error);
      warn(`Failed to load model ${model}: ${typed.message}`, typed);
      return null;
    },
  );
  return { model, client, load };
}
