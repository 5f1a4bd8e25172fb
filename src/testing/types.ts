/**
 * The declarative vocabulary of the LM Studio simulator: models, instances, the start-up state,
 * recorded requests and injectable faults. Re-exported by `@vtcode/lmstudio/testing`.
 *
 * @module
 */
import type { SimReply } from "./inference_types.ts";

/**
 * Which LM Studio generation the simulator answers as:
 * - `"0.4"`: greeting, OpenAI `/v1/*` (with `/v1/responses`), REST v0 `/api/v0/*` and REST v1 `/api/v1/*`;
 * - `"0.3"`: greeting, `/v1/*` (with `/v1/responses`, 0.3.29+) and `/api/v0/*`; `/api/v1/*` are unknown routes;
 * - `"0.2"`: only `/v1/models`, `/v1/chat/completions`, `/v1/completions` and `/v1/embeddings`.
 *
 * @example
 * ```ts
 * import { startSimulator, type SimulatorVersion } from "@vtcode/lmstudio/testing";
 * const version: SimulatorVersion = "0.3";
 * const sim = await startSimulator({ version }); // no /api/v1/* routes
 * await sim.close();
 * ```
 */
export type SimulatorVersion = "0.4" | "0.3" | "0.2";

/**
 * A model on disk (downloaded) or in the download catalog. Only `key` is required.
 *
 * @example
 * ```ts
 * import type { SimModel } from "@vtcode/lmstudio/testing";
 * const llm: SimModel = { key: "openai/gpt-oss-20b", sizeBytes: 12_100_000_000, trainedForToolUse: true };
 * const embedder: SimModel = { key: "text-embedding-nomic-embed-text-v1.5", type: "embedding" };
 * ```
 */
export interface SimModel {
  /** The model key, e.g. `openai/gpt-oss-20b` or `text-embedding-nomic-embed-text-v1.5`. */
  key: string;
  /** `llm` (default) or `embedding`. */
  type?: "llm" | "embedding";
  /** Publisher; defaults to the part of the key before `/`, else `lmstudio-community`. */
  publisher?: string;
  /** Human name; defaults to the key's last segment in title case. */
  displayName?: string;
  /** Architecture; defaults to `llama` (LLM) or `nomic-bert` (embedding). */
  architecture?: string;
  /** Quantization name, e.g. `Q4_K_M` (default; `4bit` for MLX). */
  quantization?: string;
  /** Bits per weight; derived from the quantization name when absent (`Q8_0` → 8, `F16` → 16). */
  bitsPerWeight?: number;
  /** Size on disk / download size in bytes (default 1e9). */
  sizeBytes?: number;
  /** Maximum context length (default 131072 for LLMs, 2048 for embedding models). */
  maxContextLength?: number;
  /**
   * File format (default `gguf`). `lms` reports `mlx` as `safetensors`. An MLX model does not obey
   * `tool_choice: "required"` (LM Studio's api-changelog 0.3.15: llama.cpp only).
   */
  format?: "gguf" | "mlx";
  /** Variant keys (`key@quant`); when present REST v1 also reports `selected_variant`. */
  variants?: string[];
  /** Parameter count string, e.g. `20B`; derived from the key (`...-20b`) when absent, else null. */
  paramsString?: string;
  /** Whether it is a vision model (REST v0 then reports `type: "vlm"`). Default false. */
  vision?: boolean;
  /** Whether it was trained for tool use (v0 `capabilities: ["tool_use"]`). Default false. */
  trainedForToolUse?: boolean;
  /**
   * Reasoning settings, reported by REST v1 as `capabilities.reasoning` (LLMs only; absent by default).
   * `true` means `{ allowedOptions: ["off", "on"], default: "on" }`. Such a model also reasons before
   * it answers (0.3/0.4 profiles): chat completions `message.reasoning` / `delta.reasoning`, REST v1
   * chat a `reasoning` output item and events, unless the request turns it off
   * (`reasoning_effort: "none"`, `reasoning: "off"`) or the default is `"off"`.
   */
  reasoning?: boolean | SimReasoning;
  /**
   * The most context this model gets in this machine's memory: LM Studio's load-time auto-fit
   * (2026) silently gives `min(requested, fitContextLength)`. Default: no limit but the maximum.
   * See also {@linkcode SimulatorState.memory}.
   */
  fitContextLength?: number;
}

/**
 * A reasoning setting of a model, as REST v1 names it.
 *
 * @example
 * ```ts
 * import type { SimReasoningOption } from "@vtcode/lmstudio/testing";
 * const effort: SimReasoningOption = "medium";
 * ```
 */
export type SimReasoningOption = "off" | "on" | "low" | "medium" | "high";

/**
 * A model's reasoning settings (REST v1 `capabilities.reasoning` `{ allowed_options, default }`).
 *
 * @example
 * ```ts
 * import type { SimModel, SimReasoning } from "@vtcode/lmstudio/testing";
 * const reasoning: SimReasoning = { allowedOptions: ["low", "medium", "high"], default: "medium" };
 * const gptOss: SimModel = { key: "openai/gpt-oss-20b", trainedForToolUse: true, reasoning };
 * ```
 */
export interface SimReasoning {
  /** The settings a request may choose. */
  allowedOptions: SimReasoningOption[];
  /** The setting used when a request names none (must be one of `allowedOptions`). */
  default: SimReasoningOption;
}

/**
 * The machine's memory, as far as context is concerned: with `maxContextLength`, every load
 * (REST v1, `lms load`, JIT, `loadModel()`) gets at most that much context, silently, like
 * LM Studio's 2026 auto-fit (`llm.load.llama.autoFit`, on by default). A per-model limit is
 * {@linkcode SimModel.fitContextLength}; the smaller one wins.
 *
 * @example
 * ```ts
 * import { startSimulator } from "@vtcode/lmstudio/testing";
 * const sim = await startSimulator({ models: [{ key: "m" }], memory: { maxContextLength: 8192 } });
 * const instance = sim.loadModel("m", { contextLength: 32768 });
 * console.log(instance.contextLength); // 8192
 * await sim.close();
 * ```
 */
export interface SimMemory {
  /** The most context any load gets (a positive integer). Default: no limit. */
  maxContextLength?: number;
}

/**
 * LM Studio behaviours that are bugs, each off unless switched on. An unknown name makes
 * `startSimulator` reject.
 * - `concurrentJitDuplicates`: JIT loads of one model that overlap each create an instance
 *   (`key`, `key:2`, ...) instead of sharing one load (lmstudio-bug-tracker #1751, 0.4.9–0.4.16).
 * - `autoFitIgnoresRequest`: an LLM load gets the most context that fits (the model's maximum
 *   when memory is not limited) whatever was asked (#2250, #2270, #2287: `-c 4096` loaded at 131072).
 * - `singleLoadedAnswersAnyName`: when exactly one model is loaded, the `model` field is ignored
 *   and that model answers (shared API reference §3.4(e); lmstudio-bug-tracker #619 on 0.3.14, #366
 *   on 0.3.8, both open). See {@linkcode SimQuirks.singleLoadedAnswersAnyName}.
 *
 * @example
 * ```ts
 * import { startSimulator, type SimQuirks } from "@vtcode/lmstudio/testing";
 * const quirks: SimQuirks = { concurrentJitDuplicates: true };
 * const sim = await startSimulator({ models: [{ key: "m" }], quirks });
 * await sim.close();
 * ```
 */
export interface SimQuirks {
  /** Overlapping JIT loads of one model create `key`, `key:2`, ... (default false). */
  concurrentJitDuplicates?: boolean;
  /** LLM loads ignore the requested context and get the most that fits (default false). */
  autoFitIgnoresRequest?: boolean;
  /**
   * An inference request naming a model that is not there is answered by the one loaded model, as
   * LM Studio does (lmstudio-bug-tracker #619 on 0.3.14, #366 on 0.3.8, both open; the shared API
   * reference, §3.4(e)): HTTP 200, with `model` set to that instance's id (e.g.
   * `"gemma-3-1b-it-qat:2"` for a request naming `"any-model-name"`), where the simulator would
   * otherwise answer 400 `model_not_found` (or, JIT off, "No models loaded"). It applies when the
   * name matches no loaded instance and cannot be JIT-loaded (not downloaded, or JIT off), and
   * exactly one instance of the type the endpoint needs is loaded: an LLM for chat, completions,
   * Responses and `/v1/messages` (their REST v0 twins too); an embedding model for
   * `/v1/embeddings` and `/api/v0/embeddings`. Loaded models of the other type do not count (a
   * chat request is answered by the one loaded LLM even when an embedding model is loaded too)
   * [inference: the issues show chat requests only]. Two or more instances of that type: the
   * usual 400. REST v1 `/api/v1/chat` is not affected (not reported there). A name that JIT can
   * load is loaded, as without the quirk. Default false.
   */
  singleLoadedAnswersAnyName?: boolean;
}

/**
 * A loaded instance. `id` defaults to the key, then `key:2`, `key:3`, ...
 *
 * @example
 * ```ts
 * import type { SimInstance } from "@vtcode/lmstudio/testing";
 * const instance: SimInstance = { key: "openai/gpt-oss-20b", contextLength: 16384 };
 * ```
 */
export interface SimInstance {
  /** Key of a downloaded model. */
  key: string;
  /** Instance identifier. */
  id?: string;
  /** Loaded context length (default min(4096, max) for LLMs, the maximum for embedding models). */
  contextLength?: number;
}

/**
 * The state a simulator starts from. Everything is optional.
 *
 * @example
 * ```ts
 * import type { SimulatorState } from "@vtcode/lmstudio/testing";
 * const state: SimulatorState = {
 *   models: [{ key: "openai/gpt-oss-20b" }],
 *   loaded: ["openai/gpt-oss-20b"],
 *   catalog: [{ key: "qwen/qwen3-4b-2507", sizeBytes: 2_500_000_000 }],
 *   auth: { token: "sk-lm-abcdefgh:01234567890123456789" },
 *   jit: false,
 *   download: { mode: "manual" },
 * };
 * ```
 */
export interface SimulatorState {
  /** Version profile (default `"0.4"`). */
  version?: SimulatorVersion;
  /** Downloaded models. */
  models?: SimModel[];
  /** Loaded instances (keys must be among `models`). */
  loaded?: (string | SimInstance)[];
  /** Models that can be downloaded (`sizeBytes` default 1e9). */
  catalog?: SimModel[];
  /** Authentication is on when present: every route but the greeting needs `Authorization: Bearer <token>`. */
  auth?: { token: string };
  /** Just-in-time loading (default true). */
  jit?: boolean;
  /**
   * Download progress: `"time"` (default) advances with wall time at `bytesPerSecond` (default: the
   * whole model in about one second); `"manual"` advances only through `advanceDownload()`.
   */
  download?: { mode?: "time" | "manual"; bytesPerSecond?: number };
  /** How long a load takes, in milliseconds (default 50). */
  loadDelayMs?: number;
  /** Whether the HTTP server is running at start (default true). `lms server start` turns it on. */
  serverRunning?: boolean;
  /** The canned assistant text of inference answers. */
  reply?: string;
  /**
   * The reply script: what the model answers, one reply per inference request, before it falls
   * back to `reply` (see {@linkcode SimReply}). `startSimulator` rejects a malformed script;
   * `Simulator.queueReplies()` adds more while it runs.
   */
  replies?: SimReply[];
  /**
   * The context an LLM gets when a load names none (JIT loads, `lms load` without `-c`, REST v1
   * without `context_length`): default 4096, never above the model's maximum. Embedding models
   * always default to their maximum.
   */
  defaultContextLength?: number;
  /** Memory limits: loads get less context than asked, silently (auto-fit). */
  memory?: SimMemory;
  /** LM Studio bugs to reproduce (all off by default). */
  quirks?: SimQuirks;
}

/**
 * One request the simulator received (control routes excluded).
 *
 * @example
 * ```ts
 * import { startSimulator, type RecordedRequest } from "@vtcode/lmstudio/testing";
 * const sim = await startSimulator();
 * await fetch(`${sim.url}/v1/models`);
 * const first: RecordedRequest | undefined = sim.requests[0];
 * console.log(first?.method, first?.path); // "GET /v1/models"
 * await sim.close();
 * ```
 */
export interface RecordedRequest {
  /** HTTP method, upper case. */
  method: string;
  /** Path without the query string. */
  path: string;
  /** Query string without the leading `?` (empty when none). */
  query: string;
  /** Lower-cased header names; credentials (`authorization`, `cookie`, ...) are `[redacted]`. */
  headers: Record<string, string>;
  /** The request body as text. */
  body: string;
  /** `Date.now()` when the request arrived. */
  time: number;
}

/**
 * A fault to inject. `match` is an exact path (query ignored) or a RegExp tested against the
 * path; `method` restricts it; `times` limits how often it fires (default: always).
 *
 * Kinds: `delay` (then answer normally), `hang` (never answer), `close` (drop the connection),
 * `close-mid-body` (headers and half the normal body, then drop), `respond` (any status/body,
 * e.g. HTML), `size` (a body of that many bytes, streamed chunked, or with its `Content-Length`
 * declared up front when `declareLength` is true), `drip` (a byte every `intervalMs`
 * until the client goes away), `redirect`. `Simulator.inject` throws a TypeError for a fault that
 * cannot work (unknown kind or field, a required field missing, `times` below 1).
 *
 * @example
 * ```ts
 * import type { SimFault } from "@vtcode/lmstudio/testing";
 * const faults: SimFault[] = [
 *   { match: "/api/v1/models", kind: "delay", ms: 200, times: 1 },
 *   { match: /^\/v1\//, method: "GET", kind: "respond", status: 502, body: "<html>Bad Gateway</html>" },
 * ];
 * ```
 */
export type SimFault =
  & {
    /** Exact path (`"/v1/models"`) or a RegExp tested against the path. */
    match: string | RegExp;
    /** Only requests with this method (case-insensitive). */
    method?: string;
    /** How many requests it applies to (default: unlimited). */
    times?: number;
  }
  & (
    | { kind: "delay"; ms: number }
    | { kind: "hang" }
    | { kind: "close" }
    | { kind: "close-mid-body" }
    | {
      kind: "respond";
      status?: number;
      contentType?: string;
      body: string | object;
      headers?: Record<string, string>;
    }
    | { kind: "size"; bytes: number; status?: number; declareLength?: boolean }
    | { kind: "drip"; intervalMs: number; chunk?: string }
    | { kind: "redirect"; location: string; status?: number }
  );

/**
 * A snapshot of a loaded instance, as {@linkcode SimInstance} with every field filled in.
 *
 * @example
 * ```ts
 * import { startSimulator, type SimLoadedInstance } from "@vtcode/lmstudio/testing";
 * const sim = await startSimulator({ models: [{ key: "m" }] });
 * const second: SimLoadedInstance = (sim.loadModel("m"), sim.loadModel("m"));
 * console.log(second.id); // "m:2"
 * await sim.close();
 * ```
 */
export type SimLoadedInstance = Required<SimInstance>;

/**
 * Everything the simulator knows about a loaded instance: what was asked, what was given, how it
 * was loaded. Returned by `sim.state.instances()`.
 *
 * @example
 * ```ts
 * import { startSimulator, type SimInstanceSnapshot } from "@vtcode/lmstudio/testing";
 * const sim = await startSimulator({ models: [{ key: "m" }], memory: { maxContextLength: 8192 } });
 * sim.loadModel("m", { contextLength: 32768 });
 * const [m]: SimInstanceSnapshot[] = sim.state.instances();
 * console.log(m?.requestedContextLength, m?.contextLength); // 32768 8192
 * await sim.close();
 * ```
 */
export interface SimInstanceSnapshot {
  /** Model key. */
  key: string;
  /** Instance identifier (`key`, `key:2`, or a custom one). */
  id: string;
  /** `llm` or `embedding`. */
  type: "llm" | "embedding";
  /** The context actually loaded (after auto-fit). */
  contextLength: number;
  /** The context the load asked for, or null when it named none (the default applied). */
  requestedContextLength: number | null;
  /** The model's maximum context. */
  maxContextLength: number;
  /** How it got loaded: the start-up state, REST v1, a JIT inference request, `lms load`, or `loadModel()`. */
  loadedBy: "state" | "rest" | "jit" | "lms" | "loadModel";
  /** Idle TTL in ms, or null. */
  ttlMs: number | null;
  /** Max parallel predictions (LLMs), null for embedding models. */
  parallel: number | null;
}
