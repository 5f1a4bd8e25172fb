/**
 * What configuration is called, what it defaults to and when a value counts as given: the
 * environment variables, the workspace file's name, the default server, model and token variable.
 * A module that imports nothing, so that the CLI's quick `check` can use it without loading the
 * resolver (`config.ts` re-exports the names).
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

/**
 * A configured value as the resolver takes it: empty and whitespace-only strings count as unset;
 * anything else is kept exactly as given. Internal (not exported from the package).
 *
 * @example
 * ```ts
 * import { given } from "./config_names.ts";
 * given("  "); // undefined
 * given(" http://localhost:1234 "); // " http://localhost:1234 " (normalised later, where it is used)
 * ```
 */
export function given(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value;
}
