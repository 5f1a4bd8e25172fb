#!/usr/bin/env node
/**
 * The `vtcode-lmstudio` command. A plain `check` that succeeds (and `--version`) is answered by
 * `src/cli_quick.ts` alone; anything else goes to `src/cli_check.ts` (`check`, `--help`, usage
 * errors), which loads the whole CLI (`src/cli_main.ts`) for the other commands.
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
import { interruptSignal } from "./src/cli_process.ts";
import { quickCheck } from "./src/cli_quick.ts";
import { commandArgs, exitProcess, type StdoutWriter, stdoutWriter } from "./src/runtime.ts";

// No top-level await: the npm build also makes a CommonJS copy of this file for Bun (see
// scripts/build_npm.ts), and a failure still ends the process as an unhandled rejection.
void main(commandArgs());

async function main(argv: string[]): Promise<void> {
  // Made when there is something to print: a run the quick check leaves prints from the next file.
  let stdout: StdoutWriter | undefined;
  const outcome = await quickCheck(argv, {
    stdout: (text) => (stdout ??= stdoutWriter()).write(text),
    signal: interruptSignal(),
  });
  if (outcome.done) {
    await stdout?.flush();
    exitProcess(0);
  }
  // The npm build maps this import to cli_check.js, a file of its own.
  await (await import("./src/cli_check.ts")).runCheckProcess(argv, outcome.handover);
}
