/**
 * The declarative vocabulary of the LM Studio simulator: models, instances, the start-up state,
 * recorded requests and injectable faults. Re-exported by `@vtcode/lmstudio/testing`.
 *
 * @module
 */

/**
 * Which LM Studio generation the simulator answers as:
 * - `"0.4"`: greeting, OpenAI `/v1/*` (with `/v1/responses`), REST v0 `/api/v0/*` and REST v1 `/api/v1/*`;
 * - `"0.3"`: greeting, `/v1/*` (with `/v1/responses`, 0.3.29+) and `/api/v0/*`; `/api/v1/*` are unknown routes;
 * - `"0.2"`: only `/v1/models`, `/v1/chat/completions` and `/v1/embeddings`.
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
  /** File format (default `gguf`). `lms` reports `mlx` as `safetensors`. */
  format?: "gguf" | "mlx";
  /** Variant keys (`key@quant`); when present REST v1 also reports `selected_variant`. */
  variants?: string[];
  /** Parameter count string, e.g. `20B`; derived from the key (`...-20b`) when absent, else null. */
  paramsString?: string;
  /** Whether it is a vision model (REST v0 then reports `type: "vlm"`). Default false. */
  vision?: boolean;
  /** Whether it was trained for tool use (v0 `capabilities: ["tool_use"]`). Default false. */
  trainedForToolUse?: boolean;
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
 * e.g. HTML), `size` (a body of that many bytes, streamed), `drip` (a byte every `intervalMs`
 * until the client goes away), `redirect`.
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
    | { kind: "size"; bytes: number; status?: number }
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
