/**
 * The file side of configuration: finding and reading the workspace's `vtcode.toml`. Loaded on
 * demand by `resolveConfig` (it imports `node:fs`, and the TOML parser when a file exists), so the
 * HTTP client never pays for it.
 *
 * TOML is parsed by smol-toml: TOML 1.0 plus the 1.1 additions, errors with line and column. The
 * file is decoded as strict UTF-8 first (invalid bytes are an error naming the line, not U+FFFD).
 *
 * @module
 */
import {
  badApiTokenEnv,
  CONFIG_FILE_NAME,
  DEFAULT_API_TOKEN_ENV,
  DEFAULT_BASE_URL,
  DEFAULT_MODEL,
  isEnvName,
  type LMStudioConfig,
} from "./config.ts";
import { LMStudioError } from "./errors.ts";
import { cwd as runtimeCwd } from "./runtime.ts";
import { fileAccess } from "./runtime_files.ts";

/**
 * The largest `vtcode.toml` read: 1 MiB (a larger one is an error, and is not read past that).
 *
 * @example
 * ```ts
 * import { CONFIG_FILE_MAX_BYTES } from "./config_files.ts";
 * CONFIG_FILE_MAX_BYTES; // 1048576
 * ```
 */
export const CONFIG_FILE_MAX_BYTES = 1024 * 1024;

/** Reads a file's bytes or text; `undefined` when it does not exist. */
type ReadFile = (path: string) => string | Uint8Array | undefined | Promise<string | Uint8Array | undefined>;

/**
 * Options of {@linkcode loadVtcodeToml}.
 *
 * @example
 * ```ts
 * import type { LoadVtcodeTomlOptions } from "./config_files.ts";
 * const options: LoadVtcodeTomlOptions = { cwd: "/work/project/packages/app" };
 * ```
 */
export interface LoadVtcodeTomlOptions {
  /** Where the lookup starts; default: the current directory. */
  cwd?: string;
  /** An explicit file (resolved against `cwd`); it must exist. */
  configFile?: string;
  /** Reads a file (`undefined` when it does not exist); default: the runtime's file access (native on Deno), at most 1 MiB. */
  readFile?: ReadFile;
  /** Whether a path exists (the `.git` that ends the lookup); default: the runtime's file access. */
  exists?: (path: string) => boolean | Promise<boolean>;
}

/** Keys of `[lmstudio]` that are read, with the field they fill and an example for hints. */
const FILE_KEYS = [
  { key: "base_url", field: "baseUrl", example: `base_url = "${DEFAULT_BASE_URL}"` },
  { key: "model", field: "model", example: `model = "${DEFAULT_MODEL}"` },
  { key: "api_token_env", field: "apiTokenEnv", example: `api_token_env = "${DEFAULT_API_TOKEN_ENV}"` },
] as const;

function isDenoPermissionError(error: unknown): boolean {
  const name = (error as { name?: unknown } | null)?.name;
  return name === "NotCapable" || name === "PermissionDenied";
}

async function readRaw(path: string, readFile: ReadFile): Promise<string | Uint8Array | undefined> {
  try {
    return await readFile(path);
  } catch (error) {
    if (error instanceof RangeError) {
      throw new LMStudioError("USAGE", `${path} is larger than 1 MiB; it cannot be a vtcode.toml`, {
        hint: `Check that ${path} is the workspace's vtcode.toml, or remove it.`,
      });
    }
    const message = error instanceof Error ? error.message : String(error);
    throw new LMStudioError("USAGE", `Cannot read ${path}: ${message}`, {
      cause: error,
      hint: isDenoPermissionError(error)
        ? "Run Deno with --allow-read (or -A) so the config file can be read."
        : `Make ${path} a readable file, or remove it.`,
    });
  }
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** Strict UTF-8; an invalid byte is a USAGE error naming its line (UTF-8 never has 0x0A inside a character). */
function decode(bytes: Uint8Array, file: string): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    let line = 1;
    let start = 0;
    for (let i = 0; i <= bytes.length; i++) {
      if (i < bytes.length && bytes[i] !== 0x0a) continue;
      try {
        strictUtf8.decode(bytes.subarray(start, i));
      } catch {
        break;
      }
      line++;
      start = i + 1;
    }
    throw new LMStudioError("USAGE", `${file}:${line}: not valid UTF-8`, {
      hint: `Save ${file} as UTF-8 (TOML files must be UTF-8).`,
    });
  }
}

/** Splits a TOML key (`a."b.c".d`) into its parts, roughly: enough to find a line for a message. */
function keyParts(key: string): string[] {
  return key.split(".").map((part) => part.trim().replace(/^(["'])(.*)\1$/, "$2"));
}

/**
 * The line that defines `lmstudio` (no `key`) or `lmstudio.<key>`, for messages. A best effort over
 * the raw lines (the parser has already accepted the file and gives no positions): headers, dotted
 * keys and one-line inline tables are understood; `undefined` when it cannot tell.
 */
function lineOf(text: string, key?: string): number | undefined {
  const lines = text.split(/\r?\n/);
  let table: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const header = /^\s*\[\[?\s*([^\]]*?)\s*\]\]?\s*(?:#.*)?$/.exec(line);
    if (header) {
      table = keyParts(header[1]);
      if (key === undefined && table.join(".") === "lmstudio") return i + 1;
      continue;
    }
    const assignment = /^\s*([A-Za-z0-9_."' -]+?)\s*=/.exec(line);
    if (!assignment) continue;
    const full = [...table, ...keyParts(assignment[1])];
    if (full[0] !== "lmstudio") continue;
    if (key === undefined) return i + 1;
    if (full.length === 2 && full[1] === key) return i + 1;
    if (full.length === 1 && new RegExp(`[{,]\\s*["']?${key}["']?\\s*=`).test(line)) return i + 1;
  }
  return undefined;
}

function typeName(value: unknown): string {
  if (typeof value === "string") return "a string";
  if (typeof value === "number" || typeof value === "bigint") return "a number";
  if (typeof value === "boolean") return "a boolean";
  if (value instanceof Date) {
    const date = value as Date & { isDate?: () => boolean; isTime?: () => boolean };
    return date.isDate?.() ? "a date" : date.isTime?.() ? "a time" : "a date-time";
  }
  if (Array.isArray(value)) return "an array";
  return "a table";
}

function fileError(file: string, line: number | undefined, what: string, hint: string): LMStudioError {
  return new LMStudioError("USAGE", `${file}${line === undefined ? "" : `:${line}`}: ${what}`, { hint });
}

/** The `[lmstudio]` table of a parsed document, checked. */
function sectionOf(root: Record<string, unknown>, text: string, file: string): LMStudioConfig {
  const has = (table: Record<string, unknown>, key: string) =>
    Object.prototype.hasOwnProperty.call(table, key);
  if (!has(root, "lmstudio")) return {};
  const section = root.lmstudio;
  if (typeof section !== "object" || section === null || Array.isArray(section) || section instanceof Date) {
    throw fileError(
      file,
      lineOf(text),
      `lmstudio must be a table, but it is ${typeName(section)}`,
      `Write the settings under one [lmstudio] header in ${file}.`,
    );
  }
  const table = section as Record<string, unknown>;
  if (has(table, "api_token")) {
    throw fileError(
      file,
      lineOf(text, "api_token"),
      "[lmstudio] api_token is not read from files; tokens do not belong in vtcode.toml",
      `Remove api_token from ${file}, put the token in an environment variable, and name that variable with api_token_env (default ${DEFAULT_API_TOKEN_ENV}).`,
    );
  }
  const config: LMStudioConfig = {};
  for (const { key, field, example } of FILE_KEYS) {
    if (!has(table, key)) continue;
    const value = table[key];
    if (typeof value !== "string") {
      throw fileError(
        file,
        lineOf(text, key),
        `[lmstudio] ${key} must be a string, but it is ${typeName(value)}`,
        `Write it as a quoted string in ${file}, e.g. ${example}`,
      );
    }
    if (value.trim() === "") {
      throw fileError(
        file,
        lineOf(text, key),
        `[lmstudio] ${key} must not be empty`,
        `Remove ${key} from ${file} to use the default, or give a value, e.g. ${example}`,
      );
    }
    if (key === "api_token_env" && !isEnvName(value)) {
      const line = lineOf(text, key);
      throw badApiTokenEnv(`${file}${line === undefined ? "" : `:${line}`}: [lmstudio] api_token_env`);
    }
    config[field] = value;
  }
  return config;
}

/**
 * Parses the text of a `vtcode.toml` and returns its `[lmstudio]` values (`base_url` → `baseUrl`,
 * `model`, `api_token_env` → `apiTokenEnv`; `{}` without the table). Other tables and unknown keys
 * are ignored. Rejects with a `USAGE` error naming the file and the line (and the column, for a
 * TOML syntax error) for bad TOML, a value that is not a non-empty string, an `api_token_env` that
 * is not a variable name, or an `api_token` key (tokens are never read from files).
 *
 * @example
 * ```ts
 * import { parseVtcodeToml } from "./config_files.ts";
 * await parseVtcodeToml('[lmstudio]\nmodel = "qwen/qwen3-8b"\n', "vtcode.toml"); // { model: "qwen/qwen3-8b" }
 * ```
 */
export async function parseVtcodeToml(text: string, file: string): Promise<LMStudioConfig> {
  const { parse, TomlError } = await import("smol-toml");
  let root: Record<string, unknown>;
  try {
    root = parse(text);
  } catch (error) {
    if (error instanceof TomlError) {
      // The parser's message ends with a code block quoting the file: left out (a token pasted in
      // the file would show); line and column say where.
      const what = error.message.replace(/^Invalid TOML document: /, "").split("\n")[0];
      throw new LMStudioError("USAGE", `${file}:${error.line}:${error.column}: ${what}`, {
        hint:
          `Fix the TOML syntax in ${file} at line ${error.line}, column ${error.column} (see https://toml.io).`,
      });
    }
    throw new LMStudioError("USAGE", `${file}: cannot be read as TOML`, {
      cause: error,
      hint: `Fix the TOML syntax in ${file} (see https://toml.io).`,
    });
  }
  return sectionOf(root, text, file);
}

/**
 * Reads the `[lmstudio]` table of one `vtcode.toml`: `undefined` when the file does not exist, else
 * what {@linkcode parseVtcodeToml} gives. An unreadable file, one over 1 MiB, or one that is not
 * UTF-8 is a `USAGE` error naming it.
 *
 * @example
 * ```ts
 * import { readVtcodeToml } from "./config_files.ts";
 * const files: Record<string, string> = { "/p/vtcode.toml": '[lmstudio]\nmodel = "qwen/qwen3-8b"\n' };
 * await readVtcodeToml("/p/vtcode.toml", (path) => files[path]); // { model: "qwen/qwen3-8b" }
 * await readVtcodeToml("/q/vtcode.toml", (path) => files[path]); // undefined
 * ```
 */
export async function readVtcodeToml(
  path: string,
  readFile?: ReadFile,
): Promise<LMStudioConfig | undefined> {
  const files = await fileAccess();
  const raw = await readRaw(path, readFile ?? ((p: string) => files.readFile(p, CONFIG_FILE_MAX_BYTES)));
  if (raw === undefined) return undefined;
  return await parseVtcodeToml(typeof raw === "string" ? raw : decode(raw, path), path);
}

/**
 * Finds and reads the workspace's `vtcode.toml`: `configFile` when given (resolved against `cwd`;
 * missing is a `USAGE` error), else `<cwd>/vtcode.toml`, else the same name in each parent folder,
 * stopping after the first folder that contains `.git` (the repository root) or at the filesystem
 * root. Stopping at the repository keeps a project from picking up a stray file in a home folder,
 * while a tool run from a sub-folder of the project still finds its config. The nearest file wins,
 * even without an `[lmstudio]` table. Without read permission (Deno without `--allow-read`) the
 * lookup quietly finds nothing; an explicit file says how to allow it.
 *
 * @example
 * ```ts
 * import { loadVtcodeToml } from "./config_files.ts";
 * const found = await loadVtcodeToml({ cwd: "/work/project/src" });
 * console.log(found?.path, found?.config.model);
 * ```
 */
export async function loadVtcodeToml(
  options: LoadVtcodeTomlOptions = {},
): Promise<{ path: string; config: LMStudioConfig } | undefined> {
  const files = await fileAccess();
  const { resolve, join, dirname } = files;
  const readFile = options.readFile ?? ((path: string) => files.readFile(path, CONFIG_FILE_MAX_BYTES));
  const cwd = options.cwd ?? currentDir();
  if (options.configFile !== undefined) {
    const path = cwd === undefined ? options.configFile : resolve(cwd, options.configFile);
    const config = await readVtcodeToml(path, readFile);
    if (config === undefined) {
      throw new LMStudioError("USAGE", `Config file not found: ${path}`, {
        hint: "Check the path of the config file, or leave it out to use the workspace's vtcode.toml.",
      });
    }
    return { path, config };
  }
  if (cwd === undefined) return undefined;
  const exists = options.exists ?? files.exists;
  let dir = resolve(cwd);
  for (;;) {
    const path = join(dir, CONFIG_FILE_NAME);
    let config: LMStudioConfig | undefined;
    try {
      config = await readVtcodeToml(path, readFile);
    } catch (error) {
      if (isDenoPermissionError((error as { cause?: unknown }).cause)) return undefined;
      throw error;
    }
    if (config !== undefined) return { path, config };
    if (await exists(join(dir, ".git"))) return undefined;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

function currentDir(): string | undefined {
  try {
    return runtimeCwd();
  } catch {
    return undefined;
  }
}
