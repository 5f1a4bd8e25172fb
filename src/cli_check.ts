/**
 * `check` on its own: what scripts run most, often before every start of an agent, so it runs in
 * the CLI frame with only what it needs (configuration, one connection, one request). `cli.ts`
 * comes here when its quick check (`cli_quick.ts`) leaves the command line: every failing or unusual
 * `check`, `--help` and usage errors, and on to the whole CLI (`cli_main.ts`) for other commands. The
 * npm build makes this `cli_check.js`: against the whole CLI in one file, `check` was ~2 ms faster on
 * Bun (of ~19) and 0.3-2 ms on Deno (of ~34), medians of 21 and 31 interleaved runs.
 *
 * @module
 */
import { parseCliArgs } from "./cli_args.ts";
import { checkOutput } from "./cli_output.ts";
import { type Handover, runAsProcess } from "./cli_process.ts";
import {
  type CliIO,
  type CommandContext,
  type CommandOutput,
  runCommandLine,
  serverUrlOf,
} from "./cli_run.ts";
import { tokenSourceOf } from "./config.ts";
import { connect } from "./connection.ts";
import { checkServer } from "./server_control.ts";

/**
 * Whether {@linkcode runCheckCli} runs this command line as the whole CLI would: a `check`
 * without `--start-server` (which needs `lms`), `--help`, `--version`, or a usage error (the same
 * parser says the same thing here). Anything else needs the whole CLI.
 *
 * @example
 * ```ts
 * import { checkRunsAlone } from "./cli_check.ts";
 * checkRunsAlone(["check", "--json"]); // true
 * checkRunsAlone(["ensure", "qwen/qwen3-8b"]); // false
 * ```
 */
export function checkRunsAlone(argv: readonly string[]): boolean {
  let args;
  try {
    args = parseCliArgs(argv);
  } catch {
    return true;
  }
  return args.help || args.version || (args.command === "check" && !args.startServer);
}

/**
 * The CLI with `check` as its only command; {@linkcode checkRunsAlone} says when that is enough.
 *
 * @example
 * ```ts
 * import { runCheckCli } from "./cli_check.ts";
 * const code = await runCheckCli(["check", "--json"], {
 *   stdout: (t) => console.log(t.trimEnd()),
 *   stderr: (t) => console.error(t.trimEnd()),
 * });
 * ```
 */
export function runCheckCli(argv: readonly string[], io: CliIO): Promise<number> {
  return runCommandLine(argv, io, { check: checkCommand });
}

/**
 * `check` without starting the server: is it reachable, is it LM Studio, is the token accepted?
 *
 * @example
 * ```ts ignore
 * import { checkCommand } from "./cli_check.ts";
 * const output = await checkCommand(context);
 * ```
 */
export async function checkCommand(context: CommandContext): Promise<CommandOutput> {
  const { config, env, call } = context;
  const connection = connect({
    baseUrl: serverUrlOf(context),
    token: config.apiToken,
    tokenSource: tokenSourceOf(config),
    env,
    lmsPath: config.lmsPath,
  });
  return checkOutput(await checkServer(connection, call));
}

/**
 * The CLI as this process, after the quick `check` of `cli.ts` left the command line to it: `check`
 * (with the hand-over), `--help` and usage errors run here; any other command loads the whole CLI.
 *
 * @example
 * ```ts ignore
 * import { runCheckProcess } from "./cli_check.ts";
 * await runCheckProcess(["check", "--json"], {});
 * ```
 */
export async function runCheckProcess(argv: readonly string[], handover: Handover): Promise<never> {
  if (checkRunsAlone(argv)) return await runAsProcess(argv, runCheckCli, handover);
  // The npm build maps this import to cli_full.js, the whole CLI in a file of its own.
  return await (await import("./cli_main.ts")).runCliProcess(argv);
}
