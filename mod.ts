/**
 * Make a local LM Studio ready for coding agents and scripts, on Deno, Bun and Node.
 *
 * - {@linkcode LMStudioClient}: check, list (with loaded state, context and capabilities), download,
 *   load, unload, wait.
 * - {@linkcode ensureReady}: the strict main job, with progress events, a deadline and an AbortSignal.
 * - {@linkcode ensureOssReady}: the Rust crate's forgiving `ensure_oss_ready`.
 * - Every failure is an {@linkcode LMStudioError} with a stable `code` and a `hint`.
 *
 * More on subpaths: `@vtcode/lmstudio/lms` (the `lms` CLI wrapper and its discovery),
 * `@vtcode/lmstudio/config` (configuration resolution), `@vtcode/lmstudio/testing` (an LM Studio
 * simulator and a fake `lms`) and `@vtcode/lmstudio/cli` (the command).
 *
 * @example
 * ```ts
 * import { ensureReady } from "@vtcode/lmstudio";
 *
 * const ready = await ensureReady({
 *   model: "openai/gpt-oss-20b",
 *   timeoutMs: 30 * 60_000,
 *   onEvent: (event) => {
 *     if (event.type === "download-progress") console.error(event.progress.percent?.toFixed(1));
 *   },
 * });
 * console.log(`use ${ready.instanceId} at ${ready.baseUrl}/v1`);
 * ```
 *
 * @module
 */
export {
  type DownloadOptions,
  type DownloadResult,
  LMStudioClient,
  type LMStudioClientOptions,
  type LoadOptions,
  type LoadResult,
  type ServerStatus,
  type UnloadResult,
  type WaitOptions,
} from "./src/client.ts";
export {
  type EnsureAction,
  type EnsureEvent,
  ensureReady,
  type EnsureReadyOptions,
  type EnsureResult,
} from "./src/ensure.ts";
export {
  DEFAULT_OSS_MODEL,
  ensureOssReady,
  type EnsureOssReadyOptions,
  type OssConfig,
  type OssReadyHandle,
} from "./src/ensure_oss.ts";
export { type ErrorCode, LMStudioError, type LMStudioErrorOptions } from "./src/errors.ts";
export type { CallOptions } from "./src/deadline.ts";
export type { FetchLike } from "./src/http.ts";
export type { ApiFamily, Capability, ModelInfo, ModelInstance } from "./src/models.ts";
export type { MatchKind, ModelMatchResult } from "./src/model_match.ts";
export type { DownloadProgress, LoadProgress } from "./src/progress.ts";
export type { EnvReader } from "./src/runtime.ts";
export { VERSION } from "./src/version.ts";
