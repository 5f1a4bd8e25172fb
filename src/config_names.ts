/**
 * What configuration is called and what it defaults to: the environment variables, the workspace
 * file's name, the default server, model and token variable. A module of constants only, so that
 * the CLI's quick `check` can name them without loading the resolver (`config.ts` re-exports them).
 *
 * @module
 */

/**
 * The server LM Studio listens on by default.
 *
 * @example
 * ```ts
 * import { DEFAULT_BASE_URL } from "@vtcode/lmstudio/config";
 * new URL("/api/v1/models", DEFAULT_BASE_URL).href; // "http://localhost:1234/api/v1/models"
 * ```
 */
export const DEFAULT_BASE_URL = "http://localhost:1234";

/**
 * The model used when none is configured; public as the root module's `DEFAULT_OSS_MODEL` (the Rust
 * crate's name), not under a second name here.
 *
 * @example
 * ```ts
 * import { DEFAULT_MODEL } from "./config.ts";
 * console.log(`ensuring ${DEFAULT_MODEL}`); // "ensuring openai/gpt-oss-20b"
 * ```
 */
export const DEFAULT_MODEL = "openai/gpt-oss-20b";

/**
 * The environment variable the token is read from unless `api_token_env` names another one.
 *
 * @example
 * ```ts
 * import { DEFAULT_API_TOKEN_ENV } from "./config.ts";
 * const hint = `Set ${DEFAULT_API_TOKEN_ENV} to your LM Studio API token.`;
 * ```
 */
export const DEFAULT_API_TOKEN_ENV = "LM_API_TOKEN";

/**
 * The name of the workspace configuration file.
 *
 * @example
 * ```ts
 * import { CONFIG_FILE_NAME } from "@vtcode/lmstudio/config";
 * console.log(`edit ${CONFIG_FILE_NAME}`); // "edit vtcode.toml"
 * ```
 */
export const CONFIG_FILE_NAME = "vtcode.toml";

/**
 * The environment variable of each setting (the token's is {@linkcode DEFAULT_API_TOKEN_ENV} unless
 * `api_token_env` says otherwise).
 *
 * @example
 * ```ts
 * import { CONFIG_ENV } from "./config.ts";
 * console.log(`set ${CONFIG_ENV.baseUrl}`); // "set LMSTUDIO_URL"
 * ```
 */
export const CONFIG_ENV = {
  baseUrl: "LMSTUDIO_URL",
  model: "LMSTUDIO_MODEL",
  lmsPath: "LMSTUDIO_LMS_PATH",
} as const;
