#!/usr/bin/env node
/**
 * The `vtcode-lmstudio` command. A plain `check` (and `--help`, `--version`, a usage error) runs
 * from `src/cli_check.ts` alone; every other command loads the whole CLI (`src/cli_main.ts`).
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
import { checkRunsAlone, runCheckCli } from "./src/cli_check.ts";
import { runAsProcess } from "./src/cli_process.ts";
import { commandArgs } from "./src/runtime.ts";

const argv = commandArgs();
if (checkRunsAlone(argv)) await runAsProcess(argv, runCheckCli);
// The npm build maps this import to cli_full.js, the whole CLI in a file of its own.
else await (await import("./src/cli_main.ts")).runCliProcess(argv);
