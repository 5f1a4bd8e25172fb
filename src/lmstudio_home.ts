/**
 * Where LM Studio keeps its files on this machine (its "home"), found the way LM Studio itself
 * finds it (lmstudio-js `findLMStudioHome`): the path written in `~/.lmstudio-home-pointer`, else
 * the legacy `~/.cache/lm-studio` when it exists, else `~/.lmstudio`. On Windows `~` is
 * `%USERPROFILE%`.
 *
 * Used by the `lms` discovery (`<home>/bin/lms`) and by the saved server settings
 * (`<home>/.internal/http-server-config.json`). Everything it depends on (user home, environment,
 * platform, file system, path rules) is injectable, so every branch is testable on any machine;
 * nothing here throws: a question the file system cannot answer (no permission, a symlink loop)
 * reads as "no".
 *
 * This module imports no `node:` module: `check` reads the saved settings on every run without a
 * URL, and on Deno `node:fs`/`node:path` would load the Node compatibility layer (10-20 ms). By
 * default it reads through the runtime shim's `fileAccess()` with the platform's path rules
 * (`node:path.win32` is loaded only for `win32`); `lms` discovery, which is synchronous and has
 * `node:fs` loaded anyway, passes its own probe and `node:path` rules.
 *
 * @module
 */
import {
  type EnvReader,
  type FileAccess,
  fileAccess,
  getEnv,
  homeDir,
  type PathRules,
  pathRules,
  platform as currentPlatform,
} from "./runtime.ts";

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
  /** File-system probe (default: the real file system, {@linkcode homeProbe} of the shim's `fileAccess()`). */
  fs?: HomeFileSystemProbe;
  /** Path rules (default: those of `platform`, the runtime shim's `pathRules`). */
  path?: PathRules;
}

/**
 * Home discovery's options with the file-system probe and the path rules chosen, as the synchronous
 * functions take them ({@linkcode homeLookup} fills them in).
 *
 * @example
 * ```ts
 * import type { HomeLookup } from "./lmstudio_home.ts";
 * import { posixPath } from "./runtime.ts";
 * const lookup: HomeLookup = {
 *   home: "/home/ada",
 *   fs: { readText: () => undefined, isDirectory: () => false },
 *   path: posixPath,
 * };
 * ```
 */
export interface HomeLookup extends LmStudioHomeOptions {
  /** The file-system probe. */
  fs: HomeFileSystemProbe;
  /** The path rules of the platform. */
  path: PathRules;
}

/** The most that is read of a small LM Studio file (home pointer, saved settings): 64 KiB. */
export const SMALL_FILE_MAX_BYTES = 64 * 1024;

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The home probe over a {@linkcode FileAccess}: `readText` reads at most
 * {@linkcode SMALL_FILE_MAX_BYTES} and decodes strict UTF-8 (a byte-order mark is dropped); every
 * failure (missing, not a regular file, too large, not UTF-8, no permission, a symlink loop) reads
 * as `undefined` / `false`.
 *
 * @example
 * ```ts
 * import { homeProbe } from "./lmstudio_home.ts";
 * import { fileAccess } from "./runtime.ts";
 * const probe = homeProbe(await fileAccess());
 * probe.isDirectory("/tmp"); // true on Linux
 * ```
 */
export function homeProbe(files: Pick<FileAccess, "readFile" | "isDirectory">): HomeFileSystemProbe {
  return {
    readText(path: string): string | undefined {
      try {
        const bytes = files.readFile(path, SMALL_FILE_MAX_BYTES);
        return bytes === undefined ? undefined : strictUtf8.decode(bytes);
      } catch {
        return undefined;
      }
    },
    isDirectory(path: string): boolean {
      try {
        return files.isDirectory(path);
      } catch {
        return false;
      }
    },
  };
}

/**
 * Fills in what `options` leaves out: the probe of the real file system (the runtime shim's
 * `fileAccess()`: `Deno.*` on Deno, `node:fs` elsewhere, loaded on first use) and the path rules of
 * the platform (POSIX in plain JavaScript, or `node:path.win32` for `win32`).
 *
 * @example
 * ```ts
 * import { homeLookup, lmStudioHomeCandidates } from "./lmstudio_home.ts";
 * const homes = lmStudioHomeCandidates(await homeLookup({ platform: "win32", home: "C:\\Users\\me" }));
 * ```
 */
export async function homeLookup(options: LmStudioHomeOptions = {}): Promise<HomeLookup> {
  const fs = options.fs ?? homeProbe(await fileAccess());
  const path = options.path ?? await pathRules(options.platform ?? currentPlatform());
  return { ...options, fs, path };
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
 * import { posixPath } from "./runtime.ts";
 * const fs = { readText: () => undefined, isDirectory: () => false };
 * lmStudioHomeCandidates({ platform: "linux", home: "/home/ada", fs, path: posixPath });
 * // [{ path: "/home/ada/.cache/lm-studio", source: "legacy-cache" },
 * //  { path: "/home/ada/.lmstudio", source: "default-home" }]
 * ```
 */
export function lmStudioHomeCandidates(options: HomeLookup): LmStudioHome[] {
  const { fs, path } = options;
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
 * home is unknown. Synchronous; {@linkcode findLmStudioHome} chooses the probe and path rules.
 *
 * @example
 * ```ts
 * import { homeLookup, selectLmStudioHome } from "./lmstudio_home.ts";
 * const home = selectLmStudioHome(await homeLookup()); // e.g. { path: "/home/me/.lmstudio", source: "default-home" }
 * ```
 */
export function selectLmStudioHome(options: HomeLookup): LmStudioHome | undefined {
  const candidates = lmStudioHomeCandidates(options);
  const pointed = candidates.find((home) => home.source === "home-pointer");
  if (pointed) return pointed;
  const legacy = candidates.find((home) => home.source === "legacy-cache");
  if (legacy && options.fs.isDirectory(legacy.path)) return legacy;
  return candidates.find((home) => home.source === "default-home");
}

/**
 * The one folder LM Studio uses as its home ({@linkcode selectLmStudioHome}'s rule), on the real
 * file system unless `options.fs` says otherwise.
 *
 * @example
 * ```ts
 * import { findLmStudioHome } from "./lmstudio_home.ts";
 * const home = await findLmStudioHome(); // e.g. { path: "/home/me/.lmstudio", source: "default-home" }
 * ```
 */
export async function findLmStudioHome(options: LmStudioHomeOptions = {}): Promise<LmStudioHome | undefined> {
  return selectLmStudioHome(await homeLookup(options));
}
