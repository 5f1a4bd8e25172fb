/**
 * Configuration: where the server is, which model, which token, which `lms`. One precedence for the
 * library and the CLI, the first source that has a value winning:
 *
 * 1. explicit options (library options; the CLI maps its flags onto them);
 * 2. environment: `LMSTUDIO_URL`, `LMSTUDIO_MODEL`, `LMSTUDIO_LMS_PATH`, and the token from the
 *    variable named by `api_token_env` (default `LM_API_TOKEN`);
 * 3. the `[lmstudio]` table of the workspace's `vtcode.toml` (`base_url`, `model`, `api_token_env`);
 * 4. for the base URL only: LM Studio's own saved server settings on this machine (its port);
 * 5. defaults (`http://localhost:1234`, `openai/gpt-oss-20b`).
 *
 * This module touches no file: {@linkcode mergeConfig} merges options, environment and values
 * already read (what the HTTP client needs, synchronously). {@linkcode resolveConfig} adds the
 * files; it loads their readers (`config_files.ts`, `node:fs`, the TOML parser) on first use only.
 *
 * The token is never read from a file, never printed, and registered with `registerSecret` as soon
 * as it is read, so no error message can contain it.
 *
 * @module
 */
import {
  CONFIG_ENV,
  CONFIG_FILE_NAME,
  DEFAULT_API_TOKEN_ENV,
  DEFAULT_BASE_URL,
  DEFAULT_MODEL,
  given,
} from "./config_names.ts";
import { LMStudioError, registerSecret } from "./errors.ts";
import { type EnvReader, getEnv } from "./runtime.ts";
import { normalizeBaseUrl } from "./url.ts";
import { checkOptionType, invalidOption, optionsObject } from "./options.ts";

export { CONFIG_ENV, CONFIG_FILE_NAME, DEFAULT_API_TOKEN_ENV, DEFAULT_BASE_URL, DEFAULT_MODEL };

/**
 * Configuration as given by one source. Every field is optional; empty or whitespace-only strings
 * count as not given.
 *
 * @example
 * ```ts
 * import type { LMStudioConfig } from "./config.ts";
 * const fromFlags: LMStudioConfig = { baseUrl: "http://127.0.0.1:1234", model: "qwen/qwen3-8b" };
 * ```
 */
export interface LMStudioConfig {
  /** Server URL as given; normalisation and validation happen elsewhere. */
  baseUrl?: string;
  /** Model id or key. */
  model?: string;
  /** Bearer token. Never printed. */
  apiToken?: string;
  /** Name of the environment variable the token is read from; default `LM_API_TOKEN`. */
  apiTokenEnv?: string;
  /** The `lms` binary to use, skipping discovery. */
  lmsPath?: string;
}

/**
 * Where the base URL came from (the CLI's `baseUrlSource`): an explicit option or flag, the
 * environment, `vtcode.toml`, LM Studio's saved server settings, or the default.
 *
 * @example
 * ```ts
 * import type { BaseUrlSource } from "@vtcode/lmstudio/config";
 * const source: BaseUrlSource = "lmstudio-settings";
 * ```
 */
export type BaseUrlSource = "option" | "env" | "config" | "lmstudio-settings" | "default";

/**
 * Where the model came from.
 *
 * @example
 * ```ts
 * import type { ModelSource } from "@vtcode/lmstudio/config";
 * const source: ModelSource = "config"; // vtcode.toml
 * ```
 */
export type ModelSource = "option" | "env" | "config" | "default";

/**
 * Where the token or the `lms` path came from (`none`: not given; neither is ever read from a file).
 *
 * @example
 * ```ts
 * import type { ValueSource } from "@vtcode/lmstudio/config";
 * const source: ValueSource = "env";
 * ```
 */
export type ValueSource = "option" | "env" | "none";

/**
 * The merged configuration, with the source each value came from.
 *
 * @example
 * ```ts
 * import { resolveConfig } from "@vtcode/lmstudio/config";
 * const config = await resolveConfig({ configFile: false, lmstudioSettings: false, env: () => undefined });
 * config.sources; // { baseUrl: "default", model: "default", apiToken: "none", lmsPath: "none" }
 * ```
 */
export interface ResolvedConfig {
  /** Server URL, not yet normalised. */
  baseUrl: string;
  /** Model id or key. */
  model: string;
  /** Bearer token, if any. Registered as a secret; never print it. */
  apiToken?: string;
  /**
   * The environment variable the token is (or would be) read from, for hints such as "set X": the
   * one `apiTokenEnv` names, or `LM_API_TOKEN` when the token came from there.
   */
  apiTokenEnv: string;
  /** The `lms` binary to use, if one was configured. */
  lmsPath?: string;
  /** Where each value came from. */
  sources: { baseUrl: BaseUrlSource; model: ModelSource; apiToken: ValueSource; lmsPath: ValueSource };
  /** The `vtcode.toml` that was read (even if it has no `[lmstudio]` table), if any. */
  configFile?: string;
  /** LM Studio's settings file the base URL came from, when `sources.baseUrl` is `lmstudio-settings`. */
  settingsFile?: string;
}

/**
 * Where a resolved token came from, as messages name it: "the apiToken option" (the CLI says
 * `--token`) or the variable it was read from. Never the value. Internal (not exported from the
 * package).
 *
 * @example
 * ```ts
 * import { mergeConfig, tokenSourceOf } from "./config.ts";
 * tokenSourceOf(mergeConfig({ env: () => undefined })); // "LM_API_TOKEN"
 * ```
 */
export function tokenSourceOf(config: Pick<ResolvedConfig, "apiTokenEnv" | "sources">): string {
  return config.sources.apiToken === "option" ? "the apiToken option" : config.apiTokenEnv;
}

/**
 * Input of {@linkcode mergeConfig}: options, the environment, and a `vtcode.toml` already read.
 *
 * @example
 * ```ts
 * import type { MergeConfigOptions } from "./config.ts";
 * const input: MergeConfigOptions = { overrides: { model: "qwen/qwen3-8b" }, env: () => undefined };
 * ```
 */
export interface MergeConfigOptions {
  /** Explicit options; they win over everything else. */
  overrides?: LMStudioConfig;
  /** Reads environment variables; default: the runtime's environment. */
  env?: EnvReader;
  /** The `[lmstudio]` values of a `vtcode.toml`, and the file's path. */
  file?: { path: string; config: LMStudioConfig };
}

/**
 * Options of {@linkcode resolveConfig}.
 *
 * @example
 * ```ts
 * import type { ResolveConfigOptions } from "@vtcode/lmstudio/config";
 * const options: ResolveConfigOptions = { cwd: "/work/project", overrides: { model: "qwen/qwen3-8b" } };
 * ```
 */
export interface ResolveConfigOptions {
  /** Explicit options; they win over everything else. */
  overrides?: LMStudioConfig;
  /** Reads environment variables; default: the runtime's environment. */
  env?: EnvReader;
  /** Workspace folder where the `vtcode.toml` lookup starts; default: the current directory. */
  cwd?: string;
  /** An explicit file (resolved against `cwd`; it must exist), or `false` to read none. */
  configFile?: string | false;
  /** Read LM Studio's saved server settings when nothing else gives a base URL (default true). */
  lmstudioSettings?: boolean;
  /** The user home in which LM Studio's home is looked for (default: `$HOME` / `%USERPROFILE%`). */
  home?: string;
  /** Platform as Node names it (`linux`, `darwin`, `win32`), for LM Studio's home; default: this one. */
  platform?: string;
  /** Reads a file (`undefined` when it does not exist); default: the runtime's file access (native on Deno), at most 1 MiB. */
  readFile?: (path: string) => string | Uint8Array | undefined | Promise<string | Uint8Array | undefined>;
  /** Whether a path exists (the `.git` that ends the lookup); default: the runtime's file access. */
  exists?: (path: string) => boolean | Promise<boolean>;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Whether `name` can be an environment variable name (letters, digits and `_`, not starting with
 * a digit).
 *
 * @example
 * ```ts
 * import { isEnvName } from "./config.ts";
 * isEnvName("LM_API_TOKEN"); // true
 * isEnvName("sk-lm-abc"); // false
 * ```
 */
export function isEnvName(name: string): boolean {
  return ENV_NAME.test(name);
}

/**
 * The error for an `api_token_env` that is not a variable name. The value is deliberately not
 * echoed: people paste the token itself there.
 *
 * @example
 * ```ts
 * import { badApiTokenEnv } from "./config.ts";
 * throw badApiTokenEnv("apiTokenEnv");
 * ```
 */
export function badApiTokenEnv(where: string): LMStudioError {
  return new LMStudioError(
    "USAGE",
    `${where} must be the name of an environment variable (letters, digits and _, not starting with a digit)`,
    {
      hint:
        `Name the variable that holds the token, e.g. api_token_env = "${DEFAULT_API_TOKEN_ENV}", and put the token in that variable, not in the file.`,
    },
  );
}

/**
 * Merges explicit options > environment > `vtcode.toml` values (already read) > defaults, and says
 * where each value came from. Reads no file: this is what the HTTP client uses.
 *
 * - Environment: `LMSTUDIO_URL`, `LMSTUDIO_MODEL`, `LMSTUDIO_LMS_PATH`, and the token from the
 *   variable named by `apiTokenEnv` (option, then file), default `LM_API_TOKEN`, which is also read
 *   when the named variable is unset. Empty or whitespace-only values count as unset; other values
 *   are used literally.
 * - Tokens are registered with `registerSecret` as soon as they are read.
 *
 * Throws `LMStudioError("USAGE")` for an `apiTokenEnv` option that is not a variable name (without
 * echoing it).
 *
 * @example
 * ```ts
 * import { mergeConfig } from "./config.ts";
 * const config = mergeConfig({
 *   overrides: { model: "qwen/qwen3-8b" },
 *   env: (name) => ({ LMSTUDIO_URL: "http://10.0.0.5:1234" } as Record<string, string>)[name],
 * });
 * config.baseUrl; // "http://10.0.0.5:1234"  (sources.baseUrl: "env")
 * config.model; // "qwen/qwen3-8b"  (sources.model: "option")
 * ```
 */
export function mergeConfig(options: MergeConfigOptions = {}): ResolvedConfig {
  const overrides = options.overrides ?? {};
  const envReader = options.env ?? getEnv;
  const env = (name: string): string | undefined => given(readEnv(envReader, name));
  const file = options.file?.config ?? {};
  const option = (name: keyof LMStudioConfig) => given(stringOption(overrides, name));

  const optionToken = option("apiToken");
  registerSecret(optionToken);
  const optionTokenEnv = option("apiTokenEnv");
  if (optionTokenEnv !== undefined && !isEnvName(optionTokenEnv)) throw badApiTokenEnv("apiTokenEnv");
  const namedTokenEnv = optionTokenEnv ?? file.apiTokenEnv ?? DEFAULT_API_TOKEN_ENV;
  const namedToken = optionToken === undefined ? env(namedTokenEnv) : undefined;
  // The CLI contract's LM_API_TOKEN counts too when the named variable is unset: a file naming its
  // own variable must not turn off the one the contract promises.
  const contractToken = optionToken === undefined && namedToken === undefined
    ? env(DEFAULT_API_TOKEN_ENV)
    : undefined;
  const apiTokenEnv = contractToken !== undefined ? DEFAULT_API_TOKEN_ENV : namedTokenEnv;
  const envToken = namedToken ?? contractToken;
  registerSecret(envToken);
  const apiToken = optionToken ?? envToken;

  const pick = <S>(
    fromOption: string | undefined,
    envName: string,
    fromFile: string | undefined,
    fallback: string,
  ) => {
    if (fromOption !== undefined) return [fromOption, "option"] as [string, S];
    const fromEnv = env(envName);
    if (fromEnv !== undefined) return [fromEnv, "env"] as [string, S];
    if (fromFile !== undefined) return [fromFile, "config"] as [string, S];
    return [fallback, "default"] as [string, S];
  };
  const [baseUrl, baseUrlSource] = pick<BaseUrlSource>(
    option("baseUrl"),
    CONFIG_ENV.baseUrl,
    file.baseUrl,
    DEFAULT_BASE_URL,
  );
  const [model, modelSource] = pick<ModelSource>(
    option("model"),
    CONFIG_ENV.model,
    file.model,
    DEFAULT_MODEL,
  );
  const optionLms = option("lmsPath");
  const lmsPath = optionLms ?? env(CONFIG_ENV.lmsPath);

  const resolved: ResolvedConfig = {
    baseUrl,
    model,
    apiTokenEnv,
    sources: {
      baseUrl: baseUrlSource,
      model: modelSource,
      apiToken: optionToken !== undefined ? "option" : envToken !== undefined ? "env" : "none",
      lmsPath: optionLms !== undefined ? "option" : lmsPath !== undefined ? "env" : "none",
    },
  };
  if (apiToken !== undefined) resolved.apiToken = apiToken;
  if (lmsPath !== undefined) resolved.lmsPath = lmsPath;
  if (options.file) resolved.configFile = options.file.path;
  return withTokenHidden(resolved);
}

/**
 * Makes the token of a resolved configuration print as `[redacted]` in `JSON.stringify` and in the
 * runtimes' `console.log`/inspect, where configurations end up when someone debugs them; reading
 * `config.apiToken` still gives it. The hooks are not enumerable: a spread copy carries the token,
 * not them.
 */
function withTokenHidden(config: ResolvedConfig): ResolvedConfig {
  const shown = () => config.apiToken === undefined ? { ...config } : { ...config, apiToken: "[redacted]" };
  type Inspect = (value: unknown, options?: unknown) => string;
  Object.defineProperties(config, {
    toJSON: { value: shown },
    [Symbol.for("nodejs.util.inspect.custom")]: {
      value: (_depth: number, options: unknown, inspect: Inspect) => inspect(shown(), options),
    },
    [Symbol.for("Deno.customInspect")]: {
      value: (inspect: Inspect, options: unknown) => inspect(shown(), options),
    },
  });
  return config;
}

/**
 * An option as a plain-JS caller may pass it: a string, or `undefined`/`null` for not given; any
 * other type is a `USAGE` error naming the option (never echoing the value: it may be the token).
 */
function stringOption(overrides: LMStudioConfig, name: keyof LMStudioConfig): string | undefined {
  checkOptionType(overrides, name, "string");
  return overrides[name] ?? undefined;
}

/** A variable from the caller's `env` reader, which must give a string or nothing, and not throw. */
function readEnv(envReader: EnvReader, name: string): string | undefined {
  let value: unknown;
  try {
    value = envReader(name);
  } catch (error) {
    throw new LMStudioError("USAGE", `The env option's reader failed for ${name}`, {
      hint: "Pass env as a function that returns a variable's value, or undefined when it is unset.",
      cause: error,
    });
  }
  if (value === undefined || value === null || typeof value === "string") return value ?? undefined;
  throw invalidOption(
    `env(${JSON.stringify(name)})`,
    value,
    "a string, or undefined when the variable is unset",
  );
}

/**
 * The configured base URL, normalised (`normalizeBaseUrl`); a URL that is not one is a `USAGE`
 * error that says where it came from (the baseUrl option, `LMSTUDIO_URL`, `vtcode.toml`, LM Studio's
 * saved settings), since that is where it must be fixed. Internal (not exported from the package).
 *
 * @example
 * ```ts
 * import { configuredBaseUrl } from "./config.ts";
 * configuredBaseUrl({ baseUrl: "http://localhost:1234/v1", sources: { baseUrl: "env" } }); // "http://localhost:1234"
 * ```
 */
export function configuredBaseUrl(
  config: Pick<ResolvedConfig, "baseUrl" | "configFile" | "settingsFile"> & {
    sources: Pick<ResolvedConfig["sources"], "baseUrl">;
  },
): string {
  try {
    return normalizeBaseUrl(config.baseUrl);
  } catch (error) {
    if (!(error instanceof LMStudioError) || error.code !== "USAGE") throw error;
    const where: Record<BaseUrlSource, string> = {
      option: "The baseUrl option",
      env: CONFIG_ENV.baseUrl,
      config: `The base_url of ${config.configFile ?? CONFIG_FILE_NAME}`,
      "lmstudio-settings": `LM Studio's saved server settings (${
        config.settingsFile ?? "http-server-config.json"
      })`,
      default: "The default",
    };
    const reason = `${error.message.charAt(0).toLowerCase()}${error.message.slice(1)}`;
    throw new LMStudioError("USAGE", `${where[config.sources.baseUrl]}: ${reason}`, { hint: error.hint });
  }
}

/**
 * The whole precedence: explicit options > environment > `vtcode.toml` `[lmstudio]` > LM Studio's
 * saved server settings (base URL only) > defaults, with the source of each value.
 *
 * - `vtcode.toml`: `configFile` if given (it must exist), else the nearest one from `cwd` up to the
 *   folder containing `.git`; `configFile: false` reads none. The file is decoded as strict UTF-8
 *   and parsed as TOML (1.0, and the 1.1 additions) only when it exists.
 * - LM Studio's saved settings (`<LM Studio home>/.internal/http-server-config.json`) are read only
 *   when no option, variable or file gives the base URL; a file that cannot give a URL is ignored.
 *
 * Rejects with `LMStudioError("USAGE")` for a broken `vtcode.toml` (naming file, line and key; a
 * syntax error also the column) or a bad `api_token_env`; the token never appears in a message.
 *
 * @example
 * ```ts
 * import { resolveConfig } from "@vtcode/lmstudio/config";
 * const config = await resolveConfig({ overrides: { model: "qwen/qwen3-8b" } });
 * console.log(config.baseUrl, config.sources.baseUrl); // e.g. "http://127.0.0.1:41234" "lmstudio-settings"
 * ```
 */
export async function resolveConfig(options: ResolveConfigOptions = {}): Promise<ResolvedConfig> {
  options = optionsObject(options, "options");
  checkOptionType(options, "cwd", "string");
  checkOptionType(options, "home", "string");
  if (
    options.configFile !== undefined && options.configFile !== false && typeof options.configFile !== "string"
  ) {
    throw invalidOption("configFile", options.configFile, "a path, or false to read none");
  }
  const env = options.env ?? getEnv;
  // Options and environment first: this validates apiTokenEnv and registers the tokens before a file
  // can fail and build a message (a TOML error may sit next to a token someone pasted in the file).
  let resolved = mergeConfig({ overrides: options.overrides, env });
  if (options.configFile !== false) {
    const { loadVtcodeToml } = await import("./config_files.ts");
    const file = await loadVtcodeToml({
      cwd: options.cwd,
      configFile: options.configFile,
      readFile: options.readFile,
      exists: options.exists,
    });
    if (file) resolved = mergeConfig({ overrides: options.overrides, env, file });
  }
  // Last, for the base URL only: LM Studio's saved settings, when nothing else gave it.
  if (resolved.sources.baseUrl === "default" && options.lmstudioSettings !== false) {
    const { readServerSettings } = await import("./server_settings.ts");
    const saved = await readServerSettings({ home: options.home, env, platform: options.platform });
    if (saved) {
      resolved.baseUrl = saved.baseUrl;
      resolved.sources.baseUrl = "lmstudio-settings";
      resolved.settingsFile = saved.file;
    }
  }
  return resolved;
}
