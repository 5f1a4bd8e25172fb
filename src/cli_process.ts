/**
 * A CLI program as this process: its arguments in, stdout/stderr out, Ctrl-C (exit 130, children
 * cleaned up), the exit code. Each program (`cli_check.ts`'s and `cli_main.ts`'s) runs through
 * here with its own copy in the npm build, so no object crosses from one build to the other.
 *
 * @module
 */
import type { CliIO } from "./cli_run.ts";
import { LMStudioError } from "./errors.ts";
import { exitProcess, onInterrupt, stderrWriter, stdoutWriter } from "./runtime.ts";

/**
 * Runs `run` on `argv` with this process's streams and signals, then exits with its code.
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
): Promise<never> {
  // Everything process-related goes through the runtime shim: on Deno, touching `process` loads the
  // Node compatibility layer (~10-20 ms of a ~40 ms run); on Bun, `process.stdout`/`process.stderr`
  // are built on first use (~9 ms each).
  const controller = new AbortController();
  let interrupted = false;
  onInterrupt(() => {
    // A second Ctrl-C means "now": the first one already asked every operation to stop.
    if (interrupted) exitProcess(130);
    interrupted = true;
    controller.abort(new LMStudioError("INTERRUPTED", "Interrupted (SIGINT)"));
  });

  const stdout = stdoutWriter();
  const stderr = stderrWriter();
  const code = await run(argv, {
    stdout: (text) => stdout.write(text),
    stderr: (text) => stderr.write(text),
    signal: controller.signal,
  });
  // Exit once stdout and stderr have flushed; nothing else (sockets, timers) may keep the process alive.
  await Promise.all([stdout.flush(), stderr.flush()]);
  return exitProcess(code);
}
