/**
 * Loading a model, never beside an instance already loaded: REST v1 when the server has it, else
 * `lms load` (server on this machine), else a just-in-time warm-up request. Then the context LM
 * Studio actually gave is read back: REST v1's `load_config`, else the listing or `lms ps`.
 *
 * @module
 */
import { type Connection, lmsOf } from "./connection.ts";
import { type CallOptions, stoppedWithNote } from "./deadline.ts";
import { isLMStudioError, LMStudioError } from "./errors.ts";
import { type HttpAnswer, isUnknownRouteAnswer, notAnObject, request, serverErrorOf } from "./http.ts";
import { isObject, tokenCount } from "./json.ts";
import { listServerModels, loadedByLms, requireModel, withLmsInstances } from "./listing.ts";
import type { ApiFamily, ModelInfo, ModelInstance } from "./models.ts";
import {
  checkAgainstMaximum,
  checkContextLength,
  checkRequired,
  chooseInstance,
  requireCapabilities,
  tooLittleContext,
} from "./suitability.ts";
import { unloadInstances } from "./unload.ts";
import { checkOptionChoice, checkOptionType, invalidOption } from "./options.ts";
import type { LoadProgress } from "./progress.ts";

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
  /**
   * Called with load progress: first `{ fraction: null }` when the load starts (after any unload),
   * then fractions where the route reports them.
   */
  onProgress?: (progress: LoadProgress) => void;
  /**
   * `auto` (default): REST v1, else `lms load` (server on this machine), else a JIT warm-up
   * request. On an OpenAI-only server (no REST API), a JIT warm-up unless a context is asked and
   * `lms` is there to load with it: JIT loads with LM Studio's default context.
   */
  route?: "auto" | "rest" | "lms" | "jit";
  /**
   * Capabilities the job needs (`tool-use`, `vision`). A model LM Studio says lacks one is
   * `MODEL_UNSUITABLE` before anything loads; where the server does not say, a warning.
   */
  require?: readonly ("tool-use" | "vision")[];
  /** Called before instances with too little context are unloaded to make room for the load. */
  onReplace?: (instances: ModelInstance[]) => void;
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
  /**
   * The instance's context length as LM Studio reports it (after a load: what it actually gave,
   * which may differ from what was asked); `null` where neither the server nor `lms` says.
   */
  contextLength: number | null;
  /** Instances unloaded first because their context was too small (empty when none). */
  unloaded: string[];
  /** What could not be verified (an unknown context, capabilities the server does not report). */
  warnings: string[];
}

const ROUTES: readonly string[] = ["auto", "rest", "lms", "jit"];

/**
 * The load settings as a plain-JS caller may pass them: a route that is not one of the four, or a
 * setting of the wrong kind, is `USAGE` (never a silent fall-back to `auto`, nor a `NaN` sent on).
 */
function checkLoadSettings(options: LoadOptions): void {
  checkOptionChoice(options, "route", ROUTES);
  for (const name of ["ttlSeconds", "evalBatchSize", "numExperts"] as const) {
    const value: unknown = options[name];
    if (value !== undefined && !(Number.isSafeInteger(value) && (value as number) > 0)) {
      throw invalidOption(name, value, "a positive whole number");
    }
  }
  for (const name of ["flashAttention", "offloadKvCacheToGpu"] as const) {
    checkOptionType(options, name, "boolean");
  }
}

/** Loads `name` (or finds it loaded with enough context) by the route the server allows. */
export async function loadModel(
  conn: Connection,
  name: string,
  options: LoadOptions,
  signal: AbortSignal,
): Promise<LoadResult> {
  const asked = options.contextLength;
  checkContextLength(asked);
  checkLoadSettings(options);
  const required = checkRequired(options.require);
  const api = (await conn.detect(signal)).api;
  const route = options.route ?? "auto";
  const warnings: string[] = [];
  // An OpenAI-only server says nothing of what is loaded, and a JIT load cannot set a context; on
  // this machine `lms` can do both, so it loads when a context is asked (or its route is).
  const loadedPerLms = api === "openai" && (route === "lms" || (route === "auto" && asked !== undefined))
    ? await loadedByLms(conn, signal)
    : undefined;
  if (route === "jit" || (route === "auto" && api === "openai" && loadedPerLms === undefined)) {
    await conn.forgetListing();
    if (required.length > 0) warnings.push(unknownCapabilities(name, required));
    options.onProgress?.({ fraction: null });
    const result = await warmUp(conn, name, null, signal);
    return await withContext(conn, result, asked, warnings, signal);
  }
  const match = await requireModel(conn, name, signal);
  const model = loadedPerLms ? withLmsInstances(match.model!, loadedPerLms) : match.model!;
  const unknown = requireCapabilities(model, required);
  if (unknown.length > 0) warnings.push(unknownCapabilities(model.id, unknown));
  const choice = chooseInstance(model, match.instanceId, asked);
  if (choice.kind === "use") {
    const { id, contextLength } = choice.instance;
    if (contextLength === null) warnings.push(unknownContext(id, asked));
    return {
      model: model.id,
      instanceId: id,
      alreadyLoaded: true,
      route: "none",
      contextLength,
      unloaded: [],
      warnings,
    };
  }
  checkAgainstMaximum(model, asked);
  let unloaded: string[] = [];
  if (choice.kind === "replace") {
    // Never a second instance beside one that is too small: LM Studio would split memory between them.
    options.onReplace?.(choice.instances);
    unloaded = choice.instances.map((i) => i.id);
    await unloadInstances(conn, unloaded, signal);
  }
  try {
    // The load starts now (after any unload): its first progress says so, whatever the route reports.
    options.onProgress?.({ fraction: null });
    const result = await loadByRoute(conn, model, api, route, options, signal);
    return await withContext(conn, { ...result, unloaded }, asked, warnings, signal);
  } catch (error) {
    if (unloaded.length === 0 || !(error instanceof LMStudioError) || error.code === "MODEL_UNSUITABLE") {
      throw error;
    }
    const was = choice.kind === "replace"
      ? choice.instances.map((i) => `${i.id} (context ${i.contextLength})`).join(", ")
      : "";
    throw new LMStudioError(
      error.code,
      `${error.message}. ${was} was unloaded first to make room, so no instance of ${model.id} is loaded now`,
      { hint: error.hint, status: error.status, endpoint: error.endpoint, cause: error },
    );
  }
}

type LoadedBy = Omit<LoadResult, "contextLength" | "unloaded" | "warnings"> & {
  echoedContext?: number | null;
};

async function loadByRoute(
  conn: Connection,
  model: ModelInfo,
  api: ApiFamily,
  route: NonNullable<LoadOptions["route"]>,
  options: LoadOptions,
  signal: AbortSignal,
): Promise<LoadedBy> {
  await conn.forgetListing();
  const canLms = conn.local && route !== "rest";
  if (route === "lms" || (api !== "v1" && canLms) || (options.ttlSeconds !== undefined && canLms)) {
    if (!conn.local) conn.requireLocal("load", api);
    // Without `lms`, a load that asks for nothing only `lms` gives (a context, a TTL) is still a JIT
    // warm-up away on a server without REST v1, as on an OpenAI-only one.
    const jitWillDo = route === "auto" && api !== "v1" && options.contextLength === undefined &&
      options.ttlSeconds === undefined;
    let lms: Awaited<ReturnType<typeof lmsOf>>;
    try {
      lms = await lmsOf(conn);
    } catch (error) {
      if (!jitWillDo || !isLMStudioError(error, "LMS_NOT_FOUND")) throw error;
      return await warmUp(conn, model.id, model.type, signal);
    }
    const { identifier } = await lms.load(model.id, {
      signal,
      ttlSeconds: options.ttlSeconds,
      contextLength: options.contextLength,
      onProgress: options.onProgress ? (fraction) => options.onProgress!({ fraction }) : undefined,
    });
    return { model: model.id, instanceId: identifier, alreadyLoaded: false, route: "lms" };
  }
  if (api !== "v1") {
    if (route === "rest") throw conn.noRestApi("load", api);
    return await warmUp(conn, model.id, model.type, signal);
  }
  if (options.ttlSeconds !== undefined) {
    throw new LMStudioError("USAGE", "A load TTL needs `lms` (REST v1 does not document one)", {
      hint: "Install LM Studio's `lms` on this machine, or drop the TTL.",
    });
  }
  return await restLoad(conn, model, options, signal);
}

/**
 * Reads back the context LM Studio gave the new instance (the load answer's `load_config`, else
 * the listing or `lms ps`) and holds it against what was asked.
 */
async function withContext(
  conn: Connection,
  loaded: LoadedBy & { unloaded?: string[] },
  asked: number | undefined,
  warnings: string[],
  signal: AbortSignal,
): Promise<LoadResult> {
  const { echoedContext, ...result } = loaded;
  let contextLength: number | null = echoedContext ?? null;
  if (contextLength === null) contextLength = await readContext(conn, result, signal);
  if (contextLength === null) warnings.push(unknownContext(result.instanceId ?? result.model, asked));
  else if (asked !== undefined && contextLength < asked) {
    throw tooLittleContext(result.model, result.instanceId, contextLength, asked);
  }
  return { ...result, contextLength, unloaded: loaded.unloaded ?? [], warnings };
}

/**
 * The context of the instance just loaded, from whichever source can tell: after an `lms` load
 * `lms ps` first (it names every instance), else the server's listing first (REST v0 and v1 say
 * it; the OpenAI listing does not, and then `lms ps` may, on this machine). An `lms` that cannot
 * tell (not found, failing, garbled) is no failure of the load: the listing is asked instead.
 */
async function readContext(
  conn: Connection,
  result: Omit<LoadedBy, "echoedContext">,
  signal: AbortSignal,
): Promise<number | null> {
  const fromLms = async () => {
    const loaded = await loadedByLms(conn, signal) ?? [];
    const instances = loaded
      .filter((i) => i.modelKey === result.model || i.identifier === result.instanceId)
      .map((i) => ({ id: i.identifier, contextLength: i.contextLength ?? null }));
    return contextOf(result, instances);
  };
  const fromListing = async () => {
    await conn.forgetListing();
    const { models } = await listServerModels(conn, signal);
    return contextOf(result, models.find((m) => m.id === result.model)?.instances ?? []);
  };
  for (const source of result.route === "lms" ? [fromLms, fromListing] : [fromListing, fromLms]) {
    const contextLength = await source();
    if (contextLength !== null) return contextLength;
  }
  return null;
}

/** The context of the loaded instance among `instances`: by its id, else the model's only one. */
function contextOf(result: Omit<LoadedBy, "echoedContext">, instances: ModelInstance[]): number | null {
  const instance = instances.find((i) => i.id === result.instanceId) ??
    (instances.length === 1 ? instances[0] : undefined);
  return instance?.contextLength ?? null;
}

function unknownContext(id: string, asked: number | undefined): string {
  return `LM Studio does not say what context ${id} is loaded with${
    asked === undefined ? "" : `, so it cannot be held against the ${asked} asked`
  }`;
}

function unknownCapabilities(id: string, capabilities: readonly string[]): string {
  return `LM Studio does not say whether ${id} has ${capabilities.join(" and ")}`;
}

async function restLoad(
  conn: Connection,
  model: ModelInfo,
  options: LoadOptions,
  signal: AbortSignal,
): Promise<LoadedBy> {
  // echo_load_config: the answer then says what LM Studio gave, which may be less than asked.
  const body: Record<string, unknown> = { model: model.id, echo_load_config: true };
  if (options.contextLength !== undefined) body.context_length = options.contextLength;
  if (options.flashAttention !== undefined) body.flash_attention = options.flashAttention;
  if (options.evalBatchSize !== undefined) body.eval_batch_size = options.evalBatchSize;
  if (options.numExperts !== undefined) body.num_experts = options.numExperts;
  if (options.offloadKvCacheToGpu !== undefined) body.offload_kv_cache_to_gpu = options.offloadKvCacheToGpu;
  const answer = await request(conn.http, "POST", "/api/v1/models/load", { body, signal }).catch(
    (error: unknown) => {
      // REST v1 has no way to cancel a load: LM Studio goes on with it, and the caller should know.
      throw stoppedWithNote(
        error,
        signal,
        `LM Studio may go on loading ${model.id} in the background: \`listModels()\` shows it once loaded.`,
      );
    },
  );
  const error = serverErrorOf(answer.json);
  if (error || answer.status >= 300) throw loadError(model.id, answer);
  const json = answer.json;
  // `instance_id` since the docs of 2025-12-19; `model_instance_id` before (and in some 0.4 betas).
  const instanceId = isObject(json) ? json.instance_id ?? json.model_instance_id : undefined;
  if (typeof instanceId !== "string" || instanceId === "") {
    throw new LMStudioError(
      "INVALID_RESPONSE",
      `Malformed answer from ${answer.endpoint}: field instance_id: missing`,
      { status: answer.status, endpoint: answer.endpoint, hint: "Check the LM Studio version (0.4+)." },
    );
  }
  options.onProgress?.({ fraction: 1 });
  const result: LoadedBy = { model: model.id, instanceId, alreadyLoaded: false, route: "rest" };
  if (isObject(json) && typeof json.load_time_seconds === "number") {
    result.loadTimeSeconds = json.load_time_seconds;
  }
  const config = isObject(json) ? json.load_config : undefined;
  result.echoedContext = isObject(config) ? tokenCount(config.context_length) : null;
  return result;
}

/** A failed REST v1 load, in LM Studio's own words (`model_load_failed` since 0.4.21). */
function loadError(id: string, answer: HttpAnswer): LMStudioError {
  const error = serverErrorOf(answer.json);
  const notFound = error?.type === "model_not_found" || error?.code === "model_not_found";
  return new LMStudioError(
    notFound ? "MODEL_NOT_FOUND" : "LOAD_FAILED",
    `Failed to load model ${id}: ${error?.message ?? `HTTP ${answer.status}`}`,
    {
      status: answer.status,
      endpoint: answer.endpoint,
      hint: notFound
        ? "Check the model id with `listModels()`."
        : "Check free memory and LM Studio's server log (lms log stream); a smaller context length may help.",
    },
  );
}

/**
 * Codex's way: a one-token request makes LM Studio load the model just in time. An embedding model
 * is asked for an embedding instead (a chat refuses it). Where the listing cannot say which a model
 * is (`type` null: the OpenAI listing) and a chat is refused as "not found" although the server lists
 * the model, it is asked for an embedding too; still refused, that is a failed load, not a missing
 * model.
 */
async function warmUp(
  conn: Connection,
  name: string,
  type: ModelInfo["type"],
  signal: AbortSignal,
): Promise<LoadedBy> {
  const answer = type === "embedding"
    ? await embedOnce(conn, name, signal)
    : await chatOnce(conn, name, signal);
  let refusal = warmUpRefusal(name, answer);
  if (refusal === undefined) return jitLoaded(name, answer);
  if (type === null && refusal.code === "MODEL_NOT_FOUND" && await isListed(conn, name, signal)) {
    const embedded = await embedOnce(conn, name, signal);
    if (warmUpRefusal(name, embedded) === undefined) return jitLoaded(name, embedded);
    refusal = new LMStudioError("LOAD_FAILED", `${refusal.message} (the server lists it)`, {
      status: refusal.status,
      endpoint: refusal.endpoint,
      hint: "Check LM Studio's server log (lms log stream), or load the model with `lms load`.",
    });
  }
  throw refusal;
}

/** A one-token chat: `/v1/responses`, else (LM Studio before 0.3.29) `/v1/chat/completions`. */
async function chatOnce(conn: Connection, name: string, signal: AbortSignal): Promise<HttpAnswer> {
  const answer = await request(conn.http, "POST", "/v1/responses", {
    body: { model: name, input: "", max_output_tokens: 1 },
    signal,
  });
  if (!isUnknownRouteAnswer(answer.json)) return answer;
  return await request(conn.http, "POST", "/v1/chat/completions", {
    body: { model: name, messages: [{ role: "user", content: "hi" }], max_tokens: 1 },
    signal,
  });
}

/** One embedding of a word: what loads an embedding model just in time. */
async function embedOnce(conn: Connection, name: string, signal: AbortSignal): Promise<HttpAnswer> {
  return await request(conn.http, "POST", "/v1/embeddings", { body: { model: name, input: "hi" }, signal });
}

/** Whether the server's listing has `name` (a model or one of its instances). */
async function isListed(conn: Connection, name: string, signal: AbortSignal): Promise<boolean> {
  try {
    await requireModel(conn, name, signal);
    return true;
  } catch (error) {
    if (isLMStudioError(error, "MODEL_NOT_FOUND")) return false;
    throw error;
  }
}

/** The error a warm-up answer stands for, if it is one. */
function warmUpRefusal(name: string, answer: HttpAnswer): LMStudioError | undefined {
  const error = serverErrorOf(answer.json);
  if (!error && answer.status < 300) return undefined;
  const message = error?.message ?? `HTTP ${answer.status}`;
  const notFound = error?.code === "model_not_found" || /not found|invalid model identifier/i.test(message);
  return new LMStudioError(
    notFound ? "MODEL_NOT_FOUND" : "LOAD_FAILED",
    `Failed to load model ${name}: ${message}`,
    {
      status: answer.status,
      endpoint: answer.endpoint,
      hint: /no models loaded/i.test(message)
        ? "Turn on Just-in-Time model loading in LM Studio's server settings, or load it with `lms load`."
        : "Check the model id with `listModels()` and LM Studio's server log.",
    },
  );
}

/** What a warm-up answer that is no refusal says was loaded: the model that answered. */
function jitLoaded(name: string, answer: HttpAnswer): LoadedBy {
  // A 200 that is not JSON (an HTML page, an empty body) is no proof that anything loaded.
  if (!isObject(answer.json)) throw notAnObject(answer);
  const answered = answer.json.model;
  // LM Studio's answer names the model that answered; anything else in its place is no proof.
  if (answered !== undefined && typeof answered !== "string") {
    throw new LMStudioError(
      "INVALID_RESPONSE",
      `Malformed answer from ${answer.endpoint}: "model" is ${answered === null ? "null" : typeof answered}`,
      {
        status: answer.status,
        endpoint: answer.endpoint,
        hint: "Check that the baseUrl option points at LM Studio and that its server is healthy.",
      },
    );
  }
  // With one model loaded, LM Studio answers with it whatever was asked: that is not a load.
  if (typeof answered === "string" && answered.replace(/:\d+$/, "").toLowerCase() !== name.toLowerCase()) {
    throw new LMStudioError("LOAD_FAILED", `LM Studio answered with ${answered} instead of loading ${name}`, {
      endpoint: answer.endpoint,
      hint: "Turn on Just-in-Time model loading in LM Studio, or load the model with `lms load`.",
    });
  }
  return {
    model: name,
    instanceId: typeof answered === "string" ? answered : null,
    alreadyLoaded: false,
    route: "jit",
  };
}
