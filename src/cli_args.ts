/**
 * Command-line parsing for `vtcode-lmstudio` (the contract in `spec/cli.md`): `node:util`
 * `parseArgs` in strict mode, then validation of every value into a typed {@linkcode CliArgs}.
 * Every problem is a `USAGE` error with a one-line reason.
 *
 * @module
 */
import { parseArgs } from "./parse_args.ts";
import { parseDuration } from "./deadline.ts";
import { LMStudioError } from "./errors.ts";
import { validateModelName } from "./model_name.ts";
import { escapeUnprintable, quote, truncate } from "./text.ts";
import { isContextLength, MAX_CONTEXT_LENGTH, REQUIRABLE, type RequiredCapability } from "./suitability.ts";

/** The CLI's commands. */
export type CliCommand =
  | "check"
  | "models"
  | "ensure"
  | "download"
  | "load"
  | "unload"
  | "wait"
  | "which-lms";

/** Every command, in help order. */
export const CLI_COMMANDS: readonly CliCommand[] = [
  "check",
  "models",
  "ensure",
  "download",
  "load",
  "unload",
  "wait",
  "which-lms",
];

/**
 * The commands that act on a model: they take one as argument, and their JSON document says
 * `model`, `downloaded`, `loaded` and `actions`.
 */
export const MODEL_COMMANDS: readonly CliCommand[] = ["ensure", "download", "load", "unload"];

/** Parsed and validated arguments. */
export interface CliArgs {
  /** The command (default `check`). */
  command: CliCommand;
  /** The model argument or `--model`, if any. */
  model?: string;
  /** `unload --all`. */
  all: boolean;
  /** `--url`. */
  url?: string;
  /** `--token`. */
  token?: string;
  /** `--lms`. */
  lms?: string;
  /** `--timeout` in ms. */
  timeoutMs?: number;
  /** `--context-length`: at least this many tokens of loaded context. */
  contextLength?: number;
  /** `--require`: capabilities the model must have (comma-separated, repeatable). */
  require?: ("tool-use" | "vision")[];
  /** `--json`. */
  json: boolean;
  /** `--no-download`. */
  noDownload: boolean;
  /** `--no-load`. */
  noLoad: boolean;
  /** `--start-server`. */
  startServer: boolean;
  /** `-q`, `--quiet`. */
  quiet: boolean;
  /** `--no-color`. */
  noColor: boolean;
  /** `-h`, `--help`. */
  help: boolean;
  /** `-V`, `--version`. */
  version: boolean;
}

/** The CLI's options, as `parseArgs` takes them. */
export const CLI_OPTIONS = {
  url: { type: "string" },
  token: { type: "string" },
  lms: { type: "string" },
  timeout: { type: "string" },
  model: { type: "string", short: "m" },
  "context-length": { type: "string" },
  require: { type: "string", multiple: true },
  json: { type: "boolean" },
  "no-download": { type: "boolean" },
  "no-load": { type: "boolean" },
  "start-server": { type: "boolean" },
  all: { type: "boolean" },
  quiet: { type: "boolean", short: "q" },
  "no-color": { type: "boolean" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "V" },
} as const;

function usage(message: string, hint = "Run `vtcode-lmstudio --help` for usage."): LMStudioError {
  return new LMStudioError("USAGE", truncate(escapeUnprintable(message), 399), { hint });
}

/**
 * The model a command line names (its model argument or `--model`), read even where the line is
 * otherwise wrong (a usage error: leniently, as Node's `parseArgs` does without `strict`, where
 * the flags cannot be parsed). `undefined` when it names none; `null` when what it names is not one
 * valid model name (a name {@linkcode parseCliArgs} rejects, two different ones, `--model` without
 * its value, or a line whose first word is no command).
 *
 * @example
 * ```ts
 * import { namedModel } from "./cli_args.ts";
 * namedModel(["download", "m", "--start-server"]); // "m"
 * namedModel(["ensure", "a\nb"]); // null
 * namedModel(["ensure", "--frob"]); // undefined
 * ```
 */
export function namedModel(argv: readonly string[]): string | null | undefined {
  let positionals: string[];
  let flag: unknown;
  try {
    ({ positionals, values: { model: flag } } = parseArgs(argv, CLI_OPTIONS));
  } catch {
    ({ positionals, values: { model: flag } } = parseArgs(argv, CLI_OPTIONS, { strict: false }));
  }
  const [first, ...rest] = positionals;
  if (first === undefined) {
    if (flag === undefined) return undefined;
  } else if (!(CLI_COMMANDS as readonly string[]).includes(first)) return null;
  if (rest.length > 1 || (flag !== undefined && typeof flag !== "string")) return null;
  const positional = rest[0];
  if (positional !== undefined && flag !== undefined && positional !== flag) return null;
  const model = positional ?? (flag as string | undefined);
  if (model === undefined) return undefined;
  try {
    validateModelName(model);
    return model;
  } catch {
    return null;
  }
}

/**
 * Parses the CLI's arguments (without the program name).
 *
 * @example
 * ```ts
 * import { parseCliArgs } from "./cli_args.ts";
 * const args = parseCliArgs(["ensure", "openai/gpt-oss-20b", "--json", "--timeout", "5m"]);
 * args.timeoutMs; // 300000
 * ```
 */
export function parseCliArgs(argv: readonly string[]): CliArgs {
  let parsed;
  try {
    parsed = parseArgs(argv, CLI_OPTIONS);
  } catch (error) {
    const [first, ...more] = error instanceof Error ? error.message.split("\n") : [String(error)];
    // An option followed by a value that starts with a dash: say how to give such a value.
    const dashed = /argument is ambiguous/.test(first)
      ? /use (.+)\.$/.exec(more.at(-1) ?? "")?.[1]
      : undefined;
    throw usage(
      dashed
        ? `${
          first.replace(/\.$/, "")
        }: did you forget its value? (a value that starts with a dash is written ${dashed})`
        : first.replace(/\. To specify a positional argument.*$/, ""),
    );
  }
  const { values, positionals } = parsed;
  const args: CliArgs = {
    command: "check",
    all: values.all === true,
    json: values.json === true,
    noDownload: values["no-download"] === true,
    noLoad: values["no-load"] === true,
    startServer: values["start-server"] === true,
    quiet: values.quiet === true,
    noColor: values["no-color"] === true,
    help: values.help === true,
    version: values.version === true,
  };
  if (args.help || args.version) return args;

  const [first, ...rest] = positionals;
  if (first !== undefined) {
    if (!(CLI_COMMANDS as readonly string[]).includes(first)) {
      throw usage(`Unknown command ${quote(first)}; expected one of: ${CLI_COMMANDS.join(", ")}`);
    }
    args.command = first as CliCommand;
  }
  const takesModel = MODEL_COMMANDS.includes(args.command);
  if (rest.length > (takesModel ? 1 : 0)) {
    throw usage(`Too many arguments for ${args.command}: ${rest.map((v) => quote(v)).join(" ")}`);
  }
  const positionalModel = rest[0];
  if (positionalModel !== undefined && values.model !== undefined && positionalModel !== values.model) {
    throw usage(`Two different models given: ${quote(positionalModel)} and --model ${quote(values.model)}`);
  }
  const model = positionalModel ?? values.model;
  if (model !== undefined) {
    if (!takesModel && positionalModel === undefined && args.command !== "check") {
      throw usage(`--model does not apply to ${args.command}`);
    }
    validateModelName(model);
    args.model = model;
  }
  if ((args.command === "download" || args.command === "load") && args.model === undefined) {
    throw usage(`${args.command} needs a model, e.g. vtcode-lmstudio ${args.command} openai/gpt-oss-20b`);
  }
  if (args.command === "unload") {
    if (args.all && args.model !== undefined) throw usage("unload takes a model or --all, not both");
    if (!args.all && args.model === undefined) throw usage("unload needs a model or --all");
  } else if (args.all) {
    throw usage("--all applies to unload only");
  }
  if ((args.noDownload || args.noLoad) && args.command !== "ensure") {
    throw usage(`${args.noDownload ? "--no-download" : "--no-load"} applies to ensure only`);
  }
  if (args.startServer && !["check", "ensure", "wait"].includes(args.command)) {
    throw usage("--start-server applies to check, ensure and wait only");
  }
  if (values.url !== undefined) {
    // An empty flag is a script's unset variable (`--url "$HOST"`), not a wish for the default server.
    if (values.url.trim() === "") throw usage("--url is empty");
    args.url = values.url;
  }
  if (values.token !== undefined) {
    if (values.token.trim() === "") throw usage("--token is empty");
    args.token = values.token;
  }
  if (values.lms !== undefined) {
    if (values.lms.trim() === "") throw usage("--lms is empty");
    args.lms = values.lms;
  }
  if (values.timeout !== undefined) {
    try {
      args.timeoutMs = parseDuration(values.timeout);
    } catch (error) {
      if (!(error instanceof LMStudioError)) throw error;
      throw usage(`Invalid --timeout ${quote(values.timeout)}`, error.hint);
    }
  }
  if (values["context-length"] !== undefined) {
    const text = values["context-length"];
    const n = Number(text);
    if (!/^\d+$/.test(text) || !isContextLength(n)) {
      throw usage(
        `Invalid --context-length ${
          quote(text)
        }: expected a whole number of tokens from 1 to ${MAX_CONTEXT_LENGTH}`,
        "Give the context the agent needs in tokens, e.g. --context-length 32768.",
      );
    }
    args.contextLength = n;
  }
  if (values.require !== undefined) {
    const wanted = values.require.flatMap((list) => list.split(",")).map((c) => c.trim());
    const bad = wanted.filter((c) => !(REQUIRABLE as readonly string[]).includes(c));
    if (wanted.length === 0 || bad.length > 0) {
      const what = bad.filter((c) => c !== "").length > 0
        ? `unknown capability ${bad.filter((c) => c !== "").map((v) => quote(v)).join(", ")}`
        : "an empty capability";
      throw usage(
        `Invalid --require: ${what}`,
        `Require any of ${REQUIRABLE.join(", ")}, e.g. --require tool-use.`,
      );
    }
    args.require = [...new Set(wanted as RequiredCapability[])];
  }
  if (
    (args.contextLength !== undefined || args.require !== undefined) &&
    !["ensure", "load"].includes(args.command)
  ) {
    throw usage(
      `${
        args.contextLength !== undefined ? "--context-length" : "--require"
      } applies to ensure and load only`,
    );
  }
  return args;
}
