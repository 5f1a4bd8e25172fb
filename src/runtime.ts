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
 * File and path access (path rules, what is at a path, reading configuration files) lives apart, in
 * `runtime_files.ts`, which imports the runtime globals from here: the HTTP client imports this
 * module, and its module graph must stay free of file access. This module never imports that one.
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

/** The parts of the `Deno` global this module and `runtime_files.ts` use. */
export interface DenoGlobal {
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

/**
 * The `Deno` global when we run on Deno (checked by its version), else `undefined`.
 *
 * @example
 * ```ts
 * import { denoGlobal } from "./runtime.ts";
 * const onDeno = denoGlobal() !== undefined;
 * ```
 */
export function denoGlobal(): DenoGlobal | undefined {
  const deno = (globalThis as { Deno?: DenoGlobal }).Deno;
  return typeof deno?.version?.deno === "string" ? deno : undefined;
}

/** The parts of the `Bun` global this module and `runtime_files.ts` use. */
export interface BunGlobal {
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

/**
 * The `Bun` global when we run on Bun, else `undefined`.
 *
 * @example
 * ```ts
 * import { bunGlobal } from "./runtime.ts";
 * const onBun = bunGlobal() !== undefined;
 * ```
 */
export function bunGlobal(): BunGlobal | undefined {
  return (globalThis as { Bun?: BunGlobal }).Bun;
}

/**
 * `process.getBuiltinModule` (Node >= 20.16, Bun, Deno): a built-in module without an import, or
 * `undefined` when the runtime cannot give it that way (see {@linkcode nodeBuiltin}, which throws).
 *
 * @example
 * ```ts
 * import { builtin } from "./runtime.ts";
 * const path = builtin<typeof import("node:path")>("node:path") ?? await import("node:path");
 * path.win32.join("C:\\Users", "me"); // "C:\\Users\\me"
 * ```
 */
export function builtin<T>(name: string): T | undefined {
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
