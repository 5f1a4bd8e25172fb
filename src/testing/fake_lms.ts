/**
 * A fake `lms` executable for tests: a `#!/usr/bin/env node` script (plus `lms.cmd` on request)
 * in a temp dir, backed by a {@linkcode Simulator} so `lms get/load/unload/ls/ps/server` change
 * and report the same state the HTTP API shows. Behaviour can be scripted per subcommand
 * (exit codes, output, hangs, garbage, huge output, self-kill) and every call's argv is recorded.
 *
 * @module
 */
import {
  appendFileSync,
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import process from "node:process";
import { FAKE_LMS_FILES, fakeLmsSource } from "./fake_lms_source.ts";
import type { Simulator } from "./simulator.ts";

/**
 * Scripted behaviour of one subcommand. Steps run in this order: `delayMs`, print `stdout` and
 * `stderr`, `killSelf`, `hangWithChild`, `hang`, `garbage`, `bigOutputBytes`. If any of
 * `exitCode`, `stdout`, `stderr`, `garbage`, `bigOutputBytes` is set the call then exits with
 * `exitCode` (default 0) without touching the simulator; otherwise the real behaviour runs
 * (`noop`: it prints what it would print but changes nothing).
 *
 * @example
 * ```ts
 * import type { FakeLmsBehaviour } from "@vtcode/lmstudio/testing";
 * const crash: FakeLmsBehaviour = { stderr: "Error: boom\n", exitCode: 1 };
 * const stuck: FakeLmsBehaviour = { hangWithChild: true };
 * ```
 */
export interface FakeLmsBehaviour {
  /** Exit code of a scripted call (default 0). */
  exitCode?: number;
  /** Text printed to stdout. */
  stdout?: string;
  /** Text printed to stderr. */
  stderr?: string;
  /** Sleep forever. */
  hang?: boolean;
  /** Start a grandchild `node` that sleeps forever (its pid goes to `pids()`), then sleep forever. */
  hangWithChild?: boolean;
  /** Print non-JSON bytes (NUL, ANSI, HTML) to stdout. */
  garbage?: boolean;
  /** Print this many bytes to stdout. */
  bigOutputBytes?: number;
  /** Run the real command without changing the simulator's state (a lying `lms`). */
  noop?: boolean;
  /** Wait this long before anything else. */
  delayMs?: number;
  /** Kill itself with this signal (after printing `stdout`/`stderr`). */
  killSelf?: "SIGKILL" | "SIGTERM";
}

/**
 * Behaviour per subcommand: `"get"`, `"load"`, `"unload"`, `"ps"`, `"ls"`, `"server"`,
 * `"version"`, a two-word key such as `"server start"` (wins over `"server"`), or `"*"` for any.
 *
 * @example
 * ```ts
 * import type { FakeLmsScript } from "@vtcode/lmstudio/testing";
 * const script: FakeLmsScript = { load: { exitCode: 1, stderr: "Error: no\n" }, ps: { garbage: true } };
 * ```
 */
export interface FakeLmsScript {
  /** Behaviour of the subcommand named by the key. */
  [command: string]: FakeLmsBehaviour | undefined;
}

/**
 * Options of {@linkcode createFakeLms}.
 *
 * @example
 * ```ts
 * import { createFakeLms, type FakeLmsOptions } from "@vtcode/lmstudio/testing";
 * const options: FakeLmsOptions = { windowsShim: true, wakeUp: "first", script: { get: { hang: true } } };
 * const lms = await createFakeLms(options); // no simulator: commands fail as if LM Studio were unreachable
 * await lms.cleanup();
 * ```
 */
export interface FakeLmsOptions {
  /** The simulator that backs the commands. Without one, commands fail as when LM Studio is unreachable. */
  simulator?: Simulator;
  /** Directory to write into (default: a new temp dir, removed by `cleanup()`). */
  dir?: string;
  /** Also write `lms.cmd` (`node "%~dp0lms" %*`) for Windows-style invocation. */
  windowsShim?: boolean;
  /** Initial scripted behaviour. */
  script?: FakeLmsScript;
  /** Print `Waking up LM Studio service...` on the first call that needs the service, on every one, or never (default). */
  wakeUp?: "never" | "first" | "always";
  /** What `lms version` reports (default `07b7252`; a semver like `0.0.47` gives the old format). */
  cliVersion?: string;
}

/**
 * A fake `lms` on disk. Call `cleanup()` in `after`/`t.after`.
 *
 * @example
 * ```ts
 * import { createFakeLms, type FakeLms } from "@vtcode/lmstudio/testing";
 * const lms: FakeLms = await createFakeLms();
 * lms.script({ "*": { exitCode: 3 } });
 * console.log(lms.path, lms.calls()); // ".../lms" []
 * await lms.cleanup();
 * ```
 */
export interface FakeLms {
  /** Absolute path of the executable `lms`. */
  readonly path: string;
  /** The directory holding it (prepend it to PATH). */
  readonly dir: string;
  /** The argv (without the program) of every call so far, oldest first. */
  calls(): string[][];
  /** Replaces the scripted behaviour (read by the executable on every call). */
  script(script: FakeLmsScript): void;
  /** Pids of every fake `lms` process and of every grandchild it started. */
  pids(): number[];
  /** Kills leftover fake processes it started (SIGKILL) and removes its files. */
  cleanup(): Promise<void>;
}

interface FakeConfig {
  url: string | null;
  script: FakeLmsScript;
  wakeUp: "never" | "first" | "always";
  cliVersion?: string;
}

function readLines(path: string): string[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8").split("\n").filter((line) => line.trim() !== "");
}

/** Whether `pid` is (still) one of ours: on Linux its command line names our dir; elsewhere we trust the log. */
function ours(pid: number, dir: string): boolean {
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch (error) {
    return (error as { code?: string }).code !== "ENOENT" || !existsSync("/proc/self");
  }
  return cmdline.includes(dir);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === "EPERM";
  }
}

/**
 * Writes a fake `lms` into a temp dir (or `options.dir`). Put `fake.dir` first on PATH, or call
 * `fake.path` directly.
 *
 * @example
 * ```ts
 * import { createFakeLms, startSimulator } from "@vtcode/lmstudio/testing";
 * import { execFile } from "node:child_process";
 * import { promisify } from "node:util";
 *
 * // Run it asynchronously: the simulator lives in this process and must keep answering.
 * const run = promisify(execFile);
 * const sim = await startSimulator({ models: [{ key: "qwen/qwen3-4b-2507" }] });
 * const lms = await createFakeLms({ simulator: sim });
 * try {
 *   await run(lms.path, ["load", "-y", "qwen/qwen3-4b-2507"]);
 *   console.log((await run(lms.path, ["ps", "--json"])).stdout); // [{"identifier":"qwen/qwen3-4b-2507",...}]
 *   console.log(lms.calls()); // [["load", "-y", "qwen/qwen3-4b-2507"], ["ps", "--json"]]
 * } finally {
 *   await lms.cleanup();
 *   await sim.close();
 * }
 * ```
 */
export async function createFakeLms(options: FakeLmsOptions = {}): Promise<FakeLms> {
  const ownDir = options.dir === undefined;
  const dir = resolve(ownDir ? await mkdtemp(join(tmpdir(), "fake-lms-")) : options.dir!);
  if (!ownDir) mkdirSync(dir, { recursive: true });
  const path = join(dir, "lms");
  const file = (name: string): string => join(dir, name);
  const config: FakeConfig = {
    url: options.simulator ? options.simulator.controlUrl : null,
    script: options.script ?? {},
    wakeUp: options.wakeUp ?? "never",
  };
  if (options.cliVersion !== undefined) config.cliVersion = options.cliVersion;
  const writeConfig = (): void => {
    const target = file(FAKE_LMS_FILES.config);
    const temp = `${target}.${process.pid}.tmp`;
    writeFileSync(temp, JSON.stringify(config));
    renameSync(temp, target);
  };
  writeConfig();
  appendFileSync(file(FAKE_LMS_FILES.calls), "");
  writeFileSync(path, fakeLmsSource(dir));
  chmodSync(path, 0o755);
  const created = [path, file(FAKE_LMS_FILES.config), file(FAKE_LMS_FILES.calls)];
  if (options.windowsShim) {
    writeFileSync(file("lms.cmd"), '@echo off\r\nnode "%~dp0lms" %*\r\n');
    created.push(file("lms.cmd"));
  }
  const records = (): { argv: string[]; pid: number }[] =>
    readLines(file(FAKE_LMS_FILES.calls)).map((line) => JSON.parse(line) as { argv: string[]; pid: number });

  return {
    path,
    dir,
    calls: () => records().map((r) => r.argv),
    script: (script: FakeLmsScript) => {
      config.script = script;
      writeConfig();
    },
    pids: () => [
      ...records().map((r) => r.pid),
      ...readLines(file(FAKE_LMS_FILES.pids)).map(Number).filter((pid) => Number.isInteger(pid) && pid > 0),
    ],
    cleanup: async () => {
      const pids = [
        ...readLines(file(FAKE_LMS_FILES.pids)).map(Number),
        ...records().map((r) => r.pid),
      ].filter((pid) => Number.isInteger(pid) && pid > 0 && pid !== process.pid);
      for (const pid of pids) {
        if (!alive(pid) || !ours(pid, dir)) continue;
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // Already gone.
        }
      }
      if (ownDir) {
        rmSync(dir, { recursive: true, force: true });
      } else {
        for (const name of [...created, file(FAKE_LMS_FILES.pids), file(FAKE_LMS_FILES.awake)]) {
          rmSync(name, { force: true });
        }
        await Promise.resolve();
      }
    },
  };
}
