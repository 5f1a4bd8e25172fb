/**
 * The one place that knows which JavaScript runtime we run on. Everything else asks this module
 * instead of poking at `Deno`, `Bun` or `process` itself.
 *
 * Deno and Bun both define `process`, so they are detected before Node.
 *
 * @module
 */
import { homedir } from "node:os";
// `process` is the global one: on Node 20, `import process from "node:process"` builds an ES module
// namespace of every property of `process`, which runs the lazy stdin/stdout/stderr getters (~4 ms
// of start-up). Deno and Bun define the global too.

/** The runtimes this package supports. */
export type RuntimeName = "deno" | "bun" | "node";

/** Name and version of the running runtime. */
export interface RuntimeInfo {
  /** `deno`, `bun` or `node`. */
  name: RuntimeName;
  /** The runtime's own version, e.g. `2.9.6`, `1.4.5`, `20.20.2`. */
  version: string;
}

interface DenoGlobal {
  version?: { deno?: string };
  noColor?: boolean;
  env?: { get(name: string): string | undefined };
  stderr?: { isTerminal?: () => boolean };
}

function denoGlobal(): DenoGlobal | undefined {
  return (globalThis as { Deno?: DenoGlobal }).Deno;
}

/**
 * Detects the runtime: Deno first, then Bun, then Node.
 *
 * @example
 * ```ts
 * import { detectRuntime } from "@vtcode/lmstudio";
 * const { name, version } = detectRuntime();
 * console.log(`${name} ${version}`);
 * ```
 */
export function detectRuntime(): RuntimeInfo {
  const deno = denoGlobal();
  if (deno?.version?.deno) return { name: "deno", version: deno.version.deno };
  const bun = (globalThis as { Bun?: { version?: string } }).Bun;
  if (bun?.version) return { name: "bun", version: bun.version };
  return { name: "node", version: process.versions?.node ?? "unknown" };
}

/**
 * Reads an environment variable. Returns `undefined` when it is unset **or** when the runtime
 * refuses access (Deno without `--allow-env`), so callers fall back to defaults instead of crashing.
 *
 * @example
 * ```ts
 * import { getEnv } from "@vtcode/lmstudio";
 * const url = getEnv("LMSTUDIO_URL") ?? "http://localhost:1234";
 * ```
 */
export function getEnv(name: string): string | undefined {
  try {
    const value = process.env[name];
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
 * import { envDenied } from "@vtcode/lmstudio";
 * if (envDenied()) console.error("run with --allow-env");
 * ```
 */
export function envDenied(): boolean {
  try {
    void process.env.PATH;
    return false;
  } catch {
    return true;
  }
}

/** A snapshot of the environment variables this package reads; used where env is injectable. */
export type EnvReader = (name: string) => string | undefined;

/**
 * The user's home directory, or `undefined` if it cannot be known (no permission, no variable).
 *
 * @example
 * ```ts
 * import { homeDir } from "@vtcode/lmstudio";
 * console.log(homeDir() ?? "(no home)");
 * ```
 */
export function homeDir(): string | undefined {
  try {
    const home = homedir();
    if (home) return home;
  } catch {
    // Deno without --allow-sys / --allow-env: fall through to the variables.
  }
  return getEnv("HOME") || getEnv("USERPROFILE") || undefined;
}

/**
 * The operating system, as Node names it (`linux`, `darwin`, `win32`, ...).
 *
 * @example
 * ```ts
 * import { platform } from "@vtcode/lmstudio";
 * const exe = platform() === "win32" ? "lms.exe" : "lms";
 * ```
 */
export function platform(): string {
  return process.platform;
}

/**
 * Whether stderr is a terminal. Piped streams report `false` on Deno and `undefined` on Node and
 * Bun, so anything but `true` means "not a TTY".
 *
 * @example
 * ```ts
 * import { stderrIsTTY } from "@vtcode/lmstudio";
 * if (stderrIsTTY()) console.error("drawing a progress bar");
 * ```
 */
export function stderrIsTTY(): boolean {
  try {
    const deno = denoGlobal();
    if (deno?.stderr?.isTerminal) return deno.stderr.isTerminal();
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
 * import { noColorRequested } from "@vtcode/lmstudio";
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

interface BunGlobal {
  version?: string;
  stdout?: unknown;
  write?: (destination: unknown, data: string) => Promise<number>;
}

/** Writes text to stdout in order; `flush()` resolves once everything written so far is out. */
export interface StdoutWriter {
  /** Queues text for stdout. */
  write(text: string): void;
  /** Resolves when every write so far has reached stdout. */
  flush(): Promise<void>;
}

/**
 * A writer for stdout. On Bun it uses Bun's own `Bun.write(Bun.stdout, ...)`: Bun builds
 * `process.stdout` as a Node stream in JavaScript on first use, which costs ~9 ms of a CLI run that
 * takes ~25 ms. Elsewhere it is `process.stdout`.
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
  const bun = (globalThis as { Bun?: BunGlobal }).Bun;
  const write = bun?.write;
  if (write && bun.stdout !== undefined) {
    let queue: Promise<unknown> = Promise.resolve();
    return {
      write(text) {
        // A closed stdout (`| head`) ends the output, as it does for a Node stream, without a crash.
        queue = queue.then(() => write(bun.stdout, text)).catch(() => {});
      },
      flush: () => queue.then(() => {}),
    };
  }
  return {
    write: (text) => void process.stdout.write(text),
    flush: () => new Promise<void>((done) => process.stdout.write("", () => done())),
  };
}

/**
 * The width of the terminal behind stderr, or 0 when it is not a terminal or reports no size.
 *
 * @example
 * ```ts
 * import { stderrColumns } from "@vtcode/lmstudio";
 * const width = stderrColumns() || 80;
 * ```
 */
export function stderrColumns(): number {
  try {
    return stderrIsTTY() ? (process.stderr.columns ?? 0) : 0;
  } catch {
    return 0;
  }
}
