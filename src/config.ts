/**
 * Configuration: where the server is, which model, which token. One synchronous call at start-up,
 * {@linkcode loadConfig}, merges four sources, the first that has a value winning:
 *
 * 1. explicit options (`overrides`, e.g. CLI flags);
 * 2. environment: `LMSTUDIO_URL`, `LMSTUDIO_MODEL`, `LMSTUDIO_LMS_PATH`, and the token from the
 *    variable named by `api_token_env` (default `LM_API_TOKEN`);
 * 3. the `[lmstudio]` table of the workspace's `vtcode.toml` (`base_url`, `model`, `api_token_env`);
 * 4. defaults ({@linkcode DEFAULT_BASE_URL}, {@linkcode DEFAULT_MODEL}).
 *
 * The token is never read from a file, never printed, and registered with `registerSecret` as soon
 * as it is read, so no error message can contain it.
 *
 * @module
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { LMStudioError, registerSecret } from "./errors.ts";
import { type EnvReader, getEnv } from "./runtime.ts";
import { parseTomlDocument, type TomlDocument } from "./toml.ts";

/**
 * The server LM Studio listens on by default.
 *
 * @example
 * ```ts
 * import { DEFAULT_BASE_URL } from "./config.ts";
 * new URL("/api/v1/models", DEFAULT_BASE_URL).href; // "http://localhost:1234/api/v1/models"
 * ```
 */
export const DEFAULT_BASE_URL = "http://localhost:1234";

/**
 * The model used when none is configured (the seed's `DEFAULT_OSS_MODEL`).
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
 * import { CONFIG_FILE_NAME } from "./config.ts";
 * console.log(`edit ${CONFIG_FILE_NAME}`); // "edit vtcode.toml"
 * ```
 */
export const CONFIG_FILE_NAME = "vtcode.toml";

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
 * The merged configuration, with the source each value came from.
 *
 * @example
 * ```ts
 * import { loadConfig } from "./config.ts";
 * const config = loadConfig({ configFile: false, env: () => undefined });
 * config.sources; // { baseUrl: "default", model: "default", apiToken: "none" }
 * ```
 */
export interface ResolvedConfig {
  /** Server URL, not yet normalised. */
  baseUrl: string;
  /** Model id or key. */
  model: string;
  /** Bearer token, if any. Registered as a secret; never print it. */
  apiToken?: string;
  /** The `lms` binary to use, if one was configured. */
  lmsPath?: string;
  /**
   * The environment variable the token is (or would be) read from, for hints such as "set X".
   * Always set by {@linkcode loadConfig}; optional so hand-built configs need not give it.
   */
  apiTokenEnv?: string;
  /** Where each value came from. */
  sources: {
    baseUrl: "option" | "env" | "file" | "default";
    model: "option" | "env" | "file" | "default";
    apiToken: "option" | "env" | "none";
  };
  /** The `vtcode.toml` that was read (even if it has no `[lmstudio]` table), if any. */
  configFile?: string;
}

/**
 * Options for {@linkcode loadConfig}.
 *
 * @example
 * ```ts
 * import type { LoadConfigOptions } from "./config.ts";
 * const options: LoadConfigOptions = { cwd: "/work/project", overrides: { model: "qwen/qwen3-8b" } };
 * ```
 */
export interface LoadConfigOptions {
  /** Explicit options; they win over everything else. */
  overrides?: LMStudioConfig;
  /** Reads environment variables; default: the runtime's environment. */
  env?: EnvReader;
  /** Workspace folder where the `vtcode.toml` lookup starts; default `process.cwd()`. */
  cwd?: string;
  /** An explicit file (resolved against `cwd`; it must exist), or `false` to read no file. */
  configFile?: string | false;
  /** Reads a file as text, `undefined` when it does not exist; default `node:fs`. */
  readFile?: (path: string) => string | undefined;
  /** Whether a path exists (used to find the `.git` that ends the lookup); default `node:fs`. */
  exists?: (path: string) => boolean;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Keys of `[lmstudio]` that we read, with the field they fill and an example for hints. */
const FILE_KEYS = [
  { key: "base_url", field: "baseUrl", example: `base_url = "${DEFAULT_BASE_URL}"` },
  { key: "model", field: "model", example: `model = "${DEFAULT_MODEL}"` },
  { key: "api_token_env", field: "apiTokenEnv", example: `api_token_env = "${DEFAULT_API_TOKEN_ENV}"` },
] as const;

function isDenoPermissionError(error: unknown): boolean {
  const name = (error as { name?: unknown } | null)?.name;
  return name === "NotCapable" || name === "PermissionDenied";
}

function defaultReadFile(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw error;
  }
}

function defaultExists(path: string): boolean {
  try {
    return existsSync(path);
  } catch {
    return false;
  }
}

function readText(path: string, readFile: (path: string) => string | undefined): string | undefined {
  try {
    return readFile(path);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new LMStudioError("USAGE", `Cannot read ${path}: ${message}`, {
      cause: error,
      hint: isDenoPermissionError(error)
        ? "Run Deno with --allow-read (or -A) so the config file can be read."
        : `Make ${path} a readable file, or remove it.`,
    });
  }
}

function typeName(type: string | undefined): string {
  const name = (type ?? "value").replace("-", " ");
  return `${/^[aeiou]/.test(name) ? "an" : "a"} ${name}`;
}

function badApiTokenEnv(where: string): LMStudioError {
  // The value is deliberately not echoed: people paste the token itself here.
  return new LMStudioError(
    "USAGE",
    `${where} must be the name of an environment variable (letters, digits and _, not starting with a digit)`,
    {
      hint:
        `Name the variable that holds the token, e.g. api_token_env = "${DEFAULT_API_TOKEN_ENV}", and put the token in that variable, not in the file.`,
    },
  );
}

function fileError(file: string, line: number | undefined, what: string, hint: string): LMStudioError {
  return new LMStudioError("USAGE", `${file}:${line ?? 1}: ${what}`, { hint });
}

/** The `[lmstudio]` table of a parsed document, checked. */
function sectionOf(doc: TomlDocument, file: string): LMStudioConfig {
  const root = doc.value;
  if (!Object.prototype.hasOwnProperty.call(root, "lmstudio")) return {};
  const type = doc.typeOf(["lmstudio"]);
  if (type !== "table") {
    throw fileError(
      file,
      doc.lineOf(["lmstudio"]),
      `lmstudio must be a table, but it is ${type === "array" ? "an array" : typeName(type)}`,
      `Write the settings under one [lmstudio] header in ${file}.`,
    );
  }
  const section = root.lmstudio as Record<string, unknown>;
  const has = (key: string): boolean => Object.prototype.hasOwnProperty.call(section, key);
  if (has("api_token")) {
    throw fileError(
      file,
      doc.lineOf(["lmstudio", "api_token"]),
      "[lmstudio] api_token is not read from files; tokens do not belong in vtcode.toml",
      `Remove api_token from ${file}, put the token in an environment variable, and name that variable with api_token_env (default ${DEFAULT_API_TOKEN_ENV}).`,
    );
  }
  const config: LMStudioConfig = {};
  for (const { key, field, example } of FILE_KEYS) {
    if (!has(key)) continue;
    const path = ["lmstudio", key];
    const line = doc.lineOf(path);
    const valueType = doc.typeOf(path);
    const value = section[key];
    if (valueType !== "string" || typeof value !== "string") {
      throw fileError(
        file,
        line,
        `[lmstudio] ${key} must be a string, but it is ${typeName(valueType)}`,
        `Write it as a quoted string in ${file}, e.g. ${example}`,
      );
    }
    if (value.trim() === "") {
      throw fileError(
        file,
        line,
        `[lmstudio] ${key} must not be empty`,
        `Remove ${key} from ${file} to use the default, or give a value, e.g. ${example}`,
      );
    }
    if (key === "api_token_env" && !ENV_NAME.test(value)) {
      const error = badApiTokenEnv(`${file}:${line ?? 1}: [lmstudio] api_token_env`);
      throw error;
    }
    config[field] = value;
  }
  return config;
}

/**
 * Reads the `[lmstudio]` table of one `vtcode.toml`.
 *
 * Returns `undefined` when the file does not exist, `{}` when it exists without an `[lmstudio]`
 * table, else the values found (`base_url` → `baseUrl`, `model`, `api_token_env` → `apiTokenEnv`).
 * Other tables and unknown keys are ignored. Throws a `USAGE` error naming the file and the line on
 * a TOML syntax error, a value that is not a non-empty string, an `api_token_env` that is not a
 * variable name, or an `api_token` key (tokens are never read from files).
 *
 * @example
 * ```ts
 * import { readVtcodeToml } from "./config.ts";
 * const files: Record<string, string> = { "/p/vtcode.toml": '[lmstudio]\nmodel = "qwen/qwen3-8b"\n' };
 * readVtcodeToml("/p/vtcode.toml", (path) => files[path]); // { model: "qwen/qwen3-8b" }
 * readVtcodeToml("/q/vtcode.toml", (path) => files[path]); // undefined
 * ```
 */
export function readVtcodeToml(
  path: string,
  readFile: (path: string) => string | undefined = defaultReadFile,
): LMStudioConfig | undefined {
  const text = readText(path, readFile);
  if (text === undefined) return undefined;
  return sectionOf(parseTomlDocument(text, path), path);
}

/**
 * Finds the workspace's `vtcode.toml`: `<cwd>/vtcode.toml`, else the same name in each parent
 * folder, stopping after the first folder that contains `.git` (the repository root) or at the
 * filesystem root. Stopping at the repository keeps a project from picking up a stray file in a
 * home folder, while still letting a tool run from a sub-folder of the project find its config.
 * The nearest file wins, even if it has no `[lmstudio]` table. Without read permission (Deno
 * without `--allow-read`) the lookup quietly finds nothing.
 */
function findWorkspaceConfig(
  cwd: string,
  readFile: (path: string) => string | undefined,
  exists: (path: string) => boolean,
): { path: string; config: LMStudioConfig } | undefined {
  let dir = resolve(cwd);
  for (;;) {
    const path = join(dir, CONFIG_FILE_NAME);
    let config: LMStudioConfig | undefined;
    try {
      config = readVtcodeToml(path, readFile);
    } catch (error) {
      if (isDenoPermissionError((error as { cause?: unknown }).cause)) return undefined;
      throw error;
    }
    if (config !== undefined) return { path, config };
    if (exists(join(dir, ".git"))) return undefined;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

function currentDir(): string | undefined {
  try {
    return process.cwd();
  } catch {
    return undefined;
  }
}

/** Empty and whitespace-only strings count as unset; anything else is kept exactly as given. */
function given(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value;
}

/**
 * Merges explicit options > environment > `vtcode.toml` `[lmstudio]` > defaults, and says where
 * each value came from.
 *
 * - Environment: `LMSTUDIO_URL`, `LMSTUDIO_MODEL`, `LMSTUDIO_LMS_PATH`, and the token from the
 *   variable named by `api_token_env` (option, then file), default `LM_API_TOKEN`. Empty or
 *   whitespace-only values count as unset; other values are used literally.
 * - File: `configFile` if given (it must exist), else the nearest `vtcode.toml` from `cwd` up to
 *   the folder containing `.git`; `configFile: false` reads none.
 * - The token is registered with `registerSecret` as soon as it is read.
 *
 * Throws `LMStudioError("USAGE")` for a broken file (naming file, line and key) or a bad
 * `api_token_env`; the token never appears in a message.
 *
 * @example
 * ```ts
 * import { loadConfig } from "./config.ts";
 * const config = loadConfig({
 *   overrides: { model: "qwen/qwen3-8b" },
 *   env: (name) => ({ LMSTUDIO_URL: "http://10.0.0.5:1234" } as Record<string, string>)[name],
 *   configFile: false,
 * });
 * config.baseUrl; // "http://10.0.0.5:1234"  (sources.baseUrl: "env")
 * config.model; // "qwen/qwen3-8b"  (sources.model: "option")
 * ```
 */
export function loadConfig(options: LoadConfigOptions = {}): ResolvedConfig {
  const overrides = options.overrides ?? {};
  const envReader = options.env ?? getEnv;
  const env = (name: string): string | undefined => given(envReader(name));
  const readFile = options.readFile ?? defaultReadFile;

  // Tokens first: register them before anything can fail and build a message (a TOML error may
  // quote a token someone pasted into the file unquoted).
  const optionToken = given(overrides.apiToken);
  registerSecret(optionToken);
  const optionTokenEnv = given(overrides.apiTokenEnv);
  if (optionTokenEnv !== undefined && !ENV_NAME.test(optionTokenEnv)) throw badApiTokenEnv("apiTokenEnv");
  registerSecret(env(optionTokenEnv ?? DEFAULT_API_TOKEN_ENV));

  let file: LMStudioConfig = {};
  let configFile: string | undefined;
  if (options.configFile !== false) {
    const cwd = options.cwd ?? currentDir();
    if (typeof options.configFile === "string") {
      const path = cwd === undefined ? options.configFile : resolve(cwd, options.configFile);
      const found = readVtcodeToml(path, readFile);
      if (found === undefined) {
        throw new LMStudioError("USAGE", `Config file not found: ${path}`, {
          hint: "Check the path of the config file, or leave it out to use the workspace's vtcode.toml.",
        });
      }
      file = found;
      configFile = path;
    } else if (cwd !== undefined) {
      const found = findWorkspaceConfig(cwd, readFile, options.exists ?? defaultExists);
      if (found) {
        file = found.config;
        configFile = found.path;
      }
    }
  }

  const apiTokenEnv = optionTokenEnv ?? file.apiTokenEnv ?? DEFAULT_API_TOKEN_ENV;
  let apiToken = optionToken;
  let tokenSource: ResolvedConfig["sources"]["apiToken"] = apiToken === undefined ? "none" : "option";
  if (apiToken === undefined) {
    apiToken = env(apiTokenEnv);
    registerSecret(apiToken);
    if (apiToken !== undefined) tokenSource = "env";
  }

  const pick = (
    option: string | undefined,
    envName: string,
    fromFile: string | undefined,
    fallback: string,
  ): [string, "option" | "env" | "file" | "default"] => {
    const fromOption = given(option);
    if (fromOption !== undefined) return [fromOption, "option"];
    const fromEnv = env(envName);
    if (fromEnv !== undefined) return [fromEnv, "env"];
    if (fromFile !== undefined) return [fromFile, "file"];
    return [fallback, "default"];
  };
  const [baseUrl, baseUrlSource] = pick(overrides.baseUrl, "LMSTUDIO_URL", file.baseUrl, DEFAULT_BASE_URL);
  const [model, modelSource] = pick(overrides.model, "LMSTUDIO_MODEL", file.model, DEFAULT_MODEL);
  const lmsPath = given(overrides.lmsPath) ?? env("LMSTUDIO_LMS_PATH");

  const resolved: ResolvedConfig = {
    baseUrl,
    model,
    apiTokenEnv,
    sources: { baseUrl: baseUrlSource, model: modelSource, apiToken: tokenSource },
  };
  if (apiToken !== undefined) resolved.apiToken = apiToken;
  if (lmsPath !== undefined) resolved.lmsPath = lmsPath;
  if (configFile !== undefined) resolved.configFile = configFile;
  return resolved;
}
