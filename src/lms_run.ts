/**
 * Runs `lms` through dax, safely: arguments as an array (never a shell string), stdin closed,
 * output captured with a cap, and a deadline or AbortSignal that kills `lms` **and everything it
 * started**, leaving no process behind.
 *
 * Why not dax's own executable runner: dax spawns the child in our process group and stops it with
 * `child.kill()`, which reaches only the direct child. A grandchild survives, and because it still
 * holds the stdout pipe, the dax command never settles (measured on Deno, Bun and Node: the
 * promise stays pending until the grandchild is killed by hand). So `lms` runs as a dax custom
 * command (`registerCommand`, dax's extension point): dax parses the escaped argument array, wires
 * stdin/stdout/stderr and delivers kill signals through its `KillSignal`; the handler spawns `lms`
 * as the leader of a new process group (`detached`, i.e. `setsid`, on POSIX) and signals the whole
 * group (`kill(-pid)`), escalating to SIGKILL. On Windows it uses `taskkill /T /F`, which walks the
 * process tree. A daemon that `lms` starts in its own session (the LM Studio service it wakes) is
 * deliberately outside that group and survives, as it must.
 *
 * dax is imported lazily, on the first command: it costs 60-80 ms of start-up on every runtime.
 *
 * @module
 */
import type { ChildProcess, spawn as nodeSpawn } from "node:child_process";
import type { Readable } from "node:stream";
import type { CommandContext, CommandPipeWriter, ExecuteResult } from "dax";
import { abortReason, type CallOptions, formatMs, validDuration } from "./deadline.ts";
import { LMStudioError, toLMStudioError } from "./errors.ts";
import { LMS_INSTALL_HINT } from "./lms_find.ts";
import { platform as currentPlatform } from "./runtime.ts";

/**
 * Options for {@linkcode runLms}.
 *
 * @example
 * ```ts
 * import { type LmsRunOptions } from "./lms_run.ts";
 * const options: LmsRunOptions = { timeoutMs: 10_000, onStderr: (chunk) => console.error(chunk) };
 * ```
 */
export interface LmsRunOptions extends CallOptions {
  /** Called with each decoded chunk of stdout as it arrives (ANSI and `\r` left in). */
  onStdout?: (chunk: string) => void;
  /** Called with each decoded chunk of stderr as it arrives. */
  onStderr?: (chunk: string) => void;
  /** Most bytes kept of each stream; past it the tail is kept. Default 1 MiB. */
  maxOutputBytes?: number;
  /** Extra environment variables for `lms` (added to the inherited environment). */
  env?: Record<string, string>;
  /** How long a killed `lms` gets to exit after SIGTERM before SIGKILL. Default 2000 ms. */
  killGraceMs?: number;
}

/**
 * What {@linkcode runLms} returns when `lms` ran to completion (whatever its exit code).
 *
 * @example
 * ```ts
 * import { runLms, type LmsRunResult } from "./lms_run.ts";
 * const result: LmsRunResult = await runLms("/home/me/.lmstudio/bin/lms", ["server", "status", "--json"]);
 * if (result.signal) console.error(`lms was killed by ${result.signal}`);
 * ```
 */
export interface LmsRunResult {
  /** Exit code; `128 + n` when killed by signal `n`. */
  code: number;
  /** Captured stdout (its tail, if longer than the cap). */
  stdout: string;
  /** Captured stderr (its tail, if longer than the cap). */
  stderr: string;
  /** The signal that killed `lms` (e.g. `SIGKILL`), or `null`. */
  signal?: string | null;
  /** Bytes dropped from the start of stdout because of the cap; absent when nothing was dropped. */
  stdoutDroppedBytes?: number;
  /** Bytes dropped from the start of stderr because of the cap; absent when nothing was dropped. */
  stderrDroppedBytes?: number;
}

// Default deadline of runLms when none is given.
const DEFAULT_LMS_RUN_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024;
const DEFAULT_KILL_GRACE_MS = 2_000;
// After lms exits on its own, how long to wait for its pipes to close. Something that outlived it
// (a daemon it started) may hold them open for ever; we stop reading rather than hang.
const PIPE_DRAIN_MS = 300;
// dax custom-command names are limited to [a-zA-Z0-9-_].
const COMMAND_NAME = "vtcode-lms";

type SignalName = Exclude<Parameters<ChildProcess["kill"]>[0], number | undefined>;

/**
 * How to spawn `lms` on a platform: see {@linkcode lmsSpawnPlan}.
 *
 * @example
 * ```ts
 * import { lmsSpawnPlan, type LmsSpawnPlan } from "./lms_run.ts";
 * const plan: LmsSpawnPlan = lmsSpawnPlan("/usr/local/bin/lms", ["ps", "--json"], "linux");
 * plan.detached; // true: lms leads its own process group
 * ```
 */
export interface LmsSpawnPlan {
  /** The program to start. */
  command: string;
  /** Its arguments. */
  args: string[];
  /** Pass `args` to Windows unescaped (they are already a quoted `cmd.exe` command line). */
  windowsVerbatimArguments: boolean;
  /** Start a new process group (POSIX), so the whole tree can be signalled. */
  detached: boolean;
}

/**
 * How `lms` is spawned on a platform. On POSIX: directly, as a new process-group leader. On
 * Windows an `.exe` runs directly; an `.cmd`/`.bat` shim needs `cmd.exe /d /s /c "..."`, and because
 * `cmd.exe` expands `%VAR%` and `!VAR!` even inside quotes, arguments holding `"`, `%` or `!` are
 * refused (`USAGE`) rather than passed in a form that could run something else.
 *
 * @example
 * ```ts
 * import { lmsSpawnPlan } from "./lms_run.ts";
 * lmsSpawnPlan("C:\\lms\\lms.cmd", ["get", "--yes", "qwen/qwen3-4b-2507"], "win32");
 * // { command: "cmd.exe", args: ["/d", "/s", "/c", "\"\"C:\\lms\\lms.cmd\" \"get\" ...\""], ... }
 * ```
 */
export function lmsSpawnPlan(
  file: string,
  args: readonly string[],
  platform: string = currentPlatform(),
  comspec: string = "cmd.exe",
): LmsSpawnPlan {
  if (platform !== "win32") {
    return { command: file, args: [...args], windowsVerbatimArguments: false, detached: true };
  }
  if (!/\.(cmd|bat)$/i.test(file)) {
    return { command: file, args: [...args], windowsVerbatimArguments: false, detached: false };
  }
  for (const arg of [file, ...args]) {
    // deno-lint-ignore no-control-regex
    if (/["%!\u0000-\u001f]/.test(arg)) {
      throw new LMStudioError(
        "USAGE",
        `Cannot pass ${
          JSON.stringify(arg)
        } to ${file}: cmd.exe would interpret its " % ! or control characters`,
        {
          hint:
            "Use lms.exe (LMSTUDIO_LMS_PATH) instead of a .cmd/.bat wrapper, or a name without those characters.",
        },
      );
    }
  }
  // Inside double quotes cmd.exe takes & | < > ^ literally; backslashes before the closing quote
  // are doubled so the program's argv parser does not read them as escaping it.
  const quote = (arg: string) => `"${arg.replace(/(\\+)$/, "$1$1")}"`;
  const line = [file, ...args].map(quote).join(" ");
  return {
    command: comspec,
    args: ["/d", "/s", "/c", `"${line}"`],
    windowsVerbatimArguments: true,
    detached: false,
  };
}

/** Keeps the last `max` bytes written to it. */
class TailBuffer {
  #chunks: Uint8Array[] = [];
  #size = 0;
  dropped = 0;
  constructor(readonly max: number) {}
  push(chunk: Uint8Array): void {
    this.#chunks.push(chunk);
    this.#size += chunk.byteLength;
    while (this.#size > this.max) {
      const first = this.#chunks[0];
      const excess = this.#size - this.max;
      if (first.byteLength <= excess) {
        this.#chunks.shift();
        this.#size -= first.byteLength;
        this.dropped += first.byteLength;
      } else {
        this.#chunks[0] = first.subarray(excess);
        this.#size -= excess;
        this.dropped += excess;
      }
    }
  }
  text(): string {
    const all = new Uint8Array(this.#size);
    let offset = 0;
    for (const chunk of this.#chunks) {
      all.set(chunk, offset);
      offset += chunk.byteLength;
    }
    let text = new TextDecoder().decode(all);
    // The cut may land inside a multi-byte character; its remains decode as U+FFFD.
    if (this.dropped > 0) {
      text = `[lms output truncated: ${this.dropped} earlier bytes dropped]\n${text.replace(/^\ufffd+/, "")}`;
    }
    return text;
  }
}

function describeCommand(args: readonly string[]): string {
  const shown = args.map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : JSON.stringify(arg))).join(" ");
  const text = `lms ${shown}`.trimEnd();
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}

/** What a run needs from Node's modules, imported on the first run rather than with this module. */
interface NodeApis {
  spawn: typeof nodeSpawn;
  signals: Record<string, number> | undefined;
}

let nodeApis: Promise<NodeApis> | undefined;
function loadNodeApis(): Promise<NodeApis> {
  nodeApis ??= Promise.all([import("node:child_process"), import("node:os")]).then(([childProcess, os]) => ({
    spawn: childProcess.spawn,
    signals: os.constants?.signals as Record<string, number> | undefined,
  }));
  return nodeApis;
}

function signalNumber(signal: string, table: Record<string, number> | undefined): number {
  return table?.[signal] ??
    ({ SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 } as Record<string, number>)[signal] ?? 0;
}

/** The part of a web ReadableStream we use (dax's comes from `node:stream/web`, not the DOM lib). */
interface ByteStream {
  getReader(): { read(): Promise<{ done: boolean; value?: Uint8Array }> };
}

/** What the custom command reports back to {@linkcode runLms}. */
interface RunState {
  spawnError?: unknown;
  exitSignal?: string | null;
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === "string") return code;
  const name = (error as { name?: unknown } | undefined)?.name;
  return typeof name === "string" ? name : undefined;
}

function spawnFailure(file: string, error: unknown): LMStudioError {
  const code = errorCode(error);
  const detail = error instanceof Error ? error.message : String(error);
  const hint = code === "EACCES"
    ? `Make it executable (chmod +x ${file}) or point LMSTUDIO_LMS_PATH at a working lms. ${LMS_INSTALL_HINT}.`
    : code === "NotCapable" || code === "PermissionDenied"
    ? "Deno needs --allow-run --allow-env --allow-read to run lms."
    : `${LMS_INSTALL_HINT}.`;
  return new LMStudioError("LMS_NOT_FOUND", `Could not run lms at ${file}: ${detail}`, {
    hint,
    cause: error,
  });
}

function forward(stream: Readable | null, writer: CommandPipeWriter): Promise<void> {
  return new Promise((resolve) => {
    if (!stream) return resolve();
    stream.on("data", (chunk: Uint8Array) => {
      const pending = writer.writeAll(chunk);
      if (pending) {
        stream.pause();
        pending.then(() => stream.resume(), () => stream.resume());
      }
    });
    stream.once("end", () => resolve());
    stream.once("close", () => resolve());
    stream.once("error", () => resolve());
  });
}

/**
 * Waits for `promise` at most `ms`; true if it settled in time. The timer is always cleared, so a
 * finished wait never keeps the process alive (a CLI exits as soon as its work is done).
 */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true, () => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The dax custom command that runs `file` as the leader of its own process group and kills the
 * group when dax signals the command.
 */
function processGroupCommand(
  file: string,
  os: string,
  killGraceMs: number,
  state: RunState,
  { spawn, signals }: NodeApis,
): (context: CommandContext) => Promise<ExecuteResult> {
  return async (context) => {
    if (context.signal.aborted) return { code: 130 };
    let child: ChildProcess;
    try {
      const plan = lmsSpawnPlan(file, context.args, os, context.env.ComSpec ?? context.env.COMSPEC);
      child = spawn(plan.command, plan.args, {
        cwd: context.cwd,
        env: context.env,
        stdio: ["ignore", "pipe", "pipe"],
        detached: plan.detached,
        windowsHide: true,
        windowsVerbatimArguments: plan.windowsVerbatimArguments,
      });
    } catch (error) {
      state.spawnError = error;
      return { code: 127 };
    }

    let exited = false;
    const exit = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
      child.once("exit", (code, signal) => {
        exited = true;
        resolve({ code, signal });
      });
      child.once("error", (error) => {
        // "error" without a pid is a failed spawn (ENOENT, EACCES); with one, a failed kill.
        if (child.pid === undefined) {
          state.spawnError = error;
          exited = true;
          resolve({ code: 127, signal: null });
        }
      });
    });
    const pipes = Promise.all([forward(child.stdout, context.stdout), forward(child.stderr, context.stderr)]);
    let pipesClosed = false;
    void pipes.then(() => (pipesClosed = true));

    const killTree = (signal: SignalName): void => {
      const pid = child.pid;
      if (pid === undefined) return;
      if (os === "win32") {
        const root = context.env.SystemRoot ?? context.env.SYSTEMROOT;
        const taskkill = root ? `${root}\\System32\\taskkill.exe` : "taskkill.exe";
        try {
          const killer = spawn(taskkill, ["/pid", String(pid), "/T", "/F"], {
            stdio: "ignore",
            windowsHide: true,
          });
          killer.once("error", () => child.kill(signal));
        } catch {
          child.kill(signal);
        }
        return;
      }
      try {
        process.kill(-pid, signal);
      } catch {
        // The group is gone (or was never made); fall back to the child itself.
        if (!exited) child.kill(signal);
      }
    };

    // Settles when a kill sequence is over, whether or not an exit was seen (a process stuck in
    // uninterruptible sleep never exits): the caller's deadline must hold regardless.
    let killSequenceOver!: (outcome: { code: number; signal: string }) => void;
    const givenUp = new Promise<{ code: number; signal: string }>((resolve) => (killSequenceOver = resolve));
    let killing: Promise<void> | undefined;
    const onSignal = (signal: string): void => {
      if (signal !== "SIGTERM" && signal !== "SIGKILL" && signal !== "SIGINT" && signal !== "SIGQUIT") {
        killTree(signal as SignalName);
        return;
      }
      killing ??= (async () => {
        killTree(signal as SignalName);
        // Give the tree a moment to exit cleanly, then make sure of it: members that ignore
        // SIGTERM or never held our pipes are not visible to us otherwise.
        await settlesWithin(Promise.all([exit, pipes]), killGraceMs);
        killTree("SIGKILL");
        await settlesWithin(exit, killGraceMs);
        killSequenceOver({ code: 137, signal: "SIGKILL" });
      })();
    };
    context.signal.addListener(onSignal);
    try {
      const outcome: { code: number | null; signal: string | null } = await Promise.race([exit, givenUp]);
      const { code, signal } = outcome;
      if (killing) await killing;
      await settlesWithin(pipes, PIPE_DRAIN_MS);
      if (!pipesClosed) {
        child.stdout?.destroy();
        child.stderr?.destroy();
      }
      state.exitSignal = signal;
      if (signal) return { code: 128 + signalNumber(signal, signals) };
      return { code: code ?? 1 };
    } finally {
      context.signal.removeListener(onSignal);
    }
  };
}

/**
 * Runs `lms` with `args` and resolves with its exit code and output, whatever the exit code.
 * Rejects with `TIMEOUT` when the deadline passes (default 30 s) and `INTERRUPTED` when the signal
 * aborts, in both cases only after `lms` and its process group are gone; with `LMS_NOT_FOUND`
 * when `lms` cannot be started (missing, not executable, Deno without `--allow-run`).
 *
 * stdin is closed; `args` reach `lms` exactly as given (no shell, no globbing, no expansion).
 * Running it on Deno needs `--allow-run --allow-env --allow-read`.
 *
 * @example
 * ```ts
 * import { findLms } from "@vtcode/lmstudio/lms";
 * import { runLms } from "./lms_run.ts";
 * const { path } = findLms();
 * const result = await runLms(path, ["ps", "--json"], { timeoutMs: 10_000 });
 * if (result.code === 0) console.log(JSON.parse(result.stdout));
 * ```
 */
export async function runLms(
  lmsPath: string,
  args: readonly string[],
  options: LmsRunOptions = {},
): Promise<LmsRunResult> {
  const what = describeCommand(args);
  const timeoutMs = validDuration(options.timeoutMs, DEFAULT_LMS_RUN_TIMEOUT_MS);
  for (const arg of args) {
    if (typeof arg !== "string" || arg.includes("\u0000")) {
      throw new LMStudioError("USAGE", `Invalid argument for ${what}: ${JSON.stringify(arg)}`, {
        hint: "Pass each argument as a string without NUL characters.",
      });
    }
  }
  const os = currentPlatform();
  lmsSpawnPlan(lmsPath, args, os); // Refuse what a Windows .cmd shim cannot take, before spawning.
  const signal = options.signal;
  if (signal?.aborted) throw abortReason(signal, what);

  const [dax, node] = await Promise.all([import("dax"), loadNodeApis()]);
  if (signal?.aborted) throw abortReason(signal, what);

  const maxBytes = Math.max(1024, options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES);
  const killer = new dax.KillController();
  let failure: unknown;
  const fail = (error: unknown): void => {
    if (failure === undefined) failure = error;
    killer.kill("SIGTERM");
  };
  const timer = setTimeout(() => {
    fail(
      new LMStudioError("TIMEOUT", `${what} timed out after ${formatMs(timeoutMs)}`, {
        hint:
          "Give the timeoutMs option more time, or run the same lms command in a terminal to see where it stops.",
      }),
    );
  }, timeoutMs);
  const onAbort = (): void => fail(abortReason(signal!, what));
  signal?.addEventListener("abort", onAbort, { once: true });

  const state: RunState = {};
  const stdout = new TailBuffer(maxBytes);
  const stderr = new TailBuffer(maxBytes);
  const collect = async (
    stream: ByteStream,
    tail: TailBuffer,
    callback: ((chunk: string) => void) | undefined,
  ): Promise<void> => {
    const decoder = callback ? new TextDecoder() : undefined;
    const reader = stream.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done || !value) break;
      tail.push(value);
      if (!callback || !decoder) continue;
      try {
        const text = decoder.decode(value, { stream: true });
        if (text !== "") callback(text);
      } catch (error) {
        // A throwing callback must not leave lms running with nobody reading its output.
        fail(error);
      }
    }
    const rest = decoder?.decode();
    if (rest) {
      try {
        callback?.(rest);
      } catch (error) {
        fail(error);
      }
    }
  };

  let code: number;
  try {
    const child = new dax.CommandBuilder()
      .registerCommand(
        COMMAND_NAME,
        processGroupCommand(lmsPath, os, options.killGraceMs ?? DEFAULT_KILL_GRACE_MS, state, node),
      )
      .command([COMMAND_NAME, ...args])
      .env(options.env ?? {})
      .stdin("null")
      .stdout("piped")
      .stderr("piped")
      .noThrow()
      .signal(killer.signal)
      .spawn();
    const [, , result] = await Promise.all([
      collect(child.stdout(), stdout, options.onStdout),
      collect(child.stderr(), stderr, options.onStderr),
      child,
    ]);
    code = result.code;
  } catch (error) {
    if (state.spawnError !== undefined) throw spawnFailure(lmsPath, state.spawnError);
    if (failure !== undefined) throw failure;
    // Deno without --allow-env fails inside dax (reading the environment) before any spawn.
    const kind = errorCode(error);
    if (kind === "NotCapable" || kind === "PermissionDenied") throw spawnFailure(lmsPath, error);
    throw toLMStudioError(error);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  }

  if (state.spawnError !== undefined) throw spawnFailure(lmsPath, state.spawnError);
  if (failure !== undefined) throw failure;
  const out: LmsRunResult = {
    code,
    stdout: stdout.text(),
    stderr: stderr.text(),
    signal: state.exitSignal ?? null,
  };
  if (stdout.dropped > 0) out.stdoutDroppedBytes = stdout.dropped;
  if (stderr.dropped > 0) out.stderrDroppedBytes = stderr.dropped;
  return out;
}
