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
 * default it reads through `fileAccess()` (runtime_files.ts) with the platform's path rules
 * (`node:path.win32` is loaded only for `win32`); `lms` discovery, which is synchronous and has
 * `node:fs` loaded anyway, passes its own probe and `node:path` rules.
 *
 * @module
 */
import { type EnvReader, getEnv, homeDir, platform as currentPlatform } from "./runtime.ts";
import { type FileAccess, fileAccess, type PathRules, pathRules } from "./runtime_files.ts";

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
  readText(path: string): string | undefined | Promise<string | undefined>;
  /** Whether `path` is a directory (symlinks followed). */
  isDirectory(path: string): boolean | Promise<boolean>;
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
  /** File-system probe (default: the real file system, {@linkcode homeProbe} of `fileAccess()`). */
  fs?: HomeFileSystemProbe;
  /** Path rules (default: those of `platform`, `pathRules` of runtime_files.ts). */
  path?: PathRules;
}

/**
 * Home discovery's options with the file-system probe and the path rules chosen
 * ({@linkcode homeLookup} fills them in).
 *
 * @example
 * ```ts
 * import type { HomeLookup } from "./lmstudio_home.ts";
 * import { posixPath } from "./runtime_files.ts";
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
 * The text of a small LM Studio file, from at most {@linkcode SMALL_FILE_MAX_BYTES} of it (as
 * `readFile` of a file access gives them): strict UTF-8, a byte-order mark dropped. Throws for bytes
 * that are not UTF-8.
 *
 * @example
 * ```ts
 * import { smallFileText } from "./lmstudio_home.ts";
 * smallFileText(new TextEncoder().encode("/data/lmstudio\n")); // "/data/lmstudio\n"
 * smallFileText(undefined); // undefined
 * ```
 */
export function smallFileText(bytes: Uint8Array | undefined): string | undefined {
  return bytes === undefined ? undefined : strictUtf8.decode(bytes);
}

/**
 * The home probe over a {@linkcode FileAccess}: `readText` reads at most
 * {@linkcode SMALL_FILE_MAX_BYTES} as {@linkcode smallFileText}; every failure (missing, not a
 * regular file, too large, not UTF-8, no permission, a symlink loop) reads as `undefined` / `false`.
 *
 * @example
 * ```ts
 * import { homeProbe } from "./lmstudio_home.ts";
 * import { fileAccess } from "./runtime_files.ts";
 * const probe = homeProbe(await fileAccess());
 * await probe.isDirectory("/tmp"); // true on Linux
 * ```
 */
export function homeProbe(files: Pick<FileAccess, "readFile" | "isDirectory">): HomeFileSystemProbe {
  return {
    async readText(path: string): Promise<string | undefined> {
      try {
        return smallFileText(await files.readFile(path, SMALL_FILE_MAX_BYTES));
      } catch {
        return undefined;
      }
    },
    async isDirectory(path: string): Promise<boolean> {
      try {
        return await files.isDirectory(path);
      } catch {
        return false;
      }
    },
  };
}

/**
 * Fills in what `options` leaves out: the probe of the real file system (`fileAccess()` of
 * runtime_files.ts: `Deno.*` on Deno, `node:fs` elsewhere, loaded on first use) and the path rules of
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
 * Where LM Studio writes the pointer to its home: `.lmstudio-home-pointer` in the user home.
 *
 * @example
 * ```ts
 * import { homePointerFile } from "./lmstudio_home.ts";
 * import { posixPath } from "./runtime_files.ts";
 * homePointerFile("/home/ada", posixPath); // "/home/ada/.lmstudio-home-pointer"
 * ```
 */
export function homePointerFile(userHome: string, path: PathRules): string {
  return path.join(path.resolve(userHome), ".lmstudio-home-pointer");
}

/**
 * Every folder LM Studio may use as its home, in LM Studio's order, given the user home and the
 * text of its home pointer (`undefined` when there is none): the absolute path in the pointer, the
 * legacy cache, the default. A relative pointer is ignored (it would depend on the current folder).
 * No file is read here: `lms` discovery reads the pointer synchronously, the saved settings
 * asynchronously.
 *
 * @example
 * ```ts
 * import { lmStudioHomesFrom } from "./lmstudio_home.ts";
 * import { posixPath } from "./runtime_files.ts";
 * lmStudioHomesFrom("/home/ada", "/data/lmstudio\n", posixPath);
 * // [{ path: "/data/lmstudio", source: "home-pointer" },
 * //  { path: "/home/ada/.cache/lm-studio", source: "legacy-cache" },
 * //  { path: "/home/ada/.lmstudio", source: "default-home" }]
 * ```
 */
export function lmStudioHomesFrom(
  userHome: string,
  pointer: string | undefined,
  path: PathRules,
): LmStudioHome[] {
  const homeAbs = path.resolve(userHome);
  const homes: LmStudioHome[] = [];
  const pointed = pointer?.trim();
  if (pointed && path.isAbsolute(pointed)) homes.push({ path: pointed, source: "home-pointer" });
  homes.push({ path: path.join(homeAbs, ".cache", "lm-studio"), source: "legacy-cache" });
  homes.push({ path: path.join(homeAbs, ".lmstudio"), source: "default-home" });
  return homes;
}

/**
 * Every folder LM Studio may use as its home ({@linkcode lmStudioHomesFrom}), the pointer read
 * through the lookup's probe. Empty when the user home is unknown.
 *
 * @example
 * ```ts
 * import { lmStudioHomeCandidates } from "./lmstudio_home.ts";
 * import { posixPath } from "./runtime_files.ts";
 * const fs = { readText: () => undefined, isDirectory: () => false };
 * await lmStudioHomeCandidates({ platform: "linux", home: "/home/ada", fs, path: posixPath });
 * // [{ path: "/home/ada/.cache/lm-studio", source: "legacy-cache" },
 * //  { path: "/home/ada/.lmstudio", source: "default-home" }]
 * ```
 */
export async function lmStudioHomeCandidates(options: HomeLookup): Promise<LmStudioHome[]> {
  const home = userHomeDir(options);
  if (home === undefined) return [];
  const pointer = await options.fs.readText(homePointerFile(home, options.path));
  return lmStudioHomesFrom(home, pointer, options.path);
}

/**
 * The one folder LM Studio uses as its home, by LM Studio's own rule: the home pointer when it names
 * an absolute path (whether or not that folder exists: LM Studio trusts it), else the legacy
 * `~/.cache/lm-studio` when that folder exists, else `~/.lmstudio`. `undefined` only when the user
 * home is unknown. {@linkcode findLmStudioHome} chooses the probe and path rules.
 *
 * @example
 * ```ts
 * import { homeLookup, selectLmStudioHome } from "./lmstudio_home.ts";
 * const home = await selectLmStudioHome(await homeLookup()); // e.g. { path: "/home/me/.lmstudio", source: "default-home" }
 * ```
 */
export async function selectLmStudioHome(options: HomeLookup): Promise<LmStudioHome | undefined> {
  const candidates = await lmStudioHomeCandidates(options);
  const pointed = candidates.find((home) => home.source === "home-pointer");
  if (pointed) return pointed;
  const legacy = candidates.find((home) => home.source === "legacy-cache");
  if (legacy && await options.fs.isDirectory(legacy.path)) return legacy;
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
  return await selectLmStudioHome(await homeLookup(options));
}
