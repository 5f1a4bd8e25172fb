/**
 * Make a local LM Studio ready for coding agents and scripts, on Deno, Bun and Node.
 *
 * - {@linkcode LMStudioClient}: check, list (with loaded state), download, load, unload, wait.
 * - {@linkcode ensureReady}: the strict main job, with progress events, a deadline and an AbortSignal.
 * - {@linkcode ensureOssReady}: the Rust seed's forgiving `ensure_oss_ready`.
 * - Every failure is an {@linkcode LMStudioError} with a stable `code` and a `hint`.
 *
 * The testing kit (an LM Studio simulator and a fake `lms`) is at `@vtcode/lmstudio/testing`; the
 * CLI at `@vtcode/lmstudio/cli`.
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
  DEFAULT_OSS_MODEL,
  type EnsureAction,
  type EnsureEvent,
  ensureOssReady,
  type EnsureOssReadyOptions,
  ensureReady,
  type EnsureReadyOptions,
  type EnsureResult,
  type OssConfig,
  type OssReadyHandle,
} from "./src/ensure.ts";
export {
  ERROR_CODES,
  type ErrorCode,
  exitCodeFor,
  isLMStudioError,
  LMStudioError,
  type LMStudioErrorOptions,
  redactSecrets,
  registerSecret,
  toLMStudioError,
} from "./src/errors.ts";
export {
  type CallOptions,
  DEFAULT_TIMEOUTS,
  formatMs,
  parseDuration,
  sleep,
  withDeadline,
} from "./src/deadline.ts";
export {
  classifyFetchError,
  type FetchLike,
  type HttpAnswer,
  type HttpTarget,
  isUnknownRouteAnswer,
  request,
  type RequestOptions,
  type ServerErrorBody,
  serverErrorOf,
  type TransportFailure,
} from "./src/http.ts";
export {
  type ApiFamily,
  looksLikeModelList,
  type ModelInfo,
  type ModelInstance,
  MODELS_PATH,
  parseModelList,
} from "./src/models.ts";
export { type MatchKind, matchModel, type ModelMatchResult, suggestModels } from "./src/model_match.ts";
export type { DownloadProgress, LoadProgress } from "./src/progress.ts";
export {
  detectRuntime,
  envDenied,
  type EnvReader,
  getEnv,
  homeDir,
  noColorRequested,
  platform,
  type RuntimeInfo,
  type RuntimeName,
  stderrColumns,
  stderrIsTTY,
} from "./src/runtime.ts";
export { isLocalServer, normalizeBaseUrl } from "./src/url.ts";
export {
  CONFIG_FILE_NAME,
  DEFAULT_API_TOKEN_ENV,
  DEFAULT_BASE_URL,
  DEFAULT_MODEL,
  type LMStudioConfig,
  loadConfig,
  type LoadConfigOptions,
  readVtcodeToml,
  type ResolvedConfig,
} from "./src/config.ts";
export { parseToml, parseTomlDocument, type TomlDocument, type TomlType } from "./src/toml.ts";
export {
  type FileSystemProbe,
  findLms,
  type FindLmsOptions,
  LMS_INSTALL_HINT,
  type LmsLocation,
  type LmsSource,
  nodeFileSystemProbe,
} from "./src/lms_find.ts";
export {
  Lms,
  type LmsDownloadedModel,
  type LmsGetOptions,
  type LmsLoadedInstance,
  type LmsLoadOptions,
  type LmsOptions,
} from "./src/lms.ts";
export {
  type LmsRunOptions,
  type LmsRunResult,
  type LmsSpawnPlan,
  lmsSpawnPlan,
  runLms,
} from "./src/lms_run.ts";
export {
  createLmsOutputSplitter,
  parseLmsDownloadProgress,
  parseLmsLoadProgress,
  stripAnsi,
} from "./src/lms_progress.ts";
export { MAX_MODEL_NAME_LENGTH, validateModelName } from "./src/model_name.ts";
export { CLI_COMMANDS, type CliArgs, type CliCommand, parseCliArgs } from "./src/cli_args.ts";
export { type CliIO, HELP, runCli } from "./src/cli_main.ts";
export { createReporter, formatBytes, type Reporter, type ReporterOptions } from "./src/cli_reporter.ts";
export { VERSION } from "./src/version.ts";
