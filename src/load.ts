/**
 * Loading a model, never beside an instance already loaded: REST v1 when the server has it, else
 * `lms load` (server on this machine), else a just-in-time warm-up request.
 *
 * @module
 */
import type { Connection } from "./connection.ts";
import type { CallOptions } from "./deadline.ts";
import { LMStudioError } from "./errors.ts";
import { type HttpAnswer, isUnknownRouteAnswer, notAnObject, request, serverErrorOf } from "./http.ts";
import { isObject } from "./json.ts";
import { requireModel } from "./listing.ts";
import type { ModelInfo } from "./models.ts";
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

/** Loads `name` (or finds it loaded) by the route the server allows. */
export async function loadModel(
  conn: Connection,
  name: string,
  options: LoadOptions,
  signal: AbortSignal,
): Promise<LoadResult> {
  const api = (await conn.detect(signal)).api;
  const route = options.route ?? "auto";
  if (route === "jit" || (route === "auto" && api === "openai")) {
    await conn.forgetListing();
    return await warmUp(conn, name, signal);
  }
  const match = await requireModel(conn, name, signal);
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
  await conn.forgetListing();
  const canLms = conn.local && route !== "rest";
  if (route === "lms" || (api !== "v1" && canLms) || (options.ttlSeconds !== undefined && canLms)) {
    if (!conn.local) conn.requireLocal("load", api);
    const lms = await conn.lms();
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
    return await warmUp(conn, model.id, signal);
  }
  if (options.ttlSeconds !== undefined) {
    throw new LMStudioError("USAGE", "A load TTL needs `lms` (REST v1 does not document one)", {
      hint: "Install LM Studio's `lms` on this machine, or drop the TTL.",
    });
  }
  return await restLoad(conn, model, options, signal);
}

async function restLoad(
  conn: Connection,
  model: ModelInfo,
  options: LoadOptions,
  signal: AbortSignal,
): Promise<LoadResult> {
  const body: Record<string, unknown> = { model: model.id };
  if (options.contextLength !== undefined) body.context_length = options.contextLength;
  if (options.flashAttention !== undefined) body.flash_attention = options.flashAttention;
  if (options.evalBatchSize !== undefined) body.eval_batch_size = options.evalBatchSize;
  if (options.numExperts !== undefined) body.num_experts = options.numExperts;
  if (options.offloadKvCacheToGpu !== undefined) body.offload_kv_cache_to_gpu = options.offloadKvCacheToGpu;
  options.onProgress?.({ fraction: null });
  const answer = await request(conn.http, "POST", "/api/v1/models/load", { body, signal });
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
  const result: LoadResult = { model: model.id, instanceId, alreadyLoaded: false, route: "rest" };
  if (isObject(json) && typeof json.load_time_seconds === "number") {
    result.loadTimeSeconds = json.load_time_seconds;
  }
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
        ? "Check the model id with `vtcode-lmstudio models`."
        : "Check free memory and LM Studio's server log (lms log stream); a smaller context length may help.",
    },
  );
}

/** Codex's way: a one-token request makes LM Studio load the model just in time. */
async function warmUp(conn: Connection, name: string, signal: AbortSignal): Promise<LoadResult> {
  let answer = await request(conn.http, "POST", "/v1/responses", {
    body: { model: name, input: "", max_output_tokens: 1 },
    signal,
  });
  if (isUnknownRouteAnswer(answer.json)) {
    // LM Studio before 0.3.29 has no /v1/responses.
    answer = await request(conn.http, "POST", "/v1/chat/completions", {
      body: { model: name, messages: [{ role: "user", content: "hi" }], max_tokens: 1 },
      signal,
    });
  }
  const error = serverErrorOf(answer.json);
  if (error || answer.status >= 300) {
    const message = error?.message ?? `HTTP ${answer.status}`;
    const notFound = error?.code === "model_not_found" || /not found|invalid model identifier/i.test(message);
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
  if (!isObject(answer.json)) throw notAnObject(answer);
  const answered = answer.json.model;
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
