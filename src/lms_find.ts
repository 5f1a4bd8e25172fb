/**
 * Finds the LM Studio CLI (`lms`) the way LM Studio itself lays it out, on macOS, Linux and
 * Windows, and says how it was found.
 *
 * Order: the `path` option, then `LMSTUDIO_LMS_PATH`, then `PATH` (with `PATHEXT` on Windows),
 * then `<lmstudioHome>/bin/lms[.exe]` for each home LM Studio may use: the one named by
 * `~/.lmstudio-home-pointer`, the legacy `~/.cache/lm-studio`, the default `~/.lmstudio`. The
 * current directory is never searched: a relative `PATH` entry (or an empty one, which shells read
 * as ".") would let whatever directory the agent happens to run in supply an `lms`.
 *
 * Everything the search depends on (platform, environment, home, file system) is injectable so
 * that every branch, Windows included, is tested on any machine.
 *
 * @module
 */
import { checkOptionType, optionsObject } from "./options.ts";
import { LMStudioError } from "./errors.ts";
import {
  homePointerFile,
  lmStudioHomesFrom,
  SMALL_FILE_MAX_BYTES,
  smallFileText,
  userHomeDir,
} from "./lmstudio_home.ts";
import { envDenied, type EnvReader, getEnv, nodeBuiltin, platform as currentPlatform } from "./runtime.ts";
import { nodeFileAccess, type SyncFileAccess } from "./runtime_files.ts";

/**
 * How {@linkcode findLms} found `lms`.
 *
 * @example
 * ```ts
 * import { findLms, type LmsSource } from "@vtcode/lmstudio/lms";
 * const source: LmsSource = findLms().source; // e.g. "PATH" or "default-home"
 * ```
 */
export type LmsSource = "option" | "env" | "PATH" | "home-pointer" | "legacy-cache" | "default-home";

/**
 * Where `lms` is and how it was found.
 *
 * @example
 * ```ts
 * import type { LmsLocation } from "@vtcode/lmstudio/lms";
 * const location: LmsLocation = { path: "/home/me/.lmstudio/bin/lms", source: "default-home" };
 * ```
 */
export interface LmsLocation {
  /** Absolute path of the executable. */
  path: string;
  /** Which rule found it. */
  source: LmsSource;
}

/**
 * The file-system questions {@linkcode findLms} asks; injectable for tests.
 *
 * @example
 * ```ts
 * import { findLms, type FileSystemProbe } from "@vtcode/lmstudio/lms";
 * const onlyOne: FileSystemProbe = {
 *   isFile: (p) => p === "/opt/lms",
 *   isExecutable: (p) => p === "/opt/lms",
 *   readText: () => undefined,
 *   isDirectory: () => false,
 * };
 * findLms({ fs: onlyOne, env: () => undefined, path: "/opt/lms" }); // { path: "/opt/lms", source: "option" }
 * ```
 */
export interface FileSystemProbe {
  /** Whether `path` is a regular file (symlinks followed). */
  isFile(path: string): boolean;
  /** Whether the current user may execute `path` (on Windows: whether it is a file). */
  isExecutable(path: string): boolean;
  /** The file's text, or `undefined` if it cannot be read (missing, too large, no permission). */
  readText(path: string): string | undefined;
  /** Whether `path` is a directory (symlinks followed). */
  isDirectory(path: string): boolean;
}

/**
 * Options for {@linkcode findLms}.
 *
 * @example
 * ```ts
 * import { findLms, type FindLmsOptions } from "@vtcode/lmstudio/lms";
 * const windows: FindLmsOptions = { platform: "win32", env: (name) => (name === "USERPROFILE" ? "C:\\Users\\me" : undefined) };
 * // Looks at PATH with PATHEXT, then C:\Users\me\.cache\lm-studio\bin\lms.exe and C:\Users\me\.lmstudio\bin\lms.exe.
 * const found = findLms(windows);
 * ```
 */
export interface FindLmsOptions {
  /** An explicit path; it must exist and be executable, there is no fallback. */
  path?: string;
  /** Environment reader (defaults to the process environment). */
  env?: EnvReader;
  /** Home directory (defaults to `%USERPROFILE%` on Windows, `$HOME` elsewhere, then the OS). */
  home?: string;
  /** Platform as Node names it (`linux`, `darwin`, `win32`); selects path rules and file names. */
  platform?: string;
  /** File-system probe (defaults to the real file system). */
  fs?: FileSystemProbe;
}

/**
 * The install hint every `LMS_NOT_FOUND` carries.
 *
 * @example
 * ```ts
 * import { LMS_INSTALL_HINT } from "./lms_find.ts";
 * console.error(`lms is missing. ${LMS_INSTALL_HINT}.`);
 * ```
 */
export const LMS_INSTALL_HINT =
  "Install LM Studio from https://lmstudio.ai/download, run it once, then `lms bootstrap` (or point the lmsPath option or LMSTUDIO_LMS_PATH at an `lms` you have)";

type NodeFs = typeof import("node:fs");
type NodePath = typeof import("node:path");
type NodeApis = { fs: NodeFs; path: NodePath; files: SyncFileAccess };
let node: NodeApis | undefined;

/**
 * node:fs and node:path, taken when discovery first runs. Discovery is synchronous and runs where
 * `lms` is about to be spawned, so node:fs costs nothing extra then; taken at import instead, it
 * would cost every start-up that never needs `lms`. The home lookup reads the pointer through
 * them, synchronously.
 */
function nodeApis(): NodeApis {
  if (!node) {
    const fs = nodeBuiltin<NodeFs>("node:fs");
    const path = nodeBuiltin<NodePath>("node:path");
    node = { fs, path, files: nodeFileAccess(fs, path) };
  }
  return node;
}

/**
 * The real file system, through `node:fs` (works on Deno with `--allow-read`, Bun and Node).
 *
 * @example
 * ```ts
 * import { nodeFileSystemProbe } from "./lms_find.ts";
 * nodeFileSystemProbe.isDirectory("/tmp"); // true on Linux
 * ```
 */
export const nodeFileSystemProbe: FileSystemProbe = {
  isFile(path: string): boolean {
    try {
      return nodeApis().fs.statSync(path).isFile();
    } catch {
      return false;
    }
  },
  isExecutable(path: string): boolean {
    const { fs } = nodeApis();
    try {
      // Windows has no execute bit; Node maps X_OK to "exists" there, which is what we want.
      fs.accessSync(path, fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  },
  readText(path: string): string | undefined {
    try {
      return smallFileText(nodeApis().files.readFile(path, SMALL_FILE_MAX_BYTES));
    } catch {
      return undefined;
    }
  },
  isDirectory: (path) => nodeApis().files.isDirectory(path),
};

type Check = "ok" | "missing" | "not-executable" | "directory";

/**
 * Finds `lms`. Throws `LMStudioError("LMS_NOT_FOUND")` naming every place it looked (and any
 * `lms` it found but could not execute) with the install hint. An explicit `path` option or
 * `LMSTUDIO_LMS_PATH` that does not point at an executable is an error of its own, never a silent
 * fallback to another `lms`.
 *
 * @example
 * ```ts
 * import { findLms } from "@vtcode/lmstudio/lms";
 * const { path, source } = findLms();
 * console.log(`using ${path} (found via ${source})`);
 * ```
 */
export function findLms(options: FindLmsOptions = {}): LmsLocation {
  options = optionsObject(options, "options");
  checkOptionType(options, "path", "string");
  checkOptionType(options, "platform", "string");
  const os = options.platform ?? currentPlatform();
  const windows = os === "win32";
  const path = windows ? nodeApis().path.win32 : nodeApis().path.posix;
  const env: EnvReader = options.env ?? getEnv;
  const fs = options.fs ?? nodeFileSystemProbe;

  const check = (file: string): Check => {
    if (fs.isDirectory(file)) return "directory";
    if (!fs.isFile(file)) return "missing";
    return fs.isExecutable(file) ? "ok" : "not-executable";
  };

  const explicit = (value: string, source: "option" | "env", origin: string): LmsLocation => {
    const absolute = path.isAbsolute(value) ? path.normalize(value) : path.resolve(value);
    const state = check(absolute);
    if (state === "ok") return { path: absolute, source };
    const problem = state === "missing"
      ? "does not exist"
      : state === "directory"
      ? "is a directory, not the lms executable"
      : "is not executable";
    const subject = origin[0].toUpperCase() + origin.slice(1);
    throw new LMStudioError("LMS_NOT_FOUND", `${subject} points at ${absolute}, which ${problem}`, {
      hint: state === "not-executable"
        ? `Make it executable (chmod +x ${absolute}) or fix ${origin}.`
        : `Fix or unset ${origin}. ${LMS_INSTALL_HINT}.`,
    });
  };

  if (options.path !== undefined && options.path !== "") {
    return explicit(options.path, "option", "the lmsPath option");
  }
  const fromEnv = env("LMSTUDIO_LMS_PATH");
  if (fromEnv !== undefined && fromEnv.trim() !== "") {
    return explicit(fromEnv.trim(), "env", "LMSTUDIO_LMS_PATH");
  }

  const notExecutable: string[] = [];
  const looked: string[] = [];
  const probe = (file: string): boolean => {
    const state = check(file);
    if (state === "not-executable" && !notExecutable.includes(file)) notExecutable.push(file);
    return state === "ok";
  };

  // PATH. Windows environment names are case-insensitive; an injected reader may not be.
  const pathValue = env("PATH") ?? (windows ? env("Path") : undefined) ?? "";
  const names = windows ? windowsNames(env("PATHEXT")) : ["lms"];
  let pathDirs = 0;
  for (const raw of pathValue.split(windows ? ";" : ":")) {
    // Windows allows quoted entries ("C:\Program Files\x"); the quotes are not part of the name.
    const dir = windows ? raw.trim().replace(/^"(.*)"$/, "$1") : raw;
    if (dir === "" || !path.isAbsolute(dir)) continue;
    // On Windows `\foo` is "absolute" but relative to the current drive: still cwd-dependent.
    if (windows && !/^(?:[a-zA-Z]:[\\/]|[\\/]{2})/.test(dir)) continue;
    pathDirs++;
    for (const name of names) {
      const file = path.join(dir, name);
      if (probe(file)) return { path: file, source: "PATH" };
    }
  }
  looked.push(`PATH (${pathDirs} absolute ${pathDirs === 1 ? "directory" : "directories"})`);

  // LM Studio's own home layout (lmstudio-js findLMStudioHome): pointer file, legacy cache, default.
  // Every candidate is tried: a stale pointer must not hide an installed lms.
  const userHome = userHomeDir({ home: options.home, env, platform: os });
  const homes = userHome === undefined
    ? []
    : lmStudioHomesFrom(userHome, fs.readText(homePointerFile(userHome, path)), path);
  if (homes.length > 0) {
    const exe = windows ? "lms.exe" : "lms";
    for (const { path: lmstudioHome, source } of homes) {
      const file = path.join(lmstudioHome, "bin", exe);
      if (looked.includes(file)) continue;
      looked.push(file);
      if (probe(file)) return { path: file, source };
    }
  } else {
    looked.push(windows ? "%USERPROFILE% (not set)" : "the home directory (unknown)");
  }

  const skipped = notExecutable.length === 0
    ? ""
    : ` Found but not executable (skipped): ${notExecutable.join(", ")}.`;
  throw new LMStudioError(
    "LMS_NOT_FOUND",
    `Could not find the LM Studio CLI (lms). Looked in: LMSTUDIO_LMS_PATH (unset), ${
      looked.join(", ")
    }.${skipped}`,
    {
      hint: envDenied()
        ? "Deno is not allowed to read the environment, so PATH and the home folder are unknown: run with " +
          "--allow-env --allow-read --allow-run (or -A), or pass the lmsPath option."
        : `${LMS_INSTALL_HINT}.`,
    },
  );
}

const RUNNABLE_EXTENSIONS = [".com", ".exe", ".bat", ".cmd"];

function windowsNames(pathext: string | undefined): string[] {
  const exts = (pathext && pathext.trim() !== "" ? pathext : ".COM;.EXE;.BAT;.CMD")
    .split(";")
    .map((ext) => ext.trim().toLowerCase())
    // Only what a process can be spawned from; `.js`, `.vbs`, `.ps1` need a host program.
    .filter((ext) => RUNNABLE_EXTENSIONS.includes(ext));
  return [...new Set(exts)].map((ext) => `lms${ext}`);
}
