/**
 * The model list, whatever API answered: zod schemas for LM Studio's documented payloads
 * (REST v1, REST v0, OpenAI `/v1/models`), liberal about unknown and missing optional fields, and
 * one normalised {@linkcode ModelInfo} shape out of them.
 *
 * zod is imported lazily: it costs ~100 ms of start-up on Node, and the readiness check does not
 * need it.
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
  const z = await loadZod();
  let schema = schemaCache.get(api);
  if (!schema) {
    schema = buildSchema(z, api);
    schemaCache.set(api, schema);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path?.length ? issue.path.join(".") : "(root)";
    throw new LMStudioError(
      "INVALID_RESPONSE",
      `Malformed answer from GET ${MODELS_PATH[api]}: field ${field}: ${issue?.message ?? "invalid"}`,
      {
        hint: "The server answered in a shape LM Studio does not use: check --url and the LM Studio version.",
        endpoint: `GET ${MODELS_PATH[api]}`,
      },
    );
  }
  // deno-lint-ignore no-explicit-any
  const data: any = parsed.data;
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
