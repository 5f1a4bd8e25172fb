/**
 * The model list, whatever API answered: zod schemas for LM Studio's documented payloads
 * (REST v1, REST v0, OpenAI `/v1/models`), liberal about unknown and missing optional fields, and
 * one normalised {@linkcode ModelInfo} shape out of them.
 *
 * Read liberally, concluded strictly. The schemas reject only what makes a listing unusable: no
 * entries array, an entry without its id, an instance id that is not a non-empty string, a field of
 * the wrong type where the value is passed on as is (`publisher`, `size_bytes`, ...). What an agent
 * decides on (context lengths, capabilities) is not validated but read in `normalise()`:
 * a value that is not what LM Studio documents becomes `null`, "not claimed", never a crash and
 * never a guess.
 *
 * zod is imported lazily, and only for a payload that fails a plain-JavaScript check of the same
 * schema: importing zod costs 20–50 ms on every runtime (more on a cold start), and a well-formed
 * listing (the hot path of `ensure` and `models`) does not need it. zod then names the bad field.
 *
 * The shape is therefore written twice, and a parity test (tests/models.test.ts) holds the two
 * together: it feeds both the documented payloads of each family with every field replaced by
 * values of every JSON type, and the listing answers of the reliability suites, and asserts the
 * same verdict. Measured against the other way issue 11 allows, one source for both: a prototype
 * (a schema table plus a plain and a zod interpreter) came to ~64 lines against ~106 here (65 of
 * plain checks, 41 of zod), but it is a third notation with its own required/optional/list rules
 * (the prototype got `loaded_instances[].id` wrong at first), zod then only formats messages, and
 * the two interpreters still need the same parity test, as zod's `number`, `looseObject` and
 * `nullish` are not ours to define. Simpler to hold in one's head: two notations every reader
 * knows, the zod one line for line with LM Studio's docs, and a test that fails when they drift.
 *
 * @module
 */
import { isObject as isRecord, tokenCount } from "./json.ts";
import { LMStudioError } from "./errors.ts";

/** Which HTTP API family a server speaks (best first). */
export type ApiFamily = "v1" | "v0" | "openai";

/**
 * Something a model can do that an agent may require: call tools (`tool-use`), read images
 * (`vision`), or think before answering (`reasoning`).
 *
 * @example
 * ```ts
 * import { type Capability, type ModelInfo } from "@vtcode/lmstudio";
 * declare const model: ModelInfo;
 * const wanted: Capability[] = ["tool-use"];
 * const lacking = model.capabilities && wanted.filter((c) => !model.capabilities!.includes(c));
 * // null: the server does not say; []: it has them all; else the ones it lacks.
 * ```
 */
export type Capability = "tool-use" | "vision" | "reasoning";

/** One loaded instance of a model. */
export interface ModelInstance {
  /** Instance identifier to use in requests and unloads (`key`, `key:2`, ...). */
  id: string;
  /**
   * Context length it was loaded with (tokens), or `null` where the server does not say or says
   * something that is not a positive integer (a string, zero, a fraction, ...).
   */
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
  /**
   * The largest context the model supports (REST `max_context_length`): its ceiling, never the
   * context it is loaded with (see {@linkcode ModelInstance.contextLength}). `null` where unknown
   * or not a positive integer.
   */
  maxContextLength: number | null;
  /** `gguf`, `mlx`, ..., if known. */
  format: string | null;
  /** Variant keys (`key@quant`), empty if none are listed. */
  variants: string[];
  /** Whether any instance is loaded; `null` where the server cannot say (OpenAI-only servers). */
  loaded: boolean | null;
  /**
   * Loaded instances, each with the context it was loaded with; `[]` when none is loaded, `null`
   * where the server cannot say (OpenAI `/v1/models`; a v0 entry without a `state`). REST v0 says
   * only that a model is loaded, with one `loaded_context_length`: LM Studio does not document how it
   * shows several instances, so a v0 entry gives one, under the model's own id. `listModels()`
   * replaces it with `lms ps`'s instances when the server is on this machine and `lms` answers.
   */
  instances: ModelInstance[] | null;
  /**
   * What the model can do, in the order `tool-use`, `vision`, `reasoning`; `null` where the server
   * does not say. A capability missing from the array is one LM Studio says the model lacks, except
   * `reasoning`, which only newer servers report (REST v1 `capabilities.reasoning`): its absence
   * proves nothing. An embedding model has `[]`: it neither chats nor calls tools, which is why
   * LM Studio documents `capabilities` as "absent for embedding models".
   */
  capabilities: Capability[] | null;
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

// Fields not listed are ignored here (looseObject) and, where used, read liberally in normalise():
// the context lengths (v1 `max_context_length`, `loaded_instances[].config`; v0 `max_context_length`,
// `loaded_context_length`) and `capabilities` (a v1 object, a v0 array).
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
          loaded_instances: z.array(z.looseObject({ id: str.min(1) })).nullish(),
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
        }),
      ),
    });
  }
  return z.object({ data: z.array(z.looseObject({ id: str.min(1), object: optStr, owned_by: optStr })) });
}

// The schemas above in plain JavaScript, for the hot path. They accept exactly what zod accepts
// (the parity test in tests/models.test.ts holds them to that; were one to accept less, the payload
// would go to zod, which accepts it or names the bad field). Written as functions, so that nothing
// is built at import time.

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
  return isRecord(value) && isKey(value.id);
}

function isV1Model(value: unknown): boolean {
  if (!isRecord(value) || !isKey(value.key) || !allOptStrings(value, V1_STRINGS)) return false;
  if (!isOptNumber(value.size_bytes)) return false;
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
  return isRecord(value) && isKey(value.id) && allOptStrings(value, V0_STRINGS);
}

function isOpenAiModel(value: unknown): boolean {
  return isRecord(value) && isKey(value.id) && isOptString(value.object) && isOptString(value.owned_by);
}

/**
 * Whether a listing passes the schema of its family, by the plain-JavaScript check of the hot
 * path. Internal (not exported from the package): the parity test compares it with
 * {@linkcode conformsZod}.
 *
 * @example
 * ```ts
 * import { conformsFast } from "./models.ts";
 * conformsFast("openai", { data: [{ id: "qwen/qwen3-4b-2507" }] }); // true
 * ```
 */
export function conformsFast(api: ApiFamily, json: unknown): boolean {
  if (!isRecord(json)) return false;
  if (api === "v1") return everyItem(json.models, isV1Model);
  return everyItem(json.data, api === "v0" ? isV0Model : isOpenAiModel);
}

// deno-lint-ignore no-explicit-any
async function zodSchema(api: ApiFamily): Promise<any> {
  let schema = schemaCache.get(api);
  if (!schema) {
    schema = buildSchema(await loadZod(), api);
    schemaCache.set(api, schema);
  }
  return schema;
}

/**
 * Whether a listing passes the zod schema of its family. Internal (not exported from the package):
 * the parity test compares it with {@linkcode conformsFast}.
 *
 * @example
 * ```ts
 * import { conformsZod } from "./models.ts";
 * await conformsZod("v0", { data: [{ id: "" }] }); // false
 * ```
 */
export async function conformsZod(api: ApiFamily, json: unknown): Promise<boolean> {
  return (await zodSchema(api)).safeParse(json).success;
}

function normaliseType(type: string | null | undefined): "llm" | "embedding" | null {
  if (type === "llm" || type === "vlm") return "llm";
  if (type === "embedding" || type === "embeddings") return "embedding";
  return null;
}

/** The capabilities in their documented order, from what was observed (REST listings and `lms ls`). */
export function capabilityList(toolUse: boolean, vision: boolean, reasoning: boolean): Capability[] {
  const list: Capability[] = [];
  if (toolUse) list.push("tool-use");
  if (vision) list.push("vision");
  if (reasoning) list.push("reasoning");
  return list;
}

/**
 * REST v1 `capabilities: { vision, trained_for_tool_use, reasoning? }`. Both booleans must be
 * there for any conclusion (a missing one would read as "lacks it"); `reasoning` counts when it is
 * an object that allows something other than "off".
 */
function v1Capabilities(type: "llm" | "embedding" | null, capabilities: unknown): Capability[] | null {
  if (capabilities === undefined || capabilities === null) return type === "embedding" ? [] : null;
  if (!isRecord(capabilities)) return null;
  const { vision, trained_for_tool_use: toolUse, reasoning } = capabilities;
  if (typeof vision !== "boolean" || typeof toolUse !== "boolean") return null;
  const options = isRecord(reasoning) ? reasoning.allowed_options : undefined;
  const reasons = isRecord(reasoning) &&
    (!Array.isArray(options) || options.some((option) => option !== "off"));
  return capabilityList(toolUse, vision, reasons);
}

/**
 * REST v0 (0.3.16+) `capabilities: ["tool_use"]`, with `type: "vlm"` for vision. Without the
 * array (older servers) nothing is said about tool use: `null`. Vision is known only from a type
 * of `llm` or `vlm`.
 */
function v0Capabilities(rawType: unknown, capabilities: unknown): Capability[] | null {
  const isEmbedding = rawType === "embedding" || rawType === "embeddings";
  if ((capabilities === undefined || capabilities === null) && isEmbedding) return [];
  if (!everyItem(capabilities, (c) => typeof c === "string")) return null;
  const said = capabilities as string[];
  if (!isEmbedding && rawType !== "llm" && rawType !== "vlm") return null;
  return capabilityList(
    said.includes("tool_use"),
    rawType === "vlm" || said.includes("vision"),
    said.includes("reasoning"),
  );
}

/** The endpoint each family lists models at. */
export const MODELS_PATH: Readonly<Record<ApiFamily, string>> = {
  v1: "/api/v1/models",
  v0: "/api/v0/models",
  openai: "/v1/models",
};

/**
 * Validates a models listing of the given API family and normalises it. A malformed payload is an
 * `INVALID_RESPONSE` naming the endpoint and the field. Context lengths and capabilities that are
 * not what LM Studio documents are `null` (unknown), never an error.
 *
 * @example
 * ```ts
 * import { parseModelList } from "./models.ts";
 * const models = await parseModelList("openai", { data: [{ id: "openai/gpt-oss-20b", object: "model" }] });
 * models[0].loaded; // null: the OpenAI listing cannot say
 * models[0].capabilities; // null: nor what the model can do
 * ```
 */
export async function parseModelList(api: ApiFamily, json: unknown): Promise<ModelInfo[]> {
  // deno-lint-ignore no-explicit-any
  let data: any = json;
  if (!conformsFast(api, json)) {
    const parsed = (await zodSchema(api)).safeParse(json);
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
      hint:
        "The server answered in a shape LM Studio does not use: check the baseUrl option and the LM Studio version.",
      endpoint: `GET ${MODELS_PATH[api]}`,
    },
  );
}

// deno-lint-ignore no-explicit-any
function normalise(api: ApiFamily, data: any): ModelInfo[] {
  if (api === "v1") {
    // deno-lint-ignore no-explicit-any
    return data.models.map((m: any): ModelInfo => {
      const type = normaliseType(m.type);
      // `loaded_instances` is always there on LM Studio; without it, nothing is known.
      const instances: ModelInstance[] | null = Array.isArray(m.loaded_instances)
        ? m.loaded_instances.map((i: { id: string; config?: unknown }) => ({
          id: i.id,
          contextLength: isRecord(i.config) ? tokenCount(i.config.context_length) : null,
        }))
        : null;
      return {
        id: m.key,
        type,
        publisher: m.publisher ?? null,
        displayName: m.display_name ?? null,
        architecture: m.architecture ?? null,
        quantization: m.quantization?.name ?? null,
        sizeBytes: m.size_bytes ?? null,
        maxContextLength: tokenCount(m.max_context_length),
        format: m.format ?? null,
        variants: m.variants ?? [],
        loaded: instances === null ? null : instances.length > 0,
        instances,
        capabilities: v1Capabilities(type, m.capabilities),
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
        maxContextLength: tokenCount(m.max_context_length),
        format: m.compatibility_type ?? null,
        variants: [],
        loaded,
        // v0 tells loaded state but not instance ids nor how many (undocumented): the model's id,
        // which requests use, stands for its instances; `lms ps` can tell more (listing.ts).
        instances: loaded === null
          ? null
          : loaded
          ? [{ id: m.id, contextLength: tokenCount(m.loaded_context_length) }]
          : [],
        capabilities: v0Capabilities(m.type, m.capabilities),
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
    capabilities: null,
    source: "openai",
  }));
}

/**
 * Cheap shape sniffing without zod, for API detection on the hot path: does this body look like
 * the models listing of the given family?
 *
 * @example
 * ```ts
 * import { looksLikeModelList } from "./models.ts";
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
