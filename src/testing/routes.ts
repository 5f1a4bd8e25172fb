/**
 * The simulated LM Studio HTTP API: which routes each version profile has, authentication, and
 * the payloads (OpenAI `/v1/*`, REST v0, REST v1), following the shared API reference. Pure
 * request → response functions over the {@linkcode World}; the HTTP plumbing and faults live in
 * `simulator.ts`. Internal to the testing kit.
 *
 * @module
 */
import { openAiModel, v0Model, v1Model } from "./models.ts";
import type { InstanceRecord, ModelRecord } from "./models.ts";
import { answerInference, inferenceAuthHeaders } from "./inference.ts";
import { openAiError } from "./inference_common.ts";
import { chatV1 } from "./rest_chat.ts";
import { type World, WorldError } from "./world.ts";

/** A request as the routes see it. */
export interface SimRequest {
  method: string;
  path: string;
  query: string;
  headers: Record<string, string>;
  body: string;
}

/** A response to write: a whole body, or SSE chunks written one after another. */
export interface SimResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  chunks?: string[];
}

/** The content type of every JSON answer. */
export const JSON_TYPE = "application/json; charset=utf-8";

/** A JSON response. */
export function json(status: number, value: unknown): SimResponse {
  return { status, headers: { "content-type": JSON_TYPE }, body: JSON.stringify(value) };
}

/** LM Studio's answer to an unknown route: HTTP 200 with a string `error`. */
export function unknownRoute(method: string, path: string): SimResponse {
  return json(200, { error: `Unexpected endpoint or method. (${method} ${path})` });
}

/** A REST v1 style error `{"error":{"type","message",code?,param?}}`. */
export function v1Error(
  status: number,
  type: string,
  message: string,
  extra: { code?: string; param?: string } = {},
): SimResponse {
  return json(status, { error: { type, message, ...extra } });
}

const NO_MODELS_LOADED =
  "No models loaded. Please load a model in the developer page or use the 'lms load' command.";

/** The 401 bodies, verbatim from the reference; `null` when the request may pass. */
export function checkAuth(world: World, headers: Record<string, string>): SimResponse | null {
  const expected = world.authToken;
  if (expected === undefined) return null;
  const header = headers["authorization"] ?? "";
  const match = /^\s*bearer\s+(.*?)\s*$/i.exec(header);
  const token = match?.[1] ?? "";
  if (token === expected) return null;
  if (token === "") {
    return v1Error(
      401,
      "invalid_request",
      "An LM Studio API token is required to make requests to this server, but none was provided using the Authorization header using the 'Bearer' scheme (i.e., 'Authorization: Bearer $LM_API_TOKEN'). Learn more at: https://lmstudio.ai/docs/developer/core/authentication.",
      { code: "invalid_api_key" },
    );
  }
  const wellFormed = /^sk-lm-[a-zA-Z0-9]{8}:[a-zA-Z0-9]{20}$/.test(token);
  const shown = `${token.slice(0, 10)}...`;
  return v1Error(
    401,
    "invalid_request",
    wellFormed
      ? `Invalid LM Studio API token provided: ${shown} Ensure you are using a valid token.`
      : `Malformed LM Studio API token provided: ${shown} Ensure you are using a valid token.`,
    { code: "invalid_api_key" },
  );
}

/** A parsed JSON request body. */
export type Body = Record<string, unknown>;

export function parseBody(text: string): { body: Body } | { error: SimResponse } {
  if (text.trim() === "") return { body: {} };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return {
      error: v1Error(400, "invalid_request", "Request body is not valid JSON.", { code: "invalid_json" }),
    };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return { error: v1Error(400, "invalid_request", "Request body must be a JSON object.") };
  }
  return { body: value as Body };
}

/** REST v1's answer to a missing required field. */
export function missing(param: string): SimResponse {
  return v1Error(400, "invalid_request", `"${param}" is required`, {
    code: "missing_required_parameter",
    param,
  });
}

export function randomId(chars: number): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  const bytes = new Uint8Array(chars);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("");
}

export function recordOf(world: World, instance: InstanceRecord): ModelRecord {
  return world.models.get(instance.key)!;
}

/** `GET /v1/models`: all downloaded models (JIT on) or only loaded instances (JIT off). */
function listOpenAi(world: World): SimResponse {
  const ids: string[] = [];
  if (world.jit) {
    for (const key of world.models.keys()) ids.push(key);
    // Extra instances (key:2, custom identifiers) are valid `model` values too. [uncertain]
    for (const instance of world.instances) if (!ids.includes(instance.id)) ids.push(instance.id);
  } else {
    for (const instance of world.instances) if (!ids.includes(instance.id)) ids.push(instance.id);
  }
  return json(200, { data: ids.map(openAiModel), object: "list" });
}

function visibleV0(world: World): ModelRecord[] {
  const all = [...world.models.values()];
  return world.jit ? all : all.filter((record) => world.instancesOf(record.key).length > 0);
}

function listV0(world: World): SimResponse {
  const data = visibleV0(world).map((record) => v0Model(record, world.instancesOf(record.key)));
  return json(200, { data, object: "list" });
}

function getV0(world: World, id: string): SimResponse {
  const record = visibleV0(world).find((r) => r.key === id);
  if (!record) {
    // Not documented; an OpenAI-style 404 is our guess. [uncertain]
    return openAiError(404, `Model "${id}" not found.`, "model", "model_not_found");
  }
  return json(200, v0Model(record, world.instancesOf(record.key)));
}

function listV1(world: World): SimResponse {
  const models = [...world.models.values()].map((record) => v1Model(record, world.instancesOf(record.key)));
  return json(200, { models });
}

function loadConfig(record: ModelRecord, instance: InstanceRecord): Record<string, unknown> {
  if (record.type === "embedding" || record.format === "mlx") {
    return { context_length: instance.contextLength };
  }
  return {
    context_length: instance.contextLength,
    eval_batch_size: instance.evalBatchSize,
    flash_attention: instance.flashAttention,
    offload_kv_cache_to_gpu: instance.offloadKvCacheToGpu,
    num_experts: instance.numExperts,
  };
}

function worldErrorToV1(error: unknown): SimResponse {
  if (error instanceof WorldError) {
    if (error.kind === "not_found") return v1Error(404, "model_not_found", error.message);
    // LM Studio 0.4.21 answers a failed load with the undocumented type `model_load_failed`
    // (lmstudio-bug-tracker #2295); the status 500 is our guess. [uncertain]
    if (error.kind === "load_failed") return v1Error(500, "model_load_failed", error.message);
    if (error.kind === "invalid_context") {
      return v1Error(400, "invalid_request", error.message, { param: "context_length" });
    }
    return v1Error(400, "invalid_request", error.message);
  }
  return v1Error(500, "unknown", error instanceof Error ? error.message : String(error));
}

async function loadV1(world: World, body: Body): Promise<SimResponse> {
  if (typeof body.model !== "string" || body.model === "") return missing("model");
  const contextLength = body.context_length;
  if (
    contextLength !== undefined &&
    (typeof contextLength !== "number" || !Number.isInteger(contextLength) || contextLength < 1)
  ) {
    return v1Error(400, "invalid_request", `"context_length" must be a positive integer`, {
      param: "context_length",
    });
  }
  const started = Date.now();
  try {
    const options: Parameters<World["load"]>[1] = {};
    if (typeof contextLength === "number") options.contextLength = contextLength;
    if (typeof body.eval_batch_size === "number") options.evalBatchSize = body.eval_batch_size;
    if (typeof body.flash_attention === "boolean") options.flashAttention = body.flash_attention;
    if (typeof body.num_experts === "number") options.numExperts = body.num_experts;
    if (typeof body.offload_kv_cache_to_gpu === "boolean") {
      options.offloadKvCacheToGpu = body.offload_kv_cache_to_gpu;
    }
    const instance = await world.load(body.model, options);
    const record = recordOf(world, instance);
    const answer: Record<string, unknown> = {
      type: record.type,
      instance_id: instance.id,
      load_time_seconds: Math.round(Date.now() - started) / 1000,
      status: "loaded",
    };
    if (body.echo_load_config === true) answer.load_config = loadConfig(record, instance);
    return json(200, answer);
  } catch (error) {
    return worldErrorToV1(error);
  }
}

function unloadV1(world: World, body: Body): SimResponse {
  if (typeof body.instance_id !== "string" || body.instance_id === "") return missing("instance_id");
  if (!world.unload(body.instance_id)) {
    // Not documented; type and status are our guess. [uncertain]
    return v1Error(404, "model_not_found", `No loaded model instance with id "${body.instance_id}"`);
  }
  return json(200, { instance_id: body.instance_id });
}

function downloadV1(world: World, body: Body): SimResponse {
  if (typeof body.model !== "string" || body.model === "") return missing("model");
  const reference = body.model;
  const base = reference.split("@")[0]!.toLowerCase();
  const catalogEntry = world.findInCatalog(reference);
  const key = catalogEntry?.key ?? [...world.models.keys()].find((k) => k.toLowerCase() === base);
  if (key !== undefined && world.models.has(key)) return json(200, { status: "already_downloaded" });
  if (!catalogEntry) {
    // Not documented; type and status are our guess. [uncertain]
    return v1Error(404, "model_not_found", `Model "${reference}" not found in the model catalog`);
  }
  const now = Date.now();
  const active = world.downloads.activeFor(catalogEntry.key);
  if (active) return json(200, world.downloads.statusOf(active, now));
  const job = world.downloads.start(catalogEntry, now);
  return json(200, {
    job_id: job.id,
    status: "downloading",
    total_size_bytes: job.totalBytes,
    started_at: new Date(job.startedAt).toISOString(),
  });
}

function downloadStatusV1(world: World, jobId: string): SimResponse {
  const job = world.downloads.get(jobId);
  if (!job) return v1Error(404, "job_not_found", `Download job "${jobId}" not found`);
  return json(200, world.downloads.statusOf(job, Date.now()));
}

/** The instance an inference request runs on (and how long a JIT load took), or the error answer. */
export type Resolved = { instance: InstanceRecord; loadSeconds?: number } | { response: SimResponse };

function noModelsLoaded(world: World): SimResponse {
  if (world.version === "0.4") {
    return json(400, {
      error: { message: NO_MODELS_LOADED, type: "invalid_request_error", param: "model", code: null },
    });
  }
  return json(400, { error: NO_MODELS_LOADED });
}

/**
 * The answer to a request naming a model that is neither loaded nor JIT-loadable: "No models
 * loaded" when nothing is (or JIT is off and the model is downloaded), else `model_not_found`.
 */
function notThere(world: World, requested: string, downloaded: boolean): SimResponse {
  if (downloaded || (!world.jit && world.instances.length === 0)) return noModelsLoaded(world);
  const examples = [...world.models.keys()].slice(0, 3).join(", ");
  return openAiError(
    400,
    `Invalid model identifier "${requested}". Please specify a valid downloaded model (e.g., ${examples}).`,
    "model",
    "model_not_found",
  );
}

/** How {@linkcode resolveInference} finds the instance. */
export interface ResolveOptions {
  /** The context a JIT load asks for (REST v1 chat's `context_length`; the `/v1` endpoints have none). */
  jitContextLength?: number;
  /**
   * Whether the `singleLoadedAnswersAnyName` quirk may apply to this endpoint (default true; REST v1
   * chat passes false).
   */
  anyNameQuirk?: boolean;
}

/**
 * The one loaded instance of the wanted type, when the `singleLoadedAnswersAnyName` quirk is on
 * and exactly one is loaded (instances of the other type do not count).
 */
function soleLoaded(world: World, wanted: "llm" | "embedding"): InstanceRecord | undefined {
  if (!world.quirks.singleLoadedAnswersAnyName) return undefined;
  const candidates = world.instances.filter((i) => recordOf(world, i).type === wanted);
  return candidates.length === 1 ? candidates[0] : undefined;
}

/** Finds (or JIT-loads) the instance an inference request runs on. */
export async function resolveInference(
  world: World,
  body: Body,
  wanted: "llm" | "embedding",
  options: ResolveOptions = {},
): Promise<Resolved> {
  const requested = typeof body.model === "string" && body.model !== "" ? body.model : undefined;
  let instance: InstanceRecord | undefined;
  let loadSeconds: number | undefined;
  if (requested === undefined) {
    instance = world.instances.find((i) => recordOf(world, i).type === wanted);
    if (!instance) {
      return { response: world.instances.length === 0 ? noModelsLoaded(world) : missing("model") };
    }
  } else {
    instance = world.instanceById(requested);
    if (!instance) {
      const key = requested.split("@")[0]!;
      const record = world.models.get(key);
      instance = record ? world.instancesOf(key)[0] : undefined;
      if (!instance && (!record || !world.jit)) {
        // Not loaded, and nothing JIT can load: the quirk lets the one loaded model answer.
        instance = options.anyNameQuirk === false ? undefined : soleLoaded(world, wanted);
        if (!instance) return { response: notThere(world, requested, record !== undefined) };
      }
      if (!instance) {
        const started = Date.now();
        try {
          instance = await world.jitLoad(
            key,
            typeof body.ttl === "number" ? body.ttl : undefined,
            options.jitContextLength,
          );
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          return {
            response: json(500, { error: { message, type: "server_error", param: "model", code: null } }),
          };
        }
        loadSeconds = (Date.now() - started) / 1000;
      }
    }
  }
  if (recordOf(world, instance).type !== wanted) {
    const what = wanted === "llm" ? "an LLM" : "an embedding model";
    return {
      response: openAiError(400, `Model "${instance.id}" is not ${what}.`, "model", "model_not_found"),
    };
  }
  instance.lastUsedTime = Date.now();
  return loadSeconds === undefined ? { instance } : { instance, loadSeconds };
}

export function sse(data: unknown, event?: string): string {
  return `${event ? `event: ${event}\n` : ""}data: ${
    typeof data === "string" ? data : JSON.stringify(data)
  }\n\n`;
}

export function sseResponse(chunks: string[]): SimResponse {
  return {
    status: 200,
    headers: { "content-type": "text/event-stream", "cache-control": "no-cache" },
    body: chunks.join(""),
    chunks,
  };
}

export function words(text: string): string[] {
  return text.split(/(?<=\s)/);
}

type Handler = (world: World, body: Body, rest: string) => SimResponse | Promise<SimResponse>;
interface Route {
  method: string;
  path: string;
  /** Matches `path` and anything below it; the remainder is passed as `rest`. */
  prefix?: boolean;
  versions: readonly string[];
  json?: boolean;
  handler: Handler;
}

const ALL = ["0.4", "0.3", "0.2"] as const;
const V03 = ["0.4", "0.3"] as const;
const V04 = ["0.4"] as const;

const ROUTES: readonly Route[] = [
  { method: "GET", path: "/lmstudio-greeting", versions: V03, handler: () => json(200, { lmstudio: true }) },
  { method: "GET", path: "/v1/models", versions: ALL, handler: (w) => listOpenAi(w) },
  { method: "GET", path: "/api/v0/models", versions: V03, handler: (w) => listV0(w) },
  {
    method: "GET",
    path: "/api/v0/models/",
    prefix: true,
    versions: V03,
    handler: (w, _b, rest) => getV0(w, rest),
  },
  { method: "GET", path: "/api/v1/models", versions: V04, handler: (w) => listV1(w) },
  { method: "POST", path: "/api/v1/models/load", versions: V04, json: true, handler: loadV1 },
  { method: "POST", path: "/api/v1/models/unload", versions: V04, json: true, handler: unloadV1 },
  { method: "POST", path: "/api/v1/models/download", versions: V04, json: true, handler: downloadV1 },
  {
    method: "GET",
    path: "/api/v1/models/download/status/",
    prefix: true,
    versions: V04,
    handler: (w, _b, rest) => downloadStatusV1(w, rest),
  },
  { method: "POST", path: "/api/v1/chat", versions: V04, json: true, handler: chatV1 },
];

/** Whether a path is the (unauthenticated) greeting. */
export function isGreeting(path: string): boolean {
  return path === "/lmstudio-greeting";
}

/** Answers one API request as the world's version profile does (auth included). */
export async function answer(world: World, request: SimRequest): Promise<SimResponse> {
  world.tick();
  const { method, path } = request;
  if (!isGreeting(path)) {
    const denied = checkAuth(world, inferenceAuthHeaders(request));
    if (denied) return denied;
  }
  const inferred = await answerInference(world, request);
  if (inferred) return inferred;
  for (const route of ROUTES) {
    if (route.method !== method || !route.versions.includes(world.version)) continue;
    let rest = "";
    if (route.prefix) {
      if (!path.startsWith(route.path) || path.length === route.path.length) continue;
      try {
        rest = decodeURIComponent(path.slice(route.path.length));
      } catch {
        rest = path.slice(route.path.length);
      }
    } else if (route.path !== path) {
      continue;
    }
    let body: Body = {};
    if (route.json) {
      const parsed = parseBody(request.body);
      if ("error" in parsed) return parsed.error;
      body = parsed.body;
    }
    return await route.handler(world, body, rest);
  }
  return unknownRoute(method, path);
}
