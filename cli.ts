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
import { stdoutWriter } from "./src/runtime.ts";

const controller = new AbortController();
let interrupted = false;
process.on("SIGINT", () => {
  // A second Ctrl-C means "now": the first one already asked every operation to stop.
  if (interrupted) process.exit(130);
  interrupted = true;
  controller.abort(new LMStudioError("INTERRUPTED", "Interrupted (SIGINT)"));
});

const stdout = stdoutWriter();
const code = await runCli(process.argv.slice(2), {
  stdout: (text) => stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  signal: controller.signal,
});
// Exit once stdout has flushed; nothing else (sockets, timers) may keep the process alive.
await stdout.flush();
process.exit(code);
