/**
 * Configuration, resolved the way the `vtcode-lmstudio` CLI and {@linkcode resolveConfig} users see
 * it: explicit options, then the environment (`LMSTUDIO_URL`, `LMSTUDIO_MODEL`, `LM_API_TOKEN`,
 * `LMSTUDIO_LMS_PATH`), then the `[lmstudio]` table of `vtcode.toml`, then LM Studio's own saved
 * server settings (for the URL), then the defaults. Each value says where it came from.
 *
 * @example
 * ```ts
 * import { resolveConfig } from "@vtcode/lmstudio/config";
 *
 * const config = await resolveConfig();
 * console.log(config.baseUrl, config.sources.baseUrl); // e.g. "http://127.0.0.1:41234" "lmstudio-settings"
 * ```
 *
 * @module
 */
export {
  type BaseUrlSource,
  CONFIG_FILE_NAME,
  DEFAULT_BASE_URL,
  type LMStudioConfig,
  type ModelSource,
  resolveConfig,
  type ResolveConfigOptions,
  type ResolvedConfig,
  type ValueSource,
} from "./src/config.ts";
