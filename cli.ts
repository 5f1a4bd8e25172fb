#!/usr/bin/env node
/**
 * The `vtcode-lmstudio` command: a thin shell over {@linkcode runCli} that wires process
 * arguments, stdout/stderr, SIGINT (exit 130, children cleaned up) and the exit code.
 *
 * @example
 * ```sh
 * deno run -A jsr:@vtcode/lmstudio/cli ensure openai/gpt-oss-20b --json
 * npx @vtcode/lmstudio check
 * bunx @vtcode/lmstudio models
 * ```
 *
 * @module
 */
import { runCli } from "./src/cli_main.ts";
import { LMStudioError } from "./src/errors.ts";
import { commandArgs, exitProcess, onInterrupt, stderrWriter, stdoutWriter } from "./src/runtime.ts";

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
const code = await runCli(commandArgs(), {
  stdout: (text) => stdout.write(text),
  stderr: (text) => stderr.write(text),
  signal: controller.signal,
});
// Exit once stdout and stderr have flushed; nothing else (sockets, timers) may keep the process alive.
await Promise.all([stdout.flush(), stderr.flush()]);
exitProcess(code);
