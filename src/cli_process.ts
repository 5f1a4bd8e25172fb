/**
 * A CLI program as this process: its arguments in, stdout/stderr out, Ctrl-C (exit 130, children
 * cleaned up), the exit code. Each program (`cli_quick.ts`, `cli_check.ts` and `cli_main.ts`) has
 * its own copy of this in the npm build, so no object crosses from one program to the other.
 *
 * @module
 */
import type { CliIO } from "./cli_run.ts";
import { deadlineError } from "./deadline.ts";
import { LMStudioError } from "./errors.ts";
import { exitProcess, onInterrupt, stderrWriter, stdoutWriter } from "./runtime.ts";

/**
 * How a run that began in another program of the same process (the quick `check` of `cli.ts`)
 * stopped before it handed over, as plain data: what the deadline was for and how long it was, or
 * that Ctrl-C was pressed. This program makes the error of it (the quick check carries no error
 * class, and an object would not be this program's `LMStudioError` in the npm build anyway).
 */
export interface Handover {
  /** What ended the first attempt. */
  stoppedWith?: { code: "TIMEOUT"; what: string; timeoutMs: number } | { code: "INTERRUPTED" };
}

/** The error a first Ctrl-C stands for. */
function interrupted(): LMStudioError {
  return new LMStudioError("INTERRUPTED", "Interrupted (SIGINT)");
}

/**
 * A signal that the first Ctrl-C (SIGINT) aborts, with `reason()` when given (the CLI frame's
 * `INTERRUPTED` error, so that every operation stops and reports it); a second Ctrl-C means "now"
 * and ends the process with 130.
 *
 * @example
 * ```ts ignore
 * import { interruptSignal } from "./cli_process.ts";
 * const signal = interruptSignal();
 * await fetch("http://localhost:1234/api/v1/models", { signal });
 * ```
 */
export function interruptSignal(reason?: () => unknown): AbortSignal {
  const controller = new AbortController();
  onInterrupt(() => {
    if (controller.signal.aborted) exitProcess(130);
    controller.abort(reason?.());
  });
  return controller.signal;
}

/**
 * Runs `run` on `argv` with this process's streams and signals, then exits with its code. With a
 * `handover` that says how a first attempt stopped, the run starts stopped the same way (it then
 * reports that error as its own, without waiting for a second deadline).
 *
 * @example
 * ```ts ignore
 * import { runAsProcess } from "./cli_process.ts";
 * import { runCli } from "./cli_main.ts";
 * await runAsProcess(["check"], runCli);
 * ```
 */
export async function runAsProcess(
  argv: readonly string[],
  run: (argv: readonly string[], io: CliIO) => Promise<number>,
  handover: Handover = {},
): Promise<never> {
  // Everything process-related goes through the runtime shim: on Deno, touching `process` loads the
  // Node compatibility layer (~10-20 ms of a ~40 ms run); on Bun, `process.stdout`/`process.stderr`
  // are built on first use (~9 ms each).
  const stopped = handover.stoppedWith;
  const signal = stopped
    ? AbortSignal.abort(
      stopped.code === "TIMEOUT" ? deadlineError(stopped.what, stopped.timeoutMs) : interrupted(),
    )
    : interruptSignal(interrupted);
  const stdout = stdoutWriter();
  const stderr = stderrWriter();
  const code = await run(argv, {
    stdout: (text) => stdout.write(text),
    stderr: (text) => stderr.write(text),
    signal,
  });
  // Exit once stdout and stderr have flushed; nothing else (sockets, timers) may keep the process alive.
  await Promise.all([stdout.flush(), stderr.flush()]);
  return exitProcess(code);
}
