/**
 * Test helpers shared by the suites: a bare loopback HTTP server (for "something that is not LM
 * Studio"), running the CLI as a subprocess on the runtime the tests run on, and a closed port.
 */
import { execFile, spawn } from "node:child_process";
import assert from "node:assert/strict";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { inspect, promisify } from "node:util";
import { after } from "node:test";
import { type ErrorCode, LMStudioError } from "../src/errors.ts";
import { detectRuntime } from "../src/runtime.ts";
import { createFakeLms } from "../src/testing/fake_lms.ts";
import { type Simulator, type SimulatorState, startSimulator } from "../src/testing/simulator.ts";
import { QWEN } from "./_fixtures.ts";

export const ROOT: string = resolve(fileURLToPath(new URL(".", import.meta.url)), "..");

export interface TestServer {
  url: string;
  close(): Promise<void>;
}

/** A plain HTTP server on 127.0.0.1 with a random port; closes hung sockets too. */
export async function startServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<TestServer> {
  const server = createServer(handler);
  const sockets = new Set<import("node:net").Socket>();
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((done) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => done());
      }),
  };
}

/** A port that was free a moment ago: connecting to it is refused. */
export async function closedPortUrl(): Promise<string> {
  const server = await startServer(() => {});
  const url = server.url;
  await server.close();
  return url;
}

export interface CliRun {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** The command line that runs a TypeScript file on the runtime these tests run on. */
export function scriptCommand(file: string): { cmd: string; args: string[] } {
  const runtime = detectRuntime().name;
  if (runtime === "deno") return { cmd: process.execPath, args: ["run", "-A", "--quiet", file] };
  if (runtime === "bun") return { cmd: process.execPath, args: [file] };
  // tsx resolved here, so that the process may run in any working directory.
  return { cmd: process.execPath, args: ["--import", import.meta.resolve("tsx"), file] };
}

/** The command line that runs `cli.ts` on the runtime these tests run on. */
export function cliCommand(): { cmd: string; args: string[] } {
  return scriptCommand(join(ROOT, "cli.ts"));
}

/** How {@linkcode runScript} and {@linkcode runCliProcess} run the process. */
export interface RunOptions {
  /** Added to (or, as `undefined`, removed from) this process's environment. */
  env?: Record<string, string | undefined>;
  /** SIGKILL after this long (default 20 s). */
  timeoutMs?: number;
  /** Working directory (default: the repository). */
  cwd?: string;
  onSpawn?: (pid: number) => void;
}

/** Runs the CLI as a subprocess and collects its output. */
export function runCliProcess(args: string[], options: RunOptions = {}): Promise<CliRun> {
  return runScript(join(ROOT, "cli.ts"), args, options);
}

/**
 * Runs a TypeScript file as a subprocess on the runtime these tests run on and collects its output.
 * LM Studio's variables are removed from its environment unless `options.env` sets them.
 */
export function runScript(file: string, args: string[], options: RunOptions = {}): Promise<CliRun> {
  const { cmd, args: prefix } = scriptCommand(file);
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries({ ...process.env, ...options.env })) {
    if (value !== undefined) env[key] = value;
  }
  // Isolate from the developer's own LM Studio settings unless a test sets them.
  for (const key of ["LMSTUDIO_URL", "LM_API_TOKEN", "LMSTUDIO_MODEL", "LMSTUDIO_LMS_PATH"]) {
    if (!options.env || !(key in options.env)) delete env[key];
  }
  return new Promise((done, fail) => {
    const child = spawn(cmd, [...prefix, ...args], {
      env,
      cwd: options.cwd ?? ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 20_000);
    child.on("error", fail);
    if (child.pid !== undefined) options.onSpawn?.(child.pid);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      done({ code, signal, stdout, stderr });
    });
  });
}

/**
 * Whether a process id is alive. A zombie (state Z/X in /proc: dead, waiting to be reaped by an
 * init that may never reap it, as in some containers) counts as gone.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as { code?: string }).code === "EPERM";
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return true; // no /proc (macOS): kill(pid, 0) succeeded, so it exists
  }
}

/** Waits (bounded) until `pid` is gone; true if it went. Reaping by init is not instantaneous. */
export async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 100 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 20));
  return !isAlive(pid);
}

/**
 * An `env` lookup (as `resolveConfig`, `mergeConfig` and `findLms` take) that sees only `vars`:
 * never this machine's environment, nor a name inherited from `Object.prototype`.
 */
export function envOf(vars: Record<string, string>): (name: string) => string | undefined {
  return (name) => (Object.hasOwn(vars, name) ? vars[name] : undefined);
}

/** Registers cleanup for the running test. */
export type Defer = (cleanup: () => unknown) => void;

/**
 * Wraps a test body so its cleanups run in `finally`, newest first, whatever the outcome.
 * Why not `t.after`: Deno's node:test layer never runs `t.after` of an `it` nested in a
 * `describe` (measured on Deno 2.9.6), which would leak temp dirs and processes there.
 */
export function cleanly(body: (defer: Defer) => unknown): () => Promise<void> {
  return async () => {
    const cleanups: Array<() => unknown> = [];
    try {
      await body((cleanup) => cleanups.push(cleanup));
    } finally {
      for (const cleanup of cleanups.reverse()) {
        try {
          await cleanup();
        } catch {
          // Cleanup is best effort; the test's own outcome is what matters.
        }
      }
    }
  };
}

/**
 * A temp folder removed when the test ends; it contains `.git`, so a `vtcode.toml` lookup never
 * leaves it. `files` are written into it (folders made as needed). Its real path, as the runtime
 * gives the working directory (macOS's /tmp is a link).
 */
export function workspace(defer: Defer, files: Record<string, string | Uint8Array> = {}): string {
  const root = realpathSync(mkdtempSync(join(tmpdir(), "vtcode-workspace-")));
  defer(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, ".git"));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, ".."), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

/**
 * Returns a `sim(state)` that starts LM Studio simulators for a test file and closes them all when
 * the file's tests are done. Call it once at module level.
 */
export function useSimulators(): (state?: SimulatorState) => Promise<Simulator> {
  const open: Simulator[] = [];
  after(async () => {
    await Promise.all(open.map((s) => s.close()));
  });
  return async (state = {}) => {
    const simulator = await startSimulator(state);
    open.push(simulator);
    return simulator;
  };
}

/**
 * The {@linkcode LMStudioError} a promise rejects with, for a test that then asserts on it itself
 * (fails the test if the promise resolves or throws anything else). To assert the whole contract
 * of a failure (code, message, a hint that says the fix) use {@linkcode rejectsWith}.
 */
export async function rejection(promise: Promise<unknown>): Promise<LMStudioError> {
  let outcome: unknown;
  try {
    outcome = await promise;
  } catch (error) {
    assert.ok(error instanceof LMStudioError, `expected an LMStudioError, got ${inspect(error)}`);
    return error;
  }
  assert.fail(`expected a rejection, got ${inspect(outcome, { depth: 2 })}`);
}

/** What {@linkcode rejectsWith} checks besides the code; a bare RegExp is the message's. */
export type Expected = RegExp | { message?: RegExp; hint?: RegExp };

/**
 * Awaits a promise that must reject with an {@linkcode LMStudioError} of `code`, with a message
 * (matching `expected.message` when given) and a hint that says the fix (matching `expected.hint`
 * when given). Every code but `INTERRUPTED` must carry a hint: a user who aborted needs no advice.
 * Returns the error for further checks.
 */
export async function rejectsWith(
  promise: Promise<unknown>,
  code: ErrorCode,
  expected: Expected = {},
): Promise<LMStudioError> {
  const { message, hint } = expected instanceof RegExp ? { message: expected, hint: undefined } : expected;
  const error = await rejection(promise);
  assert.equal(error.code, code, `${error.code}: ${error.message}`);
  assert.ok(error.message.trim() !== "", `${code} without a message`);
  if (message) assert.match(error.message, message);
  if (code !== "INTERRUPTED" || hint) {
    assert.ok(
      typeof error.hint === "string" && error.hint.trim() !== "",
      `${code} without a hint: ${error.message}`,
    );
  }
  if (hint) assert.match(error.hint!, hint, `${code} hint`);
  return error;
}

/**
 * Runs the CLI as a subprocess, sends it SIGINT once `ready()` holds (polled every 20 ms, at most
 * 10 s), and returns how it ended. The process is SIGKILLed if a failure leaves it running.
 */
export async function interruptCli(
  args: string[],
  ready: () => boolean,
  options: Pick<RunOptions, "env" | "cwd"> = {},
): Promise<CliRun> {
  let pid = 0;
  const running = runCliProcess(args, { ...options, onSpawn: (p) => (pid = p) });
  try {
    for (let i = 0; i < 500 && !ready(); i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(ready(), `the CLI never got ready to be interrupted: ${args.join(" ")}`);
    process.kill(pid, "SIGINT");
    const run = await running;
    assert.equal(isAlive(pid), false);
    return run;
  } finally {
    if (pid && isAlive(pid)) process.kill(pid, "SIGKILL");
  }
}

/**
 * Returns `later(cleanup)`: cleanups run after the file's last test, newest first. Call it once at
 * module level. Unlike `t.after`, this runs on Deno too (its node:test layer never runs the
 * `t.after` of an `it` nested in a `describe`); use {@linkcode cleanly} for per-test cleanup.
 */
export function atFileEnd(): (cleanup: () => unknown) => void {
  const pending: (() => unknown)[] = [];
  after(async () => {
    for (const cleanup of pending.splice(0).reverse()) await cleanup();
  });
  return (cleanup) => void pending.push(cleanup);
}

/** Runs an executable (no shell, 10 s at most) and collects how it ended; never rejects. */
export function runFile(
  path: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(path, args, { timeout: 10_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * Returns `fakeLms(simulator)`: a fake `lms` backed by that simulator, its path returned, removed
 * after the file's tests. Call it once at module level.
 */
export function useFakeLms(): (simulator: Simulator) => Promise<string> {
  const later = atFileEnd();
  return async (simulator) => {
    const fake = await createFakeLms({ simulator });
    later(() => fake.cleanup());
    return fake.path;
  };
}

/**
 * Runs `script` (ES module JavaScript) on Deno in `dir` with every `node:` module mapped to one that
 * fails the import, and the first touch of the `process` global recorded (it loads Deno's Node
 * compatibility layer too). For start-up tests: `touched` says whether `process` was used.
 */
export function denoWithoutNode(
  dir: string,
  script: string,
  args: string[] = [],
): Promise<{ code: number; stdout: string; stderr: string; touched: boolean }> {
  const builtins = [
    "child_process",
    "fs",
    "fs/promises",
    "http",
    "net",
    "os",
    "path",
    "process",
    "url",
    "util",
  ];
  writeFileSync(join(dir, "trap.js"), 'throw new Error("node: module imported: " + import.meta.url);\n');
  writeFileSync(
    join(dir, "import_map.json"),
    JSON.stringify({ imports: Object.fromEntries(builtins.map((name) => [`node:${name}`, "./trap.js"])) }),
  );
  writeFileSync(
    join(dir, "probe.js"),
    `const original = Object.getOwnPropertyDescriptor(globalThis, "process");\n` +
      `Object.defineProperty(globalThis, "process", { configurable: true, set: original.set, ` +
      `get() { Deno.writeTextFileSync("touched", "1"); return original.get.call(this); } });\n` +
      script,
  );
  const deno = join(ROOT, "node_modules", ".bin", process.platform === "win32" ? "deno.cmd" : "deno");
  const flags = ["run", "--quiet", "--no-prompt", "--no-config", "-A", "--import-map", "import_map.json"];
  return new Promise((done) => {
    execFile(
      deno,
      [...flags, "probe.js", ...args],
      { cwd: dir, env: { PATH: process.env.PATH, HOME: dir, NO_COLOR: "1" }, timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
        done({ code, stdout, stderr, touched: existsSync(join(dir, "touched")) });
      },
    );
  });
}

/**
 * Polls every 20 ms until `check` is true (a promise of it is awaited); fails naming `what` after
 * `tries` polls (default 250, ~5 s). For waiting on an event another process or the simulator
 * causes, never on a fixed delay.
 */
export async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  tries = 250,
): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.fail(`timed out waiting for ${what}`);
}

/** What {@linkcode request} read back: the whole body, as text and (when it parses) as JSON. */
export interface Reply<T = unknown> {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON; `undefined` when it does not parse (`T` only names what a test reads). */
  json: T;
}

/**
 * Sends one HTTP request to `server.url` + `path` (a simulator, a {@linkcode TestServer}) and reads
 * the whole answer. A string `body` is sent as is (to send malformed JSON), anything else
 * JSON-encoded; a request with a body says `content-type: application/json` unless `headers` sets
 * another. Without a body no content type is sent. Never fails on an HTTP status: tests assert it.
 */
export async function request<T = unknown>(
  server: { url: string },
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Reply<T>> {
  const init: RequestInit = { method, headers };
  if (body !== undefined) {
    const typed = Object.keys(headers).some((name) => name.toLowerCase() === "content-type");
    if (!typed) init.headers = { "content-type": "application/json", ...headers };
    init.body = typeof body === "string" ? body : JSON.stringify(body);
  }
  const response = await fetch(`${server.url}${path}`, init);
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined; // not JSON: tests that care read `text`
  }
  return { status: response.status, headers: response.headers, text, json: json as T };
}

/**
 * POST /v1/chat/completions to `server` asking {@linkcode QWEN} `question` (one user message), with
 * `body`'s fields added (a field of `body` replaces the default one: `model`, `messages`).
 */
export function chatCompletions(
  server: { url: string },
  body: Record<string, unknown> = {},
  question = "hi",
): Promise<Reply> {
  const ask = { model: QWEN.key, messages: [{ role: "user", content: question }] };
  return request(server, "POST", "/v1/chat/completions", { ...ask, ...body });
}

/**
 * `node --import tsx` with a resolve hook (written into `dir`) that refuses the package `name` and
 * its subpaths: any import of it, static or dynamic, fails with "<name> resolved from <importer>".
 * What start-up-cost tests use to prove a heavy dependency stays off a path. Node only (module hooks).
 */
export function nodeWithout(
  name: string,
  dir: string,
): (args: string[], env?: Record<string, string>) => Promise<{ stdout: string; stderr: string }> {
  writeFileSync(
    join(dir, `block-${name}.mjs`),
    `export async function resolve(specifier, context, next) {
  if (specifier === ${JSON.stringify(name)} || specifier.startsWith(${JSON.stringify(`${name}/`)})) {
    throw new Error(${JSON.stringify(`${name} resolved from `)} + context.parentURL);
  }
  return next(specifier, context);
}\n`,
  );
  const register = join(dir, `register-${name}.mjs`);
  writeFileSync(
    register,
    `import { register } from "node:module";\nregister(new URL("./block-${name}.mjs", import.meta.url));\n`,
  );
  return (args, env = {}) =>
    promisify(execFile)(process.execPath, ["--import", "tsx", "--import", register, ...args], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: "1", ...env },
      timeout: 20_000,
    });
}
