/**
 * The model list, whatever API answered: zod schemas for LM Studio's documented payloads
 * (REST v1, REST v0, OpenAI `/v1/models`), liberal about unknown and missing optional fields, and
 * one normalised {@linkcode ModelInfo} shape out of them.
 *
 * zod is imported lazily, and only for a payload that fails a plain-JavaScript check of the same
 * schema: importing zod costs 20–50 ms on every runtime (more on a cold start), and a well-formed
 * listing (the hot path of `ensure` and `models`) does not need it. zod then names the bad field.
 *
 * @module
 */
import { LMStudioError } from "./errors.ts";

/** Which HTTP API family a server speaks (best first). */
export type ApiFamily = "v1" | "v0" | "openai";

/** One loaded instance of a model. */
export interface ModelInstance {
  /** Instance identifier to use in requests and unloads (`key`, `key:2`, ...). */
  id: string;
  /** Context length it was loaded with, if the server says. */
  contextLength: number | null;
}

/** A model as this package describes it, normalised from any API family. */
export interface ModelInfo {
  /** The id to use: the REST v1 `key`, or the v0 / OpenAI `id`. */
  id: string;
  /** `llm` or `embedding` (v0's `vlm` is an `llm`), `null` where the server does not say. */
  type: "llm" | "embedding" | null;
  /** Publisher (e.g. `openai`, `lmstudio-community`), if known. */
  publisher: string | null;
  /** Human name, if known. */
  displayName: string | null;
  /** Architecture (e.g. `gpt-oss`), if known. */
  architecture: string | null;
  /** Quantization name (e.g. `Q4_K_M`), if known. */
  quantization: string | null;
  /** Size on disk in bytes, if known. */
  sizeBytes: number | null;
  /** Maximum context length, if known. */
  maxContextLength: number | null;
  /** `gguf`, `mlx`, ..., if known. */
  format: string | null;
  /** Variant keys (`key@quant`), empty if none are listed. */
  variants: string[];
  /** Whether any instance is loaded; `null` where the server cannot say (OpenAI-only servers). */
  loaded: boolean | null;
  /** Loaded instances; `null` where the server cannot say. */
  instances: ModelInstance[] | null;
  /** The API family this entry came from. */
  source: ApiFamily;
}

// deno-lint-ignore no-explicit-any
type Zod = any;
let zodPromise: Promise<Zod> | undefined;
function loadZod(): Promise<Zod> {
  zodPromise ??= import("zod").then((module) => module.z);
  return zodPromise;
}

// deno-lint-ignore no-explicit-any
const schemaCache = new Map<ApiFamily, any>();

// deno-lint-ignore no-explicit-any
function buildSchema(z: Zod, api: ApiFamily): any {
  const str = z.string();
  const optStr = str.nullish();
  const optNum = z.number().nullish();
  if (api === "v1") {
    return z.object({
      models: z.array(
        z.looseObject({
          type: optStr,
          publisher: optStr,
          key: str.min(1),
          display_name: optStr,
          architecture: optStr,
          quantization: z.looseObject({ name: optStr, bits_per_weight: optNum }).nullish(),
          size_bytes: optNum,
          params_string: optStr,
          loaded_instances: z.array(
            z.looseObject({ id: str.min(1), config: z.looseObject({ context_length: optNum }).nullish() }),
          ).nullish(),
          max_context_length: optNum,
          format: optStr,
          variants: z.array(str).nullish(),
          selected_variant: optStr,
        }),
      ),
    });
  }
  if (api === "v0") {
    return z.object({
      data: z.array(
        z.looseObject({
          id: str.min(1),
          type: optStr,
          publisher: optStr,
          arch: optStr,
          compatibility_type: optStr,
          quantization: optStr,
          state: optStr,
          max_context_length: optNum,
          loaded_context_length: optNum,
        }),
      ),
    });
  }
  return z.object({ data: z.array(z.looseObject({ id: str.min(1), object: optStr, owned_by: optStr })) });
}

// The schemas above in plain JavaScript, for the hot path. They accept only what zod accepts (a
// payload they reject goes to zod, which then accepts it or names the bad field), so the result is
// the same either way. Written as functions, so that nothing is built at import time.

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function isKey(value: unknown): boolean {
  return typeof value === "string" && value.length > 0;
}

function isOptString(value: unknown): boolean {
  return value === undefined || value === null || typeof value === "string";
}

function isOptNumber(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === "number" && Number.isFinite(value));
}

function everyItem(value: unknown, check: (item: unknown) => boolean): boolean {
  if (!Array.isArray(value)) return false;
  for (let i = 0; i < value.length; i++) if (!check(value[i])) return false;
  return true;
}

function allOptStrings(entry: Record<string, unknown>, keys: readonly string[]): boolean {
  for (const key of keys) if (!isOptString(entry[key])) return false;
  return true;
}

const V1_STRINGS = [
  "type",
  "publisher",
  "display_name",
  "architecture",
  "params_string",
  "format",
  "selected_variant",
];
const V0_STRINGS = ["type", "publisher", "arch", "compatibility_type", "quantization", "state"];

function isV1Instance(value: unknown): boolean {
  if (!isRecord(value) || !isKey(value.id)) return false;
  const config = value.config;
  return config === undefined || config === null || (isRecord(config) && isOptNumber(config.context_length));
}

function isV1Model(value: unknown): boolean {
  if (!isRecord(value) || !isKey(value.key) || !allOptStrings(value, V1_STRINGS)) return false;
  if (!isOptNumber(value.size_bytes) || !isOptNumber(value.max_context_length)) return false;
  const q = value.quantization;
  if (
    q !== undefined && q !== null && !(isRecord(q) && isOptString(q.name) && isOptNumber(q.bits_per_weight))
  ) {
    return false;
  }
  const instances = value.loaded_instances;
  if (instances !== undefined && instances !== null && !everyItem(instances, isV1Instance)) return false;
  const variants = value.variants;
  return variants === undefined || variants === null || everyItem(variants, (v) => typeof v === "string");
}

function isV0Model(value: unknown): boolean {
  return isRecord(value) && isKey(value.id) && allOptStrings(value, V0_STRINGS) &&
    isOptNumber(value.max_context_length) && isOptNumber(value.loaded_context_length);
}

function isOpenAiModel(value: unknown): boolean {
  return isRecord(value) && isKey(value.id) && isOptString(value.object) && isOptString(value.owned_by);
}

/** Whether a listing certainly passes the zod schema of its family (false: ask zod). */
function conforms(api: ApiFamily, json: unknown): boolean {
  if (!isRecord(json)) return false;
  if (api === "v1") return everyItem(json.models, isV1Model);
  return everyItem(json.data, api === "v0" ? isV0Model : isOpenAiModel);
}

function normaliseType(type: string | null | undefined): "llm" | "embedding" | null {
  if (type === "llm" || type === "vlm") return "llm";
  if (type === "embedding" || type === "embeddings") return "embedding";
  return null;
}

/** The endpoint each family lists models at. */
export const MODELS_PATH: Readonly<Record<ApiFamily, string>> = {
  v1: "/api/v1/models",
  v0: "/api/v0/models",
  openai: "/v1/models",
};

/**
 * Validates a models listing of the given API family and normalises it. A malformed payload is an
 * `INVALID_RESPONSE` naming the endpoint and the field.
 *
 * @example
 * ```ts
 * import { parseModelList } from "@vtcode/lmstudio";
 * const models = await parseModelList("openai", { data: [{ id: "openai/gpt-oss-20b", object: "model" }] });
 * models[0].loaded; // null: the OpenAI listing cannot say
 * ```
 */
export async function parseModelList(api: ApiFamily, json: unknown): Promise<ModelInfo[]> {
  // deno-lint-ignore no-explicit-any
  let data: any = json;
  if (!conforms(api, json)) {
    const z = await loadZod();
    let schema = schemaCache.get(api);
    if (!schema) {
      schema = buildSchema(z, api);
      schemaCache.set(api, schema);
    }
    const parsed = schema.safeParse(json);
    if (parsed.success) data = parsed.data;
    else throw malformed(api, parsed.error.issues[0]);
  }
  return normalise(api, data);
}

// deno-lint-ignore no-explicit-any
function malformed(api: ApiFamily, issue: any): LMStudioError {
  const field = issue?.path?.length ? issue.path.join(".") : "(root)";
  return new LMStudioError(
    "INVALID_RESPONSE",
    `Malformed answer from GET ${MODELS_PATH[api]}: field ${field}: ${issue?.message ?? "invalid"}`,
    {
      hint: "The server answered in a shape LM Studio does not use: check --url and the LM Studio version.",
      endpoint: `GET ${MODELS_PATH[api]}`,
    },
  );
}

// deno-lint-ignore no-explicit-any
function normalise(api: ApiFamily, data: any): ModelInfo[] {
  if (api === "v1") {
    // deno-lint-ignore no-explicit-any
    return data.models.map((m: any): ModelInfo => {
      const instances: ModelInstance[] = (m.loaded_instances ?? []).map((
        i: { id: string; config?: { context_length?: number | null } | null },
      ) => ({
        id: i.id,
        contextLength: i.config?.context_length ?? null,
      }));
      return {
        id: m.key,
        type: normaliseType(m.type),
        publisher: m.publisher ?? null,
        displayName: m.display_name ?? null,
        architecture: m.architecture ?? null,
        quantization: m.quantization?.name ?? null,
        sizeBytes: m.size_bytes ?? null,
        maxContextLength: m.max_context_length ?? null,
        format: m.format ?? null,
        variants: m.variants ?? [],
        loaded: instances.length > 0,
        instances,
        source: "v1",
      };
    });
  }
  if (api === "v0") {
    // deno-lint-ignore no-explicit-any
    return data.data.map((m: any): ModelInfo => {
      const loaded = m.state === "loaded" ? true : m.state === "not-loaded" ? false : null;
      return {
        id: m.id,
        type: normaliseType(m.type),
        publisher: m.publisher ?? null,
        displayName: null,
        architecture: m.arch ?? null,
        quantization: m.quantization ?? null,
        sizeBytes: null,
        maxContextLength: m.max_context_length ?? null,
        format: m.compatibility_type ?? null,
        variants: [],
        loaded,
        // v0 tells loaded state but not instance ids; the id itself is what requests use.
        instances: loaded === null
          ? null
          : loaded
          ? [{ id: m.id, contextLength: m.loaded_context_length ?? null }]
          : [],
        source: "v0",
      };
    });
  }
  return data.data.map((m: { id: string }): ModelInfo => ({
    id: m.id,
    type: /embed/i.test(m.id) ? "embedding" : null,
    publisher: m.id.includes("/") ? m.id.slice(0, m.id.indexOf("/")) : null,
    displayName: null,
    architecture: null,
    quantization: null,
    sizeBytes: null,
    maxContextLength: null,
    format: null,
    variants: [],
    loaded: null,
    instances: null,
    source: "openai",
  }));
}

/**
 * Cheap shape sniffing without zod, for API detection on the hot path: does this body look like
 * the models listing of the given family?
 *
 * @example
 * ```ts
 * import { looksLikeModelList } from "@vtcode/lmstudio";
 * looksLikeModelList("v1", { models: [] }); // true
 * ```
 */
export function looksLikeModelList(api: ApiFamily, json: unknown): boolean {
  if (json === null || typeof json !== "object" || Array.isArray(json)) return false;
  if ((json as { error?: unknown }).error !== undefined) return false;
  return api === "v1"
    ? Array.isArray((json as { models?: unknown }).models)
    : Array.isArray((json as { data?: unknown }).data);
}
