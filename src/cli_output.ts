/**
 * What a successful CLI run prints, written once for the CLI frame (`cli_run.ts`) and the quick
 * `check` (`cli_quick.ts`), which must print exactly the same.
 *
 * @module
 */
import type { BaseUrlSource } from "./config.ts";
import type { ServerStatus } from "./server_control.ts";

/** What a command gives the frame to print: the `--json` fields and the human text. */
export interface CommandOutput {
  /** Fields of the `--json` document, after `ok`, `command` and `baseUrl`. */
  json: Record<string, unknown>;
  /** The text printed on stdout without `--json`. */
  human: string;
}

/**
 * What `check` prints for a server that answered.
 *
 * @example
 * ```ts
 * import { checkOutput } from "./cli_output.ts";
 * checkOutput({ reachable: true, api: "v1", baseUrl: "http://localhost:1234", authenticated: false }).human;
 * // "LM Studio is reachable at http://localhost:1234 (API: v1)\n"
 * ```
 */
export function checkOutput(status: ServerStatus): CommandOutput {
  return {
    json: { server: { reachable: true, api: status.api } },
    human: `LM Studio is reachable at ${status.baseUrl} (API: ${status.api}${
      status.authenticated ? ", token accepted" : ""
    })\n`,
  };
}

/**
 * `check` and `ensure` say where the URL came from (`baseUrlSource`), in every document: `null` when
 * the configuration could not be resolved (or a usage error left no URL to claim).
 *
 * @example
 * ```ts
 * import { withBaseUrlSource } from "./cli_output.ts";
 * withBaseUrlSource("check", "env"); // { baseUrlSource: "env" }
 * withBaseUrlSource("ensure", undefined); // { baseUrlSource: null }
 * withBaseUrlSource("models", "env"); // {}
 * ```
 */
export function withBaseUrlSource(
  command: string,
  source: BaseUrlSource | null | undefined,
): { baseUrlSource?: BaseUrlSource | null } {
  return command === "check" || command === "ensure" ? { baseUrlSource: source ?? null } : {};
}

/**
 * The text a successful run prints on stdout: the JSON document (one line) with `--json`, else the
 * command's human text.
 *
 * @example
 * ```ts
 * import { checkOutput, successText } from "./cli_output.ts";
 * const status = { reachable: true, api: "v1", baseUrl: "http://localhost:1234", authenticated: false } as const;
 * successText({ command: "check", json: true, baseUrl: status.baseUrl, baseUrlSource: "default" }, checkOutput(status));
 * // '{"ok":true,"command":"check","baseUrl":"http://localhost:1234","baseUrlSource":"default","server":{...}}\n'
 * ```
 */
export function successText(
  run: { command: string; json: boolean; baseUrl: string | null; baseUrlSource: BaseUrlSource | undefined },
  output: CommandOutput,
): string {
  if (!run.json) return output.human;
  const source = withBaseUrlSource(run.command, run.baseUrlSource);
  return `${
    JSON.stringify({ ok: true, command: run.command, baseUrl: run.baseUrl, ...source, ...output.json })
  }\n`;
}
