/**
 * The one place that knows which JavaScript runtime we run on. Everything else asks this module
 * instead of poking at `Deno`, `Bun` or `process` itself.
 *
 * Deno and Bun both define `process`, so they are detected before Node.
 *
 * Start-up is why this module imports nothing. On Deno, the first touch of `process` or of any
 * `node:` module loads Deno's Node compatibility layer (~10-20 ms on a 2-core VM; `node:fs` another
 * ~10 ms), so on Deno every function here uses `Deno.*` itself. On Bun, `process.stdout` and
 * `process.stderr` are Node streams built in JavaScript on first use (~9 ms), so the writers use
 * `Bun.write`. `node:os` is fetched only when the home directory is not in the environment.
 * `process` is always the global one: on Node 20, `import process from "node:process"` builds an
 * ES module namespace of every property of `process`, which runs the lazy stdio getters (~4 ms).
 *
 * @module
 */

/** The runtimes this package supports. */
export type RuntimeName = "deno" | "bun" | "node";

/** Name and version of the running runtime. */
export interface RuntimeInfo {
  /** `deno`, `bun` or `node`. */
  name: RuntimeName;
  /** The runtime's own version, e.g. `2.9.6`, `1.4.5`, `20.20.2`. */
  version: string;
}

/** A Deno standard stream, as far as this module uses it. */
interface DenoStream {
  write(data: Uint8Array): Promise<number>;
  isTerminal(): boolean;
}

/** The parts of the `Deno` global this module uses. */
interface DenoGlobal {
  version: { deno: string };
  noColor: boolean;
  env: { get(name: string): string | undefined };
  build: { os: string };
  args: string[];
  stdout: DenoStream;
  stderr: DenoStream;
  cwd(): string;
  exit(code: number): never;
  consoleSize(): { columns: number; rows: number };
  networkInterfaces(): { address: string }[];
  statSync(path: string): { isFile: boolean; isDirectory: boolean; size: number };
  openSync(path: string): { readSync(buffer: Uint8Array): number | null; close(): void };
  addSignalListener(signal: "SIGINT", handler: () => void): void;
}

/** The `Deno` global when we run on Deno (checked by its version), else `undefined`. */
function denoGlobal(): DenoGlobal | undefined {
  const deno = (globalThis as { Deno?: DenoGlobal }).Deno;
  return typeof deno?.version?.deno === "string" ? deno : undefined;
}

/** The parts of the `Bun` global this module uses. */
interface BunGlobal {
  version?: string;
  file?: (path: string) => {
    /** The size in bytes; `Infinity` for what is not a regular file; 0 when nothing is there. */
    readonly size: number;
    slice(start: number, end: number): { bytes(): Promise<Uint8Array> };
  };
  /** Maps a file into memory; throws with the `open`/`mmap` error code (ENOENT, EISDIR, ...). */
  mmap?: (path: string) => Uint8Array;
  stdout?: unknown;
  stderr?: unknown;
  write?: (destination: unknown, data: string) => Promise<number>;
}

function bunGlobal(): BunGlobal | undefined {
  return (globalThis as { Bun?: BunGlobal }).Bun;
}

/** `process.getBuiltinModule` (Node >= 20.16, Bun, Deno): a built-in module without an import. */
function builtin<T>(name: string): T | undefined {
  try {
    const get = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
    return get ? get(name) as T : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A built-in module taken synchronously when it is first needed, rather than imported: for code that
 * must stay synchronous (`lms` discovery) and must cost nothing until it runs (bundled into the
 * CLI, a static `node:` import would run at every start-up; on Deno it loads the Node compatibility
 * layer). Throws when the runtime has no `process.getBuiltinModule` (Node < 20.16).
 *
 * @example
 * ```ts
 * import { nodeBuiltin } from "./runtime.ts";
 * const fs = nodeBuiltin<typeof import("node:fs")>("node:fs");
 * fs.existsSync("/tmp");
 * ```
 */
export function nodeBuiltin<T>(name: `node:${string}`): T {
  const module = builtin<T>(name);
  if (module === undefined) {
    throw new Error(`${name} is not available here (Node >= 20.16, Bun or Deno needed)`);
  }
  return module;
}

/**
 * Detects the runtime: Deno first, then Bun, then Node.
 *
 * @example
 * ```ts
 * import { detectRuntime } from "./runtime.ts";
 * const { name, version } = detectRuntime();
 * console.log(`${name} ${version}`);
 * ```
 */
export function detectRuntime(): RuntimeInfo {
  const deno = denoGlobal();
  if (deno) return { name: "deno", version: deno.version.deno };
  const bun = bunGlobal();
  if (bun?.version) return { name: "bun", version: bun.version };
  return { name: "node", version: process.versions?.node ?? "unknown" };
}

/**
 * Calls `fire` once, `ms` from now, unless the returned function is called first; like
 * `setTimeout`, the pending timer keeps the process alive. On Deno it is an `AbortSignal.timeout`
 * with a listener: Deno's first `setTimeout` costs 4.5-6 ms (measured in a bare script; a deadline
 * is armed on every call, `check` included), `AbortSignal.timeout` nothing measurable, and Deno
 * holds the process for such a signal only while a listener is on it, so cancelling removes the
 * listener. Elsewhere it is `setTimeout` (Node's `AbortSignal.timeout` would not keep the process
 * alive; Bun's `setTimeout` is as cheap).
 *
 * @example
 * ```ts
 * import { startTimer } from "./runtime.ts";
 * const cancel = startTimer(30_000, () => console.error("still waiting after 30s"));
 * cancel();
 * ```
 */
export function startTimer(ms: number, fire: () => void): () => void {
  if (denoGlobal()) {
    const signal = AbortSignal.timeout(ms);
    signal.addEventListener("abort", fire, { once: true });
    return () => signal.removeEventListener("abort", fire);
  }
  const timer = setTimeout(fire, ms);
  return () => clearTimeout(timer);
}

/**
 * Reads an environment variable. Returns `undefined` when it is unset **or** when the runtime
 * refuses access (Deno without `--allow-env`), so callers fall back to defaults instead of crashing.
 *
 * @example
 * ```ts
 * import { getEnv } from "./runtime.ts";
 * const url = getEnv("LMSTUDIO_URL") ?? "http://localhost:1234";
 * ```
 */
export function getEnv(name: string): string | undefined {
  try {
    const deno = denoGlobal();
    // Deno.env.get throws for a name it cannot hold (empty, `=`, NUL): unset, as process.env says.
    const value = deno ? deno.env.get(name) : process.env[name];
    return value === undefined ? undefined : value;
  } catch {
    return undefined;
  }
}

/**
 * Whether the runtime refuses to let us read the environment (Deno without `--allow-env`), as
 * opposed to a variable simply being unset. Used to turn "not found" errors into permission hints.
 *
 * @example
 * ```ts
 * import { envDenied } from "./runtime.ts";
 * if (envDenied()) console.error("run with --allow-env");
 * ```
 */
export function envDenied(): boolean {
  try {
    const deno = denoGlobal();
    if (deno) deno.env.get("PATH");
    else void process.env.PATH;
    return false;
  } catch {
    return true;
  }
}

/** A snapshot of the environment variables this package reads; used where env is injectable. */
export type EnvReader = (name: string) => string | undefined;

/**
 * The user's home directory, or `undefined` if it cannot be known (no permission, no variable).
 * Like Node's `os.homedir()`, `HOME` (`USERPROFILE` on Windows) comes first; `node:os` is asked
 * only when that is unset (on Node older than 20.16, which cannot load it on demand, the other
 * variable is the last resort).
 *
 * @example
 * ```ts
 * import { homeDir } from "./runtime.ts";
 * console.log(homeDir() ?? "(no home)");
 * ```
 */
export function homeDir(): string | undefined {
  const windows = platform() === "win32";
  const first = getEnv(windows ? "USERPROFILE" : "HOME");
  if (first) return first;
  try {
    const home = builtin<{ homedir(): string }>("node:os")?.homedir();
    if (home) return home;
  } catch {
    // Deno without --allow-sys / --allow-env: fall through to the other variable.
  }
  return getEnv(windows ? "HOME" : "USERPROFILE") || undefined;
}

/**
 * The operating system, as Node names it (`linux`, `darwin`, `win32`, ...).
 *
 * @example
 * ```ts
 * import { platform } from "./runtime.ts";
 * const exe = platform() === "win32" ? "lms.exe" : "lms";
 * ```
 */
export function platform(): string {
  const deno = denoGlobal();
  if (!deno) return process.platform;
  const os = deno.build.os;
  return os === "windows" ? "win32" : os === "solaris" || os === "illumos" ? "sunos" : os;
}

/**
 * The addresses of this machine's network interfaces (IPv4 and IPv6, loopback included), or `[]`
 * when they cannot be read (Deno without `--allow-sys`, Node older than 20.16). `Deno.networkInterfaces`
 * on Deno, `node:os` (fetched on first use) elsewhere.
 *
 * @example
 * ```ts
 * import { networkAddresses } from "./runtime.ts";
 * const local = networkAddresses().includes("192.168.1.20");
 * ```
 */
export function networkAddresses(): string[] {
  try {
    const deno = denoGlobal();
    if (deno) return deno.networkInterfaces().map((entry) => entry.address);
    const os = builtin<{ networkInterfaces(): Record<string, { address: string }[] | undefined> }>("node:os");
    if (!os) return [];
    return Object.values(os.networkInterfaces()).flatMap((list) =>
      (list ?? []).map((entry) => entry.address)
    );
  } catch {
    return [];
  }
}

/**
 * The current working directory.
 *
 * @example
 * ```ts
 * import { cwd } from "./runtime.ts";
 * console.log(cwd());
 * ```
 */
export function cwd(): string {
  const deno = denoGlobal();
  return deno ? deno.cwd() : process.cwd();
}

/**
 * The command-line arguments after the script (`Deno.args`, else `process.argv.slice(2)`).
 *
 * @example
 * ```ts
 * import { commandArgs } from "./runtime.ts";
 * const [command = "check"] = commandArgs();
 * ```
 */
export function commandArgs(): string[] {
  const deno = denoGlobal();
  return deno ? [...deno.args] : process.argv.slice(2);
}

/**
 * Ends the process with `code`, now.
 *
 * @example
 * ```ts
 * import { exitProcess } from "./runtime.ts";
 * exitProcess(0);
 * ```
 */
export function exitProcess(code: number): never {
  const deno = denoGlobal();
  if (deno) deno.exit(code);
  return process.exit(code);
}

/**
 * Calls `handler` on every SIGINT (Ctrl-C) instead of the default exit.
 *
 * @example
 * ```ts
 * import { onInterrupt } from "./runtime.ts";
 * onInterrupt(() => console.error("stopping…"));
 * ```
 */
export function onInterrupt(handler: () => void): void {
  const deno = denoGlobal();
  if (deno) deno.addSignalListener("SIGINT", handler);
  else process.on("SIGINT", handler);
}

/**
 * Whether stderr is a terminal. Piped streams report `false` on Deno and `undefined` on Node and
 * Bun, so anything but `true` means "not a TTY".
 *
 * @example
 * ```ts
 * import { stderrIsTTY } from "./runtime.ts";
 * if (stderrIsTTY()) console.error("drawing a progress bar");
 * ```
 */
export function stderrIsTTY(): boolean {
  try {
    const deno = denoGlobal();
    if (deno) return deno.stderr.isTerminal();
    return process.stderr.isTTY === true;
  } catch {
    return false;
  }
}

/**
 * Whether colour must be off: `NO_COLOR` set and non-empty, `TERM=dumb`, or Deno's own `noColor`
 * (which needs no env permission). `FORCE_COLOR` turns colour back on.
 *
 * @example
 * ```ts
 * import { noColorRequested } from "./runtime.ts";
 * const colour = !noColorRequested();
 * ```
 */
export function noColorRequested(env: EnvReader = getEnv): boolean {
  const force = env("FORCE_COLOR");
  if (force !== undefined && force !== "" && force !== "0") return false;
  if (env === getEnv && denoGlobal()?.noColor === true) return true;
  const noColor = env("NO_COLOR");
  if (noColor !== undefined && noColor !== "") return true;
  return env("TERM") === "dumb";
}

/** Writes text to stdout or stderr in order; `flush()` resolves once everything written so far is out. */
export interface StdoutWriter {
  /** Queues text for the stream. */
  write(text: string): void;
  /** Resolves when every write so far has reached the stream. */
  flush(): Promise<void>;
}

/**
 * A writer for stdout. On Bun it uses Bun's own `Bun.write(Bun.stdout, ...)`: Bun builds
 * `process.stdout` as a Node stream in JavaScript on first use, which costs ~9 ms of a CLI run that
 * takes ~25 ms. On Deno it writes to `Deno.stdout` (`process.stdout` would load Deno's Node
 * compatibility layer). On Node it is `process.stdout`. A closed stdout (`| head`) ends the output
 * without a crash.
 *
 * @example
 * ```ts
 * import { stdoutWriter } from "./runtime.ts";
 * const out = stdoutWriter();
 * out.write("ready\n");
 * await out.flush();
 * ```
 */
export function stdoutWriter(): StdoutWriter {
  return streamWriter("stdout");
}

/**
 * A writer for stderr, made as {@linkcode stdoutWriter} is.
 *
 * @example
 * ```ts
 * import { stderrWriter } from "./runtime.ts";
 * const err = stderrWriter();
 * err.write("warning: no model loaded\n");
 * await err.flush();
 * ```
 */
export function stderrWriter(): StdoutWriter {
  return streamWriter("stderr");
}

function streamWriter(name: "stdout" | "stderr"): StdoutWriter {
  const deno = denoGlobal();
  if (deno) {
    const stream = deno[name];
    const encoder = new TextEncoder();
    let queue: Promise<unknown> = Promise.resolve();
    return {
      write(text) {
        queue = queue.then(async () => {
          // A write may take only part of the bytes (a full pipe): write the rest.
          let bytes = encoder.encode(text);
          while (bytes.length > 0) bytes = bytes.subarray(await stream.write(bytes));
        }).catch(() => {});
      },
      flush: () => queue.then(() => {}),
    };
  }
  const bun = bunGlobal();
  const write = bun?.write;
  if (write && bun[name] !== undefined) {
    let queue: Promise<unknown> = Promise.resolve();
    return {
      write(text) {
        queue = queue.then(() => write(bun[name], text)).catch(() => {});
      },
      flush: () => queue.then(() => {}),
    };
  }
  return {
    write: (text) => void process[name].write(text),
    flush: () => new Promise<void>((done) => process[name].write("", () => done())),
  };
}

/**
 * The width of the terminal behind stderr, or 0 when it is not a terminal or reports no size.
 *
 * @example
 * ```ts
 * import { stderrColumns } from "./runtime.ts";
 * const width = stderrColumns() || 80;
 * ```
 */
export function stderrColumns(): number {
  try {
    if (!stderrIsTTY()) return 0;
    const deno = denoGlobal();
    return deno ? deno.consoleSize().columns : (process.stderr.columns ?? 0);
  } catch {
    return 0;
  }
}

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
 * import { posixPath } from "./runtime.ts";
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
 * import { pathRules } from "./runtime.ts";
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
 * import { pathKind } from "./runtime.ts";
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
 * import { sizeAt } from "./runtime.ts";
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
 * import { fileAccess } from "./runtime.ts";
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
 * import { answeredLater, nodeFileAccess } from "./runtime.ts";
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
 * import { nodeFileAccess } from "./runtime.ts";
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
