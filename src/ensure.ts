/**
 * The main job: make a model ready. `ensureReady` is the strict form (every failure is an error,
 * typed progress events, one deadline, single-flight per model: see shared_jobs.ts); the Rust
 * crate's forgiving `ensureOssReady` lives in ensure_oss.ts.
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
import {
  type BaseUrlSource,
  configuredBaseUrl,
  DEFAULT_MODEL,
  resolveConfig,
  type ResolvedConfig,
} from "./config.ts";
import {
  abortReason,
  type CallOptions,
  DEFAULT_TIMEOUTS,
  MAX_TIMEOUT_MS,
  phaseCall,
  validDuration,
  validSignal,
  withDeadline,
} from "./deadline.ts";
import { isLMStudioError, LMStudioError } from "./errors.ts";
import { listenerOption } from "./listener.ts";
import type { MatchKind, ModelMatchResult } from "./model_match.ts";
import { matchModel } from "./model_match.ts";
import { validateModelName } from "./model_name.ts";
import type { ModelInfo, ModelInstance } from "./models.ts";
import { checkOptionType, invalidOption, optionsObject } from "./options.ts";
import { checkOrStart } from "./server_control.ts";
import { type Emit, eventSink, type JobCaller, SharedJobs, type StartJob } from "./shared_jobs.ts";
import {
  checkContextLength,
  checkRequired,
  chooseInstance,
  type InstanceChoice,
  requireCapabilities,
} from "./suitability.ts";
import type { DownloadProgress, LoadProgress } from "./progress.ts";

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
  | { type: "warning"; message: string };

/**
 * Options of {@linkcode ensureReady}. Where the server is, the model and the token are resolved as
 * `resolveConfig` does (`@vtcode/lmstudio/config`): these options, then the environment, then
 * `vtcode.toml`, then (the URL) LM Studio's saved server settings, then the defaults.
 */
export interface EnsureReadyOptions extends CallOptions, LMStudioClientOptions {
  /**
   * The model to make ready. Default: `LMSTUDIO_MODEL`, else `model` in `vtcode.toml`'s `[lmstudio]`,
   * else `openai/gpt-oss-20b`.
   */
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
  /**
   * Called with every event, until the call settles. What it throws, and what a promise it returns
   * rejects with, is ignored.
   */
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

/** Downloads in flight, per server and model name. */
const downloads = new SharedJobs<DownloadResult, EnsureEvent>();
/** Loads in flight, per server and model id: one at a time, whatever context each asks for. */
const loads = new SharedJobs<LoadResult, EnsureEvent>();

/** {@linkcode ensureReady}'s options, checked before anything runs (nothing read, nothing sent). */
function checkEnsureOptions(given: EnsureReadyOptions | undefined) {
  const options = optionsObject(given, "options");
  checkOptionType(options, "model", "string");
  for (const name of ["download", "load", "startServer"]) checkOptionType(options, name, "boolean");
  const onEvent = listenerOption<[EnsureEvent]>(options, "onEvent");
  if (options.client !== undefined && !(options.client instanceof LMStudioClient)) {
    throw invalidOption("client", options.client, "an LMStudioClient");
  }
  checkContextLength(options.contextLength);
  validDuration(options.timeoutMs, DEFAULT_TIMEOUTS.ensure);
  return {
    options,
    onEvent,
    signal: validSignal(options.signal),
    required: checkRequired(options.require),
    startTimeoutMs: validDuration(
      options.startServerTimeoutMs,
      DEFAULT_TIMEOUTS.wait,
      "startServerTimeoutMs",
    ),
  };
}

/**
 * Makes a model ready for the agent's job, strictly: check → (start the server) → list → download
 * if missing → load if not loaded, or loaded with less than `contextLength` (then the instance is
 * replaced, and the context LM Studio gave is read back). A model LM Studio says lacks a `require`d
 * capability, or that gets less context than asked, is `MODEL_UNSUITABLE`. Configuration is
 * resolved as the CLI does it (options, environment, `vtcode.toml`, LM Studio's saved port). Every
 * failure rejects with a typed {@linkcode LMStudioError}.
 *
 * `timeoutMs` is one deadline over every step (without it, each step has its default: check 5 s,
 * list 10 s, load 10 min, download 6 h). Concurrent calls for one model on one server in a process
 * share one download; their loads run one at a time: calls that ask the same share one, and a call
 * that asks otherwise waits for it, then uses what it loaded or replaces it, so the model is never
 * left with two instances. Each call still ends on its own deadline or signal, and gets the events
 * (progress included) of the work it waits on until then.
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
  const checked = checkEnsureOptions(options);
  options = checked.options;
  const callerSignal = checked.signal;
  // Cancelled is cancelled, whatever the configuration would have said.
  if (callerSignal?.aborted) {
    throw abortReason(callerSignal, `Making ${options.model ?? "the model"} ready`);
  }
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
  const requested = options.model ?? config?.model ?? DEFAULT_MODEL;
  const baseUrlSource: BaseUrlSource = options.client ? "option" : config!.sources.baseUrl;
  const { required, startTimeoutMs } = checked;
  const callerDeadline = options.timeoutMs !== undefined;
  const events = eventSink<EnsureEvent>(checked.onEvent);
  const emit = events.emit;
  const what = `Making ${requested} ready`;
  const overall = { signal: callerSignal, timeoutMs: options.timeoutMs };
  return await withDeadline(what, overall, DEFAULT_TIMEOUTS.ensure, async (signal) => {
    validateModelName(requested);
    const phase = phaseCall(signal, callerDeadline);
    // The token stays the client's to read (option, else the variable the config names), so that
    // its hints name where it came from.
    const client = options.client ?? new LMStudioClient({
      ...options,
      // Normalised here, where its source is known: a URL that is not one names where to fix it.
      baseUrl: configuredBaseUrl(config!),
      apiTokenEnv: config!.apiTokenEnv,
      lmsPath: config!.lmsPath,
    });
    const started = Date.now();
    const actions: EnsureAction[] = [];
    const timings: EnsureResult["timings"] = { totalMs: 0, checkMs: 0, listMs: 0 };

    // 1. Check (and optionally start the server).
    actions.push("check");
    emit({ type: "step", step: "check", message: `Checking LM Studio at ${client.baseUrl}` });
    let starting = false;
    const status = await checkOrStart(client, options.startServer === true, phase, startTimeoutMs, () => {
      starting = true;
      actions.push("start-server");
      emit({
        type: "step",
        step: "start-server",
        message: "Starting the LM Studio server (lms server start)",
      });
    }).catch((error: unknown) => {
      // The server's own wait (startServerTimeoutMs) ran out, not the overall deadline.
      if (starting && !signal.aborted && isLMStudioError(error, "TIMEOUT")) throw startTimedOut(error);
      throw error;
    });
    timings.checkMs = Date.now() - started;
    emit({ type: "server", status });

    // 2. Discover.
    const listStarted = Date.now();
    actions.push("list");
    emit({ type: "step", step: "list", message: `Looking for ${requested}` });
    let match: ModelMatchResult = matchModel(requested, await client.listModels(phase));
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
      const downloading = `Downloading ${requested}`;
      emit({ type: "step", step: "download", message: downloading });
      const result = await withDeadline(
        downloading,
        phase,
        DEFAULT_TIMEOUTS.download,
        (downloadSignal) =>
          downloads.run(
            `${client.baseUrl} ${requested}`,
            "download",
            { signal: downloadSignal, emit, what: downloading },
            (shared, broadcast) =>
              client.downloadModel(requested, {
                signal: shared,
                // The callers' own deadlines govern the shared download (it is aborted when the last
                // one has gone), so it has none of its own.
                timeoutMs: MAX_TIMEOUT_MS,
                onProgress: (progress) =>
                  broadcast({ type: "download-progress", model: requested, progress }),
              }),
          ),
      );
      downloaded = !result.alreadyDownloaded;
      timings.downloadMs = Date.now() - downloadStarted;
      emit({ type: "downloaded", model: requested, result });
      match = matchModel(requested, await client.listModels(phase));
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
    let used: ModelInstance | null = choice.kind === "use" ? choice.instance : null;
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
      const job: LoadJob = { client, requested, model, contextLength: options.contextLength, emit, phase };
      const outcome = await withDeadline(
        `Loading ${model.id}`,
        phase,
        DEFAULT_TIMEOUTS.load,
        (loadSignal) => loadOneAtATime(job, choice, loadSignal),
      );
      if (outcome.kind === "use") used = outcome.instance;
      else {
        const { result } = outcome;
        if (result.unloaded.length > 0) actions.push("unload");
        // Where the listing cannot tell (an OpenAI-only server), `lms ps` may find it loaded already.
        if (!result.alreadyLoaded) actions.push("load");
        timings.loadMs = Date.now() - loadStarted;
        loaded = true;
        instanceId = result.instanceId;
        contextLength = result.contextLength;
        for (const message of result.warnings) emit({ type: "warning", message });
        emit({ type: "loaded", model: model.id, result });
      }
    }
    if (used) {
      loaded = true;
      instanceId = used.id;
      contextLength = used.contextLength;
      if (contextLength === null) {
        emit({
          type: "warning",
          message: `LM Studio does not say what context ${used.id} is loaded with${
            options.contextLength === undefined
              ? ""
              : `, so it cannot be held against the ${options.contextLength} asked`
          }`,
        });
      }
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
  }).finally(events.close);
}

/** What {@linkcode loadOneAtATime} needs of the call. */
interface LoadJob {
  client: LMStudioClient;
  requested: string;
  model: ModelInfo;
  contextLength: number | undefined;
  emit: Emit<EnsureEvent>;
  /** Call options for a listing within the load step (see {@linkcode phaseCall}). */
  phase: CallOptions;
}

/** A load's outcome: it loaded, or an instance loaded meanwhile serves the call as it is. */
type LoadOutcome = { kind: "loaded"; result: LoadResult } | { kind: "use"; instance: ModelInstance };

/**
 * Loads the model for a call that needs `contextLength`, one load at a time per model on a server:
 * a call that asks the same joins the load in flight; one that asks otherwise waits for it to
 * settle, then looks again (lists afresh), since what it loaded may serve the call as it is, or
 * must be replaced. So concurrent calls never leave two instances, nor unload one twice.
 */
async function loadOneAtATime(
  job: LoadJob,
  choice: InstanceChoice,
  signal: AbortSignal,
): Promise<LoadOutcome> {
  const { client, model, contextLength, emit } = job;
  const caller: JobCaller<EnsureEvent> = { signal, emit, what: `Loading ${model.id}` };
  let unloading: ModelInstance[] | undefined;
  const start: StartJob<LoadResult, EnsureEvent> = (shared, broadcast) =>
    client.loadModel(model.id, {
      signal: shared,
      // The callers' own deadlines govern the shared load (it is aborted when the last one has
      // gone), so it has none of its own.
      timeoutMs: MAX_TIMEOUT_MS,
      contextLength,
      onReplace: (instances) => {
        const list = instances.map((i) => `${i.id} (context ${i.contextLength})`).join(", ");
        broadcast({
          type: "step",
          step: "unload",
          message: `Unloading ${list}: less context than the ${contextLength} asked`,
        });
        unloading = instances;
      },
      onProgress: (progress) => {
        // The load's first progress comes once the unload is done: then it is "unloaded", and the load
        // step begins (an unload that fails ends the job with "unload" as its last step).
        if (unloading) {
          broadcast({ type: "unloaded", model: model.id, instances: unloading });
          broadcast({ type: "step", step: "load", message: `Loading ${model.id}` });
          unloading = undefined;
        }
        broadcast({ type: "load-progress", model: model.id, progress });
      },
    });
  for (;;) {
    if (choice.kind === "use") return { kind: "use", instance: choice.instance };
    const entry = loads.enter(
      `${client.baseUrl} ${model.id}`,
      `context ${contextLength ?? "any"}`,
      caller,
      start,
    );
    if ("joined" in entry) {
      // A replace says its steps (unload, then load) as it makes them.
      if (choice.kind === "load") emit({ type: "step", step: "load", message: `Loading ${model.id}` });
      return { kind: "loaded", result: await entry.joined };
    }
    await entry.busy;
    const again = matchModel(job.requested, await client.listModels({ ...job.phase, signal }));
    choice = again.model ? chooseInstance(again.model, again.instanceId, contextLength) : { kind: "load" };
  }
}

/** The started server did not answer within `startServerTimeoutMs`: that is the deadline to name. */
function startTimedOut(error: LMStudioError): LMStudioError {
  return new LMStudioError("TIMEOUT", error.message, {
    hint:
      "Give the startServerTimeoutMs option more time, or check why the server does not start (lms log stream).",
    cause: error,
  });
}
