/**
 * Where LM Studio keeps its files on this machine (its "home"), found the way LM Studio itself
 * finds it (lmstudio-js `findLMStudioHome`): the path written in `~/.lmstudio-home-pointer`, else
 * the legacy `~/.cache/lm-studio` when it exists, else `~/.lmstudio`. On Windows `~` is
 * `%USERPROFILE%`.
 *
 * Used by the `lms` discovery (`<home>/bin/lms`) and by the saved server settings
 * (`<home>/.internal/http-server-config.json`). Everything it depends on (user home, environment,
 * platform, file system) is injectable, so every branch is testable on any machine; nothing here
 * throws: a question the file system cannot answer (no permission, a symlink loop) reads as "no".
 *
 * @module
 */
import { closeSync, openSync, readSync, statSync } from "node:fs";
import nodePath from "node:path";
import { type EnvReader, getEnv, homeDir, platform as currentPlatform } from "./runtime.ts";

/**
 * The two file-system questions home discovery asks; injectable for tests. `lms` discovery's
 * `FileSystemProbe` extends it.
 *
 * @example
 * ```ts
 * import type { HomeFileSystemProbe } from "./lmstudio_home.ts";
 * const empty: HomeFileSystemProbe = { readText: () => undefined, isDirectory: () => false };
 * ```
 */
export interface HomeFileSystemProbe {
  /** The file's text, or `undefined` if it cannot be read (missing, not a file, too large, no permission). */
  readText(path: string): string | undefined;
  /** Whether `path` is a directory (symlinks followed). */
  isDirectory(path: string): boolean;
}

/**
 * Which rule gave an LM Studio home.
 *
 * @example
 * ```ts
 * import type { LmStudioHomeSource } from "./lmstudio_home.ts";
 * const source: LmStudioHomeSource = "home-pointer";
 * ```
 */
export type LmStudioHomeSource = "home-pointer" | "legacy-cache" | "default-home";

/**
 * An LM Studio home and the rule that gave it.
 *
 * @example
 * ```ts
 * import type { LmStudioHome } from "./lmstudio_home.ts";
 * const home: LmStudioHome = { path: "/home/me/.lmstudio", source: "default-home" };
 * ```
 */
export interface LmStudioHome {
  /** Absolute path of the LM Studio home folder. */
  path: string;
  /** Which rule gave it. */
  source: LmStudioHomeSource;
}

/**
 * Options of home discovery; each one replaces a piece of the real machine.
 *
 * @example
 * ```ts
 * import type { LmStudioHomeOptions } from "./lmstudio_home.ts";
 * const windows: LmStudioHomeOptions = { platform: "win32", home: "C:\\Users\\me" };
 * ```
 */
export interface LmStudioHomeOptions {
  /** The user's home folder (default: `%USERPROFILE%` on Windows, `$HOME` elsewhere, then the OS). */
  home?: string;
  /** Environment reader (default: the process environment). */
  env?: EnvReader;
  /** Platform as Node names it (`linux`, `darwin`, `win32`); selects path rules. */
  platform?: string;
  /** File-system probe (default: the real file system, {@linkcode nodeHomeProbe}). */
  fs?: HomeFileSystemProbe;
}

/** The most that is read of a small LM Studio file (home pointer, saved settings): 64 KiB. */
export const SMALL_FILE_MAX_BYTES = 64 * 1024;

/**
 * Reads at most `maxBytes` of a regular file. Returns `undefined` for a missing file and for
 * anything that is not a regular file (a directory, a FIFO, a device: opening those could block or
 * read forever); throws `RangeError` when the file is larger than `maxBytes` (at most `maxBytes + 1`
 * bytes are read to tell); other errors (permission, symlink loop) are thrown as the runtime
 * raised them. Symlinks are followed.
 *
 * @example
 * ```ts
 * import { readFileCapped } from "./lmstudio_home.ts";
 * const bytes = readFileCapped("/etc/hostname", 4096); // Uint8Array, or undefined
 * ```
 */
export function readFileCapped(path: string, maxBytes: number): Uint8Array | undefined {
  let size: number;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) return undefined;
    size = stat.size;
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw error;
  }
  if (size > maxBytes) throw new RangeError(`${path} is larger than ${maxBytes} bytes`);
  const fd = openSync(path, "r");
  try {
    // The size can change between stat and read (or be wrong, on some virtual file systems): read
    // up to one byte past the cap to tell, never more.
    const buffer = new Uint8Array(maxBytes + 1);
    let length = 0;
    while (length < buffer.length) {
      const read = readSync(fd, buffer, length, buffer.length - length, null);
      if (read === 0) break;
      length += read;
    }
    if (length > maxBytes) throw new RangeError(`${path} is larger than ${maxBytes} bytes`);
    return buffer.subarray(0, length);
  } finally {
    closeSync(fd);
  }
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The real file system, through `node:fs` (Deno with `--allow-read`, Bun, Node). `readText` reads
 * at most {@linkcode SMALL_FILE_MAX_BYTES} and decodes strict UTF-8; every failure reads as
 * `undefined` / `false`.
 *
 * @example
 * ```ts
 * import { nodeHomeProbe } from "./lmstudio_home.ts";
 * nodeHomeProbe.isDirectory("/tmp"); // true on Linux
 * ```
 */
export const nodeHomeProbe: HomeFileSystemProbe = {
  readText(path: string): string | undefined {
    try {
      const bytes = readFileCapped(path, SMALL_FILE_MAX_BYTES);
      return bytes === undefined ? undefined : strictUtf8.decode(bytes);
    } catch {
      return undefined;
    }
  },
  isDirectory(path: string): boolean {
    try {
      return statSync(path).isDirectory();
    } catch {
      return false;
    }
  },
};

function pathRules(platform: string): typeof nodePath.posix {
  return platform === "win32" ? nodePath.win32 : nodePath.posix;
}

/**
 * The user's home folder as home discovery sees it: the `home` option, else `%USERPROFILE%` on
 * Windows or `$HOME` elsewhere, else what the OS says; `undefined` when none is known (Deno
 * without `--allow-env`, for instance).
 *
 * @example
 * ```ts
 * import { userHomeDir } from "./lmstudio_home.ts";
 * userHomeDir({ platform: "win32", env: (n) => (n === "USERPROFILE" ? "C:\\Users\\me" : undefined) });
 * // "C:\\Users\\me"
 * ```
 */
export function userHomeDir(options: LmStudioHomeOptions = {}): string | undefined {
  if (options.home !== undefined) return options.home === "" ? undefined : options.home;
  const env = options.env ?? getEnv;
  const windows = (options.platform ?? currentPlatform()) === "win32";
  const home = (windows ? env("USERPROFILE") : env("HOME")) ?? homeDir();
  return home === undefined || home === "" ? undefined : home;
}

/**
 * Every folder LM Studio may use as its home, in LM Studio's order: the absolute path in the home
 * pointer (when there is one), the legacy cache, the default. `lms` discovery looks in each of them,
 * since a stale pointer should not hide an `lms` that is installed. A relative pointer is ignored
 * (it would depend on the current folder). Empty when the user home is unknown.
 *
 * @example
 * ```ts
 * import { lmStudioHomeCandidates } from "./lmstudio_home.ts";
 * lmStudioHomeCandidates({ platform: "linux", home: "/home/ada", fs: { readText: () => undefined, isDirectory: () => false } });
 * // [{ path: "/home/ada/.cache/lm-studio", source: "legacy-cache" },
 * //  { path: "/home/ada/.lmstudio", source: "default-home" }]
 * ```
 */
export function lmStudioHomeCandidates(options: LmStudioHomeOptions = {}): LmStudioHome[] {
  const path = pathRules(options.platform ?? currentPlatform());
  const fs = options.fs ?? nodeHomeProbe;
  const home = userHomeDir(options);
  if (home === undefined) return [];
  const homeAbs = path.resolve(home);
  const homes: LmStudioHome[] = [];
  const pointer = fs.readText(path.join(homeAbs, ".lmstudio-home-pointer"))?.trim();
  if (pointer && path.isAbsolute(pointer)) homes.push({ path: pointer, source: "home-pointer" });
  homes.push({ path: path.join(homeAbs, ".cache", "lm-studio"), source: "legacy-cache" });
  homes.push({ path: path.join(homeAbs, ".lmstudio"), source: "default-home" });
  return homes;
}

/**
 * The one folder LM Studio uses as its home, by LM Studio's own rule: the home pointer when it names
 * an absolute path (whether or not that folder exists: LM Studio trusts it), else the legacy
 * `~/.cache/lm-studio` when that folder exists, else `~/.lmstudio`. `undefined` only when the user
 * home is unknown.
 *
 * @example
 * ```ts
 * import { findLmStudioHome } from "./lmstudio_home.ts";
 * const home = findLmStudioHome(); // e.g. { path: "/home/me/.lmstudio", source: "default-home" }
 * ```
 */
export function findLmStudioHome(options: LmStudioHomeOptions = {}): LmStudioHome | undefined {
  const fs = options.fs ?? nodeHomeProbe;
  const candidates = lmStudioHomeCandidates(options);
  const pointed = candidates.find((home) => home.source === "home-pointer");
  if (pointed) return pointed;
  const legacy = candidates.find((home) => home.source === "legacy-cache");
  if (legacy && fs.isDirectory(legacy.path)) return legacy;
  return candidates.find((home) => home.source === "default-home");
}
