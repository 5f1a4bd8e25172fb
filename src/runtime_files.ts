/**
 * File and path access for configuration lookups, per runtime: the path rules of a platform
 * ({@linkcode posixPath}, {@linkcode pathRules}), what is at a path ({@linkcode pathKind},
 * {@linkcode sizeAt}), and reading small files ({@linkcode fileAccess}, {@linkcode nodeFileAccess})
 * through each runtime's cheapest API: `Deno.statSync`/`Deno.openSync` on Deno, `Bun.mmap` and
 * `Bun.file` on Bun, `node:fs` (taken or imported when first needed) elsewhere.
 *
 * It lives apart from the runtime shim (`runtime.ts`) so that the HTTP client's module graph stays
 * free of file access: the client imports `runtime.ts` for the environment, and must import nothing
 * that touches the file system (tests/client_graph.test.ts checks it). This module imports
 * `runtime.ts` for what both need (the `Deno` and `Bun` globals, `process.getBuiltinModule`, the
 * platform, the working directory); `runtime.ts` never imports this one. Like the shim, it imports
 * no `node:` module statically (start-up: on Deno that would load the Node compatibility layer).
 *
 * @module
 */
import {
  builtin,
  type BunGlobal,
  bunGlobal,
  cwd,
  type DenoGlobal,
  denoGlobal,
  nodeBuiltin,
  platform,
} from "./runtime.ts";

/**
 * Path rules of one platform: the part of `node:path` (`node:path.posix` or `node:path.win32`)
 * that configuration and LM Studio home lookups use. {@linkcode posixPath} is the POSIX one, in
 * plain JavaScript; {@linkcode pathRules} gives the one of any platform.
 */
export interface PathRules {
  /** `node:path`'s `resolve`. */
  resolve(...segments: string[]): string;
  /** `node:path`'s `join`. */
  join(...segments: string[]): string;
  /** `node:path`'s `dirname`. */
  dirname(path: string): string;
  /** `node:path`'s `isAbsolute`. */
  isAbsolute(path: string): boolean;
}

/**
 * POSIX path rules, equal to `node:path.posix` without loading `node:path` (tests/server_settings.test.ts
 * compares them on every list of up to three awkward segments; 400,000 random comparisons agreed too). `resolve` asks for the working directory only when no segment is absolute (as
 * `node:path` does; on Deno that needs `--allow-read`).
 *
 * @example
 * ```ts
 * import { posixPath } from "./runtime_files.ts";
 * posixPath.join("/home/me", ".lmstudio", "bin"); // "/home/me/.lmstudio/bin"
 * ```
 */
export const posixPath: PathRules = {
  resolve(...segments) {
    const joined = segments.reduce(posixAppend, "");
    return posixNormalize(joined.startsWith("/") ? joined : posixAppend(cwd(), joined), true);
  },
  join: (...segments) => posixNormalize(segments.filter((s) => s !== "").join("/"), false),
  dirname: posixDirname,
  isAbsolute: (path) => path.startsWith("/"),
};

/**
 * The path rules of `platform` (as Node names it): {@linkcode posixPath} for anything but
 * `win32`, whose rules are `node:path.win32`, loaded on first use (`process.getBuiltinModule`,
 * else a dynamic import).
 *
 * @example
 * ```ts
 * import { pathRules } from "./runtime_files.ts";
 * const win = await pathRules("win32");
 * win.join("C:\\Users\\me", ".lmstudio"); // "C:\\Users\\me\\.lmstudio"
 * ```
 */
export async function pathRules(platform: string): Promise<PathRules> {
  if (platform !== "win32") return posixPath;
  const path = builtin<typeof import("node:path")>("node:path") ?? await import("node:path");
  return path.win32;
}

/**
 * Synchronous file and path access: the contract of {@linkcode FileAccess}, answered at once. Paths
 * are the platform's own.
 */
export interface SyncFileAccess extends PathRules {
  /** Whether anything (file, folder, link) exists at `path`. */
  exists(path: string): boolean;
  /** Whether `path` is a directory (symlinks followed); `false` when it cannot be told. */
  isDirectory(path: string): boolean;
  /**
   * The bytes of the file at `path`; `undefined` when there is none, or when something other than
   * a regular file is there (a folder, a FIFO, a device: opening those could block or read forever).
   * Throws a `RangeError` for a file larger than `maxBytes` (read no further than that, even when
   * the file grows between the size check and the read), and what the file system throws for
   * anything else (a permission error, a symlink loop). Symlinks are followed.
   */
  readFile(path: string, maxBytes: number): Uint8Array | undefined;
}

/**
 * File and path access for configuration lookups, as {@linkcode fileAccess} gives it: the questions
 * of {@linkcode SyncFileAccess}, answered asynchronously (Bun has no synchronous file API but
 * `node:fs`).
 */
export interface FileAccess extends PathRules {
  /** Whether anything (file, folder, link) exists at `path`. */
  exists(path: string): Promise<boolean>;
  /** Whether `path` is a directory (symlinks followed); `false` when it cannot be told. */
  isDirectory(path: string): Promise<boolean>;
  /** {@linkcode SyncFileAccess.readFile}, as a promise. */
  readFile(path: string, maxBytes: number): Promise<Uint8Array | undefined>;
}

/** The parts of `node:fs` a {@linkcode SyncFileAccess} made by {@linkcode nodeFileAccess} uses. */
export interface NodeFsFunctions {
  /** `node:fs`'s `statSync`. */
  statSync(path: string): { isFile(): boolean; isDirectory(): boolean; size: number };
  /** `node:fs`'s `openSync`. */
  openSync(path: string, flags: "r"): number;
  /** `node:fs`'s `readSync`. */
  readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: null): number;
  /** `node:fs`'s `closeSync`. */
  closeSync(fd: number): void;
}

/** What is at a path: a regular file, a folder, something else (FIFO, socket, device), or nothing. */
export type PathKind = "file" | "directory" | "special" | "missing";

/**
 * What is at `path` (symlinks followed), asked synchronously and without reading it, with the
 * runtime's cheapest question: `Bun.mmap` on Bun (see {@linkcode bunEntryKind}), `Deno.statSync`
 * on Deno, `node:fs`'s `statSync` elsewhere. `missing` when nothing is there (or a parent is not a
 * folder); throws what the file system refuses to tell (a symlink loop, no permission), so that a
 * caller can tell "nothing" from "cannot know".
 *
 * @example
 * ```ts
 * import { pathKind } from "./runtime_files.ts";
 * pathKind("/tmp"); // "directory"
 * pathKind("/no/such/file"); // "missing"
 * ```
 */
export function pathKind(path: string): PathKind {
  const bun = bunGlobal();
  if (bun?.file && bun.mmap) return bunEntryKind({ file: bun.file, mmap: bun.mmap }, path);
  const stat = statFileSystem().stat(path);
  return !stat ? "missing" : stat.isFile ? "file" : stat.isDirectory ? "directory" : "special";
}

/**
 * The size in bytes of what is at `path` (symlinks followed; a folder's as the file system gives
 * it), `0` when nothing is there or it cannot be told. Cheaper than {@linkcode pathKind} on Bun
 * (`Bun.file(path).size`, no error built for a missing path), for a question that "0" answers safely.
 *
 * @example
 * ```ts
 * import { sizeAt } from "./runtime_files.ts";
 * sizeAt("/no/such/file"); // 0
 * ```
 */
export function sizeAt(path: string): number {
  const bun = bunGlobal();
  if (bun?.file) return bun.file(path).size;
  try {
    return statFileSystem().stat(path)?.size ?? 0;
  } catch {
    return 0;
  }
}

/** Deno's own file system on Deno, `node:fs` (taken when first needed) elsewhere. */
function statFileSystem(): StatFileSystem {
  const deno = denoGlobal();
  return deno ? denoFileSystem(deno) : nodeFileSystem(nodeBuiltin<NodeFsFunctions>("node:fs"));
}

let access: Promise<FileAccess> | undefined;

/**
 * File and path access without paying for `node:fs` where the runtime has its own: on Linux and
 * macOS, Deno's `Deno.statSync`/`Deno.openSync` (importing `node:fs` or `node:path` would load
 * Deno's Node compatibility layer, ~20 ms) and Bun's `Bun.mmap` and `Bun.file` (`node:fs` costs Bun
 * 2.1-2.3 ms to load before the first question; asking with `Bun.mmap` what is at each path, the
 * `vtcode.toml` lookup three folders up takes ~0.1 ms where reading each path took ~0.9 ms), each
 * with {@linkcode posixPath};
 * elsewhere (Node, Windows) {@linkcode nodeFileAccess} of `node:fs` and `node:path`, imported on
 * first use.
 *
 * @example
 * ```ts
 * import { fileAccess } from "./runtime_files.ts";
 * const files = await fileAccess();
 * const bytes = await files.readFile(files.join(files.resolve("."), "vtcode.toml"), 1024 * 1024);
 * ```
 */
export function fileAccess(): Promise<FileAccess> {
  return access ??= makeFileAccess();
}

async function makeFileAccess(): Promise<FileAccess> {
  const deno = denoGlobal();
  if (deno && deno.build.os !== "windows") return answeredLater(denoFileAccess(deno));
  const bun = bunGlobal();
  if (bun?.file && bun.mmap && platform() !== "win32") {
    return bunFileAccess({ file: bun.file, mmap: bun.mmap });
  }
  const [fs, path] = await Promise.all([import("node:fs"), import("node:path")]);
  return answeredLater(nodeFileAccess(fs, path));
}

/**
 * A {@linkcode SyncFileAccess} behind the asynchronous interface (what it throws, the promise
 * rejects with).
 *
 * @example
 * ```ts
 * import * as fs from "node:fs";
 * import path from "node:path";
 * import { answeredLater, nodeFileAccess } from "./runtime_files.ts";
 * const files = answeredLater(nodeFileAccess(fs, path));
 * await files.isDirectory("/tmp"); // true on Linux
 * ```
 */
export function answeredLater(files: SyncFileAccess): FileAccess {
  const later = <T>(answer: () => T) => new Promise<T>((resolve) => resolve(answer()));
  return {
    ...files,
    exists: (path) => later(() => files.exists(path)),
    isDirectory: (path) => later(() => files.isDirectory(path)),
    readFile: (path, maxBytes) => later(() => files.readFile(path, maxBytes)),
  };
}

function denoFileAccess(deno: DenoGlobal): SyncFileAccess {
  return { ...statFileAccess(denoFileSystem(deno)), ...posixPath };
}

/** What a stat says, in one shape for `Deno.statSync`'s and `node:fs`'s answers. */
interface StatFacts {
  isFile: boolean;
  isDirectory: boolean;
  size: number;
}

/**
 * A synchronous file system as {@linkcode statFileAccess} asks it: `stat` is `undefined` when nothing
 * is there (or a parent is not a folder) and throws anything else (a symlink loop, no permission).
 */
interface StatFileSystem {
  stat(path: string): StatFacts | undefined;
  open(path: string): { read(buffer: Uint8Array): number; close(): void };
}

function denoFileSystem(deno: DenoGlobal): StatFileSystem {
  return {
    stat(path) {
      try {
        const stat = deno.statSync(path);
        return { isFile: stat.isFile, isDirectory: stat.isDirectory, size: stat.size };
      } catch (error) {
        const name = (error as { name?: unknown } | null)?.name;
        if (name === "NotFound" || name === "NotADirectory") return undefined;
        throw error;
      }
    },
    open(path) {
      const file = deno.openSync(path);
      return { read: (buffer) => file.readSync(buffer) ?? 0, close: () => file.close() };
    },
  };
}

function nodeFileSystem(fs: NodeFsFunctions): StatFileSystem {
  return {
    stat(path) {
      try {
        const stat = fs.statSync(path);
        return { isFile: stat.isFile(), isDirectory: stat.isDirectory(), size: stat.size };
      } catch (error) {
        const code = (error as { code?: unknown } | null)?.code;
        if (code === "ENOENT" || code === "ENOTDIR") return undefined;
        throw error;
      }
    },
    open(path) {
      const fd = fs.openSync(path, "r");
      return {
        read: (buffer) => fs.readSync(fd, buffer, 0, buffer.length, null),
        close: () => fs.closeSync(fd),
      };
    },
  };
}

/** The questions of {@linkcode SyncFileAccess} (but path rules), answered from a stat and an open. */
function statFileAccess(files: StatFileSystem): Omit<SyncFileAccess, keyof PathRules> {
  return {
    exists(path) {
      try {
        return files.stat(path) !== undefined;
      } catch {
        // What the file system refuses to tell (a symlink loop, no permission) is "no", as node:fs's existsSync says.
        return false;
      }
    },
    isDirectory(path) {
      try {
        return files.stat(path)?.isDirectory ?? false;
      } catch {
        return false;
      }
    },
    readFile: (path, maxBytes) => readRegularFile(path, maxBytes, files),
  };
}

/** What is at a path, as {@linkcode bunEntryKind} tells it. */
type BunEntryKind = "file" | "directory" | "special" | "missing";

/**
 * What is at `path`, told without reading it: `Bun.mmap` opens and maps the file synchronously, and
 * its error names what is there instead (EISDIR a folder; ENOENT or ENOTDIR nothing; EINVAL an
 * empty file, which cannot be mapped; anything else, such as ELOOP or EACCES, is thrown). The
 * mapping is dropped untouched. Measured on Bun 1.4: ~0.01-0.08 ms a question, where a read costs
 * ~0.1 ms and the first one ~0.45 ms, and `stat()` builds `node:fs`'s Stats (~0.5 ms first use).
 * The synchronous `size` comes first: Bun gives `Infinity` for a FIFO, socket or device, which is
 * never opened (that could block).
 */
function bunEntryKind(bun: BunFileApi, path: string): BunEntryKind {
  if (!Number.isFinite(bun.file(path).size)) return "special";
  try {
    bun.mmap(path);
    return "file";
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    if (code === "EISDIR") return "directory";
    if (code === "ENOENT" || code === "ENOTDIR") return "missing";
    // A fresh handle: one whose size was asked keeps that answer.
    if (code === "EINVAL" && bun.file(path).size === 0) return "file";
    throw error;
  }
}

/** `Bun.file` and `Bun.mmap`, the two calls {@linkcode bunFileAccess} needs. */
interface BunFileApi {
  file: NonNullable<BunGlobal["file"]>;
  mmap: NonNullable<BunGlobal["mmap"]>;
}

/**
 * File access through Bun's own API ({@linkcode bunEntryKind} to ask what is there, `Bun.file` to
 * read a file that is), answered asynchronously like the other runtimes' file access.
 */
function bunFileAccess(bun: BunFileApi): FileAccess {
  const kindOf = (path: string) => new Promise<BunEntryKind>((resolve) => resolve(bunEntryKind(bun, path)));
  return {
    async exists(path) {
      try {
        return (await kindOf(path)) !== "missing";
      } catch {
        // Opening refused: what stat can still see is there (an unreadable file or folder, as
        // node:fs's existsSync says); a symlink loop is not.
        return bun.file(path).size > 0;
      }
    },
    async isDirectory(path) {
      try {
        return (await kindOf(path)) === "directory";
      } catch {
        return false;
      }
    },
    async readFile(path, maxBytes) {
      if ((await kindOf(path)) !== "file") return undefined;
      let bytes: Uint8Array;
      try {
        // A handle of its own (see bunEntryKind), read no further than one byte past the limit.
        bytes = await bun.file(path).slice(0, maxBytes + 1).bytes();
      } catch (error) {
        // Gone between the question and the read: nothing there, as if asked a moment later.
        const code = (error as { code?: unknown } | null)?.code;
        if (code === "ENOENT" || code === "ENOTDIR") return undefined;
        throw error;
      }
      if (bytes.length > maxBytes) throw new RangeError(`${path} is larger than ${maxBytes} bytes`);
      return bytes;
    },
    ...posixPath,
  };
}

/**
 * A {@linkcode SyncFileAccess} made of `node:fs` and a `node:path` (for code that has them loaded
 * already and must stay synchronous, such as `lms` discovery).
 *
 * @example
 * ```ts
 * import * as fs from "node:fs";
 * import path from "node:path";
 * import { nodeFileAccess } from "./runtime_files.ts";
 * const files = nodeFileAccess(fs, path);
 * files.isDirectory("/tmp"); // true on Linux
 * ```
 */
export function nodeFileAccess(fs: NodeFsFunctions, path: PathRules): SyncFileAccess {
  return {
    ...statFileAccess(nodeFileSystem(fs)),
    resolve: path.resolve,
    join: path.join,
    dirname: path.dirname,
    isAbsolute: path.isAbsolute,
  };
}

/**
 * `FileAccess.readFile` on any file system: nothing there or not a regular file is `undefined`; a
 * file larger than `maxBytes` is a `RangeError`, also when it grows between the stat and the read
 * (at most `maxBytes + 1` bytes are read to tell).
 */
function readRegularFile(path: string, maxBytes: number, files: StatFileSystem): Uint8Array | undefined {
  const stat = files.stat(path);
  if (!stat?.isFile) return undefined;
  if (stat.size > maxBytes) throw new RangeError(`${path} is larger than ${maxBytes} bytes`);
  const file = files.open(path);
  try {
    const buffer = new Uint8Array(maxBytes + 1);
    let length = 0;
    while (length < buffer.length) {
      const n = file.read(buffer.subarray(length));
      if (n === 0) break;
      length += n;
    }
    if (length > maxBytes) throw new RangeError(`${path} is larger than ${maxBytes} bytes`);
    return buffer.subarray(0, length);
  } finally {
    file.close();
  }
}

/** `resolve`'s step: an absolute segment starts over, a relative one is appended. */
function posixAppend(base: string, segment: string): string {
  if (segment === "") return base;
  return segment.startsWith("/") || base === "" ? segment : `${base}/${segment}`;
}

/** POSIX `normalize` (as `node:path`), without keeping a trailing slash when `resolved`. */
function posixNormalize(path: string, resolved: boolean): string {
  if (path === "") return ".";
  const absolute = path.startsWith("/");
  const trailing = !resolved && path.endsWith("/");
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (parts.length > 0 && parts[parts.length - 1] !== "..") parts.pop();
      else if (!absolute) parts.push("..");
    } else parts.push(part);
  }
  let body = parts.join("/");
  if (body === "") return absolute ? "/" : trailing ? "./" : ".";
  if (trailing) body += "/";
  return absolute ? `/${body}` : body;
}

/** POSIX `dirname` (as `node:path`: `a//b` gives `a/`, `//a` gives `//`). */
function posixDirname(path: string): string {
  if (path === "") return ".";
  const rooted = path.startsWith("/");
  let end = -1;
  let inName = false;
  for (let i = path.length - 1; i >= 1; i--) {
    if (path[i] === "/") {
      if (inName) {
        end = i;
        break;
      }
    } else inName = true;
  }
  if (end === -1) return rooted ? "/" : ".";
  if (rooted && end === 1) return "//";
  return path.slice(0, end);
}
