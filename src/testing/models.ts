/**
 * Model records of the simulator and the payload shapes LM Studio reports them in: OpenAI
 * `/v1/models`, REST v0, REST v1 and the `lms ls/ps --json` (SDK camelCase) shapes.
 * Internal to the testing kit.
 *
 * @module
 */
import type { SimInstanceSnapshot, SimModel, SimReasoning } from "./types.ts";

/** A {@linkcode SimModel} with every default applied. */
export interface ModelRecord {
  key: string;
  type: "llm" | "embedding";
  publisher: string;
  displayName: string;
  architecture: string;
  quantization: string;
  bitsPerWeight: number;
  sizeBytes: number;
  maxContextLength: number;
  format: "gguf" | "mlx";
  variants?: string[];
  paramsString: string | null;
  vision: boolean;
  trainedForToolUse: boolean;
  /** REST v1 `capabilities.reasoning`, or null when the model exposes none. */
  reasoning: SimReasoning | null;
  /** The most context this model gets (auto-fit), or null for no limit below the maximum. */
  fitContextLength: number | null;
}

/** A loaded instance with everything LM Studio tracks about it. */
export interface InstanceRecord {
  key: string;
  id: string;
  /** The context actually loaded (after auto-fit). */
  contextLength: number;
  /** The context the load asked for, or null when it named none. */
  requestedContextLength: number | null;
  /** Which path loaded it. */
  loadedBy: SimInstanceSnapshot["loadedBy"];
  /** Idle TTL in ms, or null (models loaded with `lms load` have none unless `--ttl`). */
  ttlMs: number | null;
  loadedAt: number;
  lastUsedTime: number | null;
  /** Loaded just in time by an inference request (subject to auto-evict). */
  jit: boolean;
  /** Max parallel predictions (LLMs), null for embedding models. */
  parallel: number | null;
  evalBatchSize: number;
  flashAttention: boolean;
  offloadKvCacheToGpu: boolean;
  numExperts: number;
}

function titleCase(name: string): string {
  return name.split(/[-_\s]+/).filter(Boolean).map((w) => w[0]!.toUpperCase() + w.slice(1)).join(" ");
}

function derivedBits(quantization: string): number {
  const match = /(\d+)/.exec(quantization);
  return match ? Number(match[1]) : 4;
}

function derivedParams(key: string): string | null {
  const name = key.split("/").pop() ?? key;
  const match = /(?:^|[-_])(\d+(?:\.\d+)?)([bm])(?=$|[-_@])/i.exec(name);
  return match ? `${match[1]}${match[2]!.toUpperCase()}` : null;
}

/** Applies the documented defaults to a model description; throws on an unusable one. */
export function normalizeModel(model: SimModel): ModelRecord {
  if (!model || typeof model.key !== "string" || model.key.trim() === "") {
    throw new TypeError(`Simulator model needs a non-empty "key": ${JSON.stringify(model)}`);
  }
  const type = model.type ?? "llm";
  if (type !== "llm" && type !== "embedding") {
    throw new TypeError(`Unknown model type ${JSON.stringify(type)}`);
  }
  const format = model.format ?? "gguf";
  const quantization = model.quantization ?? (format === "mlx" ? "4bit" : "Q4_K_M");
  const name = model.key.split("/").pop() ?? model.key;
  const record: ModelRecord = {
    key: model.key,
    type,
    publisher: model.publisher ?? (model.key.includes("/") ? model.key.split("/")[0]! : "lmstudio-community"),
    displayName: model.displayName ?? titleCase(name),
    architecture: model.architecture ?? (type === "llm" ? "llama" : "nomic-bert"),
    quantization,
    bitsPerWeight: model.bitsPerWeight ?? derivedBits(quantization),
    sizeBytes: model.sizeBytes ?? 1e9,
    maxContextLength: model.maxContextLength ?? (type === "llm" ? 131072 : 2048),
    format,
    paramsString: model.paramsString ?? (type === "llm" ? derivedParams(model.key) : null),
    vision: model.vision ?? false,
    trainedForToolUse: model.trainedForToolUse ?? false,
    reasoning: model.reasoning === true
      ? { allowedOptions: ["off", "on"], default: "on" }
      : model.reasoning
      ? { allowedOptions: [...model.reasoning.allowedOptions], default: model.reasoning.default }
      : null,
    fitContextLength: model.fitContextLength ?? null,
  };
  if (model.variants !== undefined) record.variants = [...model.variants];
  return record;
}

/** The public description of a record (for `state.models()`). */
export function publicModel(record: ModelRecord): SimModel {
  const model: SimModel = {
    key: record.key,
    type: record.type,
    publisher: record.publisher,
    displayName: record.displayName,
    architecture: record.architecture,
    quantization: record.quantization,
    bitsPerWeight: record.bitsPerWeight,
    sizeBytes: record.sizeBytes,
    maxContextLength: record.maxContextLength,
    format: record.format,
    vision: record.vision,
    trainedForToolUse: record.trainedForToolUse,
  };
  if (record.paramsString !== null) model.paramsString = record.paramsString;
  if (record.variants) model.variants = [...record.variants];
  if (record.reasoning) {
    model.reasoning = {
      allowedOptions: [...record.reasoning.allowedOptions],
      default: record.reasoning.default,
    };
  }
  if (record.fitContextLength !== null) model.fitContextLength = record.fitContextLength;
  return model;
}

/** LM Studio's default context for LLM loads that name none (JIT loads included). */
export const DEFAULT_CONTEXT_LENGTH = 4096;

/** Default loaded context length: `llmDefault` (or less) for LLMs, the maximum for embedding models. */
export function defaultContextLength(
  record: ModelRecord,
  llmDefault: number = DEFAULT_CONTEXT_LENGTH,
): number {
  return record.type === "llm" ? Math.min(llmDefault, record.maxContextLength) : record.maxContextLength;
}

/** The relative model path as `lms`/the SDK report it. */
export function modelPath(record: ModelRecord): string {
  if (record.key.includes("/")) return record.key;
  const name = record.key;
  return record.format === "mlx"
    ? `${record.publisher}/${name}-MLX-${record.quantization}`
    : `${record.publisher}/${name}-GGUF/${name}-${record.quantization}.gguf`;
}

/** An entry of OpenAI-compatible `GET /v1/models`. */
export function openAiModel(id: string): { id: string; object: "model"; owned_by: "organization_owner" } {
  return { id, object: "model", owned_by: "organization_owner" };
}

/** An entry of REST v0 `GET /api/v0/models` (`vlm`/`embeddings` types, `state`). */
export function v0Model(record: ModelRecord, instances: InstanceRecord[]): Record<string, unknown> {
  const type = record.type === "embedding" ? "embeddings" : record.vision ? "vlm" : "llm";
  const entry: Record<string, unknown> = {
    id: record.key,
    object: "model",
    type,
    publisher: record.publisher,
    arch: record.architecture,
    compatibility_type: record.format,
    quantization: record.quantization,
    state: instances.length > 0 ? "loaded" : "not-loaded",
    max_context_length: record.maxContextLength,
  };
  if (instances.length > 0) entry.loaded_context_length = instances[0]!.contextLength;
  if (record.type === "llm") entry.capabilities = record.trainedForToolUse ? ["tool_use"] : [];
  return entry;
}

/** The `config` of a REST v1 `loaded_instances` entry (embedding and MLX models report less). */
export function v1InstanceConfig(record: ModelRecord, instance: InstanceRecord): Record<string, unknown> {
  if (record.type === "embedding") return { context_length: instance.contextLength };
  if (record.format === "mlx") return { context_length: instance.contextLength, parallel: instance.parallel };
  return {
    context_length: instance.contextLength,
    eval_batch_size: instance.evalBatchSize,
    parallel: instance.parallel,
    flash_attention: instance.flashAttention,
    num_experts: instance.numExperts,
    offload_kv_cache_to_gpu: instance.offloadKvCacheToGpu,
  };
}

/** An entry of REST v1 `GET /api/v1/models`, field for field as documented. */
export function v1Model(record: ModelRecord, instances: InstanceRecord[]): Record<string, unknown> {
  const entry: Record<string, unknown> = {
    type: record.type,
    publisher: record.publisher,
    key: record.key,
    display_name: record.displayName,
  };
  if (record.type === "llm") entry.architecture = record.architecture;
  entry.quantization = { name: record.quantization, bits_per_weight: record.bitsPerWeight };
  entry.size_bytes = record.sizeBytes;
  entry.params_string = record.paramsString;
  entry.loaded_instances = instances.map((instance) => ({
    id: instance.id,
    config: v1InstanceConfig(record, instance),
  }));
  entry.max_context_length = record.maxContextLength;
  entry.format = record.format;
  if (record.type === "llm") {
    const capabilities: Record<string, unknown> = {
      vision: record.vision,
      trained_for_tool_use: record.trainedForToolUse,
    };
    if (record.reasoning) {
      capabilities.reasoning = {
        allowed_options: [...record.reasoning.allowedOptions],
        default: record.reasoning.default,
      };
    }
    entry.capabilities = capabilities;
    entry.description = null;
  }
  if (record.variants && record.variants.length > 0) {
    entry.variants = [...record.variants];
    entry.selected_variant = record.variants[0];
  }
  return entry;
}

/** The fields `lms ls --json` and `lms ps --json` share (SDK `ModelInfoBase`), in lms's order. */
function lmsInfoBase(record: ModelRecord): Record<string, unknown> {
  const path = modelPath(record);
  const info: Record<string, unknown> = {
    type: record.type,
    modelKey: record.key,
    format: record.format === "mlx" ? "safetensors" : "gguf",
    displayName: record.displayName,
    publisher: record.publisher,
    path,
    sizeBytes: record.sizeBytes,
    indexedModelIdentifier: path,
    deviceIdentifier: null,
  };
  if (record.paramsString !== null) info.paramsString = record.paramsString;
  info.architecture = record.architecture;
  info.quantization = { name: record.quantization, bits: record.bitsPerWeight };
  return info;
}

/** An entry of `lms ls --json` (SDK `ModelInfo`, camelCase; MLX is `safetensors`). */
export function lmsModelInfo(record: ModelRecord): Record<string, unknown> {
  const info = lmsInfoBase(record);
  if (record.variants && record.variants.length > 0) {
    info.variants = [...record.variants];
    info.selectedVariant = record.variants[0];
  }
  if (record.type === "llm") {
    info.vision = record.vision;
    info.trainedForToolUse = record.trainedForToolUse;
  }
  info.maxContextLength = record.maxContextLength;
  return info;
}

/** An entry of `lms ps --json` (SDK `ModelInstanceInfo` minus `instanceReference`, plus status). */
export function lmsInstanceInfo(record: ModelRecord, instance: InstanceRecord): Record<string, unknown> {
  const info = lmsInfoBase(record);
  info.identifier = instance.id;
  info.ttlMs = instance.ttlMs;
  info.lastUsedTime = instance.lastUsedTime;
  if (record.type === "llm") {
    info.vision = record.vision;
    info.trainedForToolUse = record.trainedForToolUse;
  }
  info.maxContextLength = record.maxContextLength;
  info.contextLength = instance.contextLength;
  info.status = "idle";
  info.queued = 0;
  info.parallel = record.type === "llm" ? instance.parallel : null;
  return info;
}
