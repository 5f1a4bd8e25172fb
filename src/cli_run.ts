/**
 * The frame every CLI command runs in: arguments and I/O in, exit code out. A command is a function
 * from its context to its output ({@linkcode CommandTable}); `cli_check.ts` runs `check` in this
 * frame with nothing else loaded, `cli_main.ts` every command.
 *
 * @module
 */
import {
  CLI_COMMANDS,
  type CliArgs,
  type CliCommand,
  MODEL_COMMANDS,
  namedModel,
  parseCliArgs,
} from "./cli_args.ts";
import { type CommandOutput, successText, withBaseUrlSource } from "./cli_output.ts";
import { createReporter, type Reporter } from "./cli_reporter.ts";
import {
  type BaseUrlSource,
  configuredBaseUrl,
  DEFAULT_API_TOKEN_ENV,
  resolveConfig,
  type ResolvedConfig,
} from "./config.ts";
import { redactSecrets, registerSecret, toLMStudioError } from "./errors.ts";
import { type EnvReader, getEnv, noColorRequested, stderrColumns, stderrIsTTY } from "./runtime.ts";
import { VERSION } from "./version.ts";

/** Where the CLI reads and writes; injectable for tests. */
export interface CliIO {
  /** Writes to stdout (data only). */
  stdout: (text: string) => void;
  /** Writes to stderr (narration, progress, errors). */
  stderr: (text: string) => void;
  /** Environment variables. */
  env?: EnvReader;
  /** Whether stderr is a TTY (default: asks the runtime). */
  stderrIsTTY?: boolean;
  /** The terminal width of stderr (default: asks the runtime). */
  stderrColumns?: number;
  /** Aborts the run (SIGINT). */
  signal?: AbortSignal;
  /** The folder to look for `vtcode.toml` in (default: the current directory). */
  cwd?: string;
}

type JsonDoc = Record<string, unknown> & { ok: boolean; command: string; baseUrl: string | null };

/** The usage text printed by `--help`. */
export const HELP: string =
  `vtcode-lmstudio ${VERSION} — make a local LM Studio ready for coding agents and scripts

Usage: vtcode-lmstudio [command] [model] [options]

Commands:
  check               Is the server reachable, is it LM Studio, is the token accepted? (default)
  models              List the models: loaded instances and their context, capabilities
  ensure [model]      check → discover → download if missing → load if not loaded (or with too
                      little context) → ready for the job
  download <model>    Download a model (REST v1, else \`lms get --yes\` on this machine)
  load <model>        Load a model (never a second instance of a loaded one)
  unload <model>      Unload a model's instances (or --all)
  wait                Wait until the server answers, up to --timeout
  which-lms           Where \`lms\` was found, and how

Options:
  --url <url>           Server URL (env LMSTUDIO_URL; vtcode.toml; else LM Studio's saved port;
                        else http://localhost:1234; /v1 or /api/v1 optional)
  --token <token>       API token (env LM_API_TOKEN); never printed
  --lms <path>          The \`lms\` binary (env LMSTUDIO_LMS_PATH)
  -m, --model <id>      Model (env LMSTUDIO_MODEL; vtcode.toml [lmstudio] model; default openai/gpt-oss-20b)
  --timeout <dur>       Overall deadline: 30 (seconds), 30s, 500ms, 5m, 1h; at most 596h
  --context-length <n>  ensure/load: at least n tokens of loaded context; an instance with less is
                        replaced; less given by LM Studio is exit 9
  --require <list>      ensure/load: capabilities the model must have: tool-use, vision (exit 9 if not)
  --json                Exactly one JSON document on stdout, on success and on failure
  --no-download         ensure: a missing model is an error (exit 5)
  --no-load             ensure: stop once the model is present
  --start-server        check/ensure/wait: run \`lms server start\` when the server is down
  --all                 unload: every loaded model
  -q, --quiet           No narration on stderr (warnings and errors still shown)
  --no-color            No colour (also NO_COLOR)
  -h, --help            This help
  -V, --version         The version

Exit codes: 0 ready · 1 other failure · 2 usage · 3 unreachable / not LM Studio · 4 auth ·
  5 model not found · 6 download failed · 7 load failed · 8 lms not found ·
  9 model unsuitable (lacks a capability, or less context than asked) · 124 timeout · 130 interrupted

Examples:
  vtcode-lmstudio check --json
  vtcode-lmstudio ensure openai/gpt-oss-20b --timeout 30m
  vtcode-lmstudio ensure qwen/qwen3-4b-2507 --context-length 32768 --require tool-use --json
  LMSTUDIO_URL=http://gpu-box:1234 LM_API_TOKEN=sk-lm-... vtcode-lmstudio models
  vtcode-lmstudio wait --timeout 60s && vtcode-lmstudio load qwen/qwen3-4b-2507 --context-length 16384
`;

/** What a command gets: the parsed arguments and the configuration they resolve to. */
export interface CommandContext {
  /** The parsed arguments. */
  args: CliArgs;
  /** Environment variables. */
  env: EnvReader;
  /** The configuration (flags > environment > vtcode.toml > LM Studio's saved settings > defaults). */
  config: ResolvedConfig;
  /**
   * The server URL, normalised. `null` only for a command that asks no server (`which-lms`) when
   * the configured URL is not one: it is not that command's business.
   */
  baseUrl: string | null;
  /** Narration on stderr (made on first use). */
  reporter: Reporter;
  /** The signal (Ctrl-C) and `--timeout` of the run. */
  call: { signal?: AbortSignal; timeoutMs?: number };
  /** What the command has done so far: on failure, the JSON document says it (`ensure`, `download`, …). */
  soFar: StepsSoFar;
}

/**
 * The server URL of a command that asks the server: always known there (a URL that is not one
 * ended the run with USAGE before the command started).
 */
export function serverUrlOf(context: Pick<CommandContext, "baseUrl" | "args">): string {
  if (context.baseUrl === null) throw new Error(`${context.args.command} started without a server URL`);
  return context.baseUrl;
}

/**
 * The steps a command that acts on a model has started, in order (on failure, the last is the one
 * that failed), and what it knows of the model so far.
 */
export interface StepsSoFar {
  /** The model acted on, once known. */
  model?: string;
  /** A download happened. */
  downloaded: boolean;
  /** Whether the model is loaded, once known. */
  loaded: boolean | null;
  /** The instance of the model loaded, once known (`ensure`, `load`). */
  instanceId: string | null;
  /** That instance's context, once known (`ensure`, `load`). */
  contextLength: number | null;
  /** The steps started, in order. */
  actions: string[];
}

/** What a command prints: the fields of its JSON document, or its human line. */
export type { CommandOutput } from "./cli_output.ts";

/** The commands a program runs. */
export type CommandTable = {
  readonly [C in CliCommand]?: (context: CommandContext) => Promise<CommandOutput>;
};

/**
 * Runs one command line with the commands of `commands` and returns its exit code. Never throws.
 * Everything but the command itself is here: secrets registered before parsing, `--help` and
 * `--version`, the one configuration resolver, the JSON document or human line, and errors with
 * their hints in flag words.
 *
 * @example
 * ```ts
 * import { runCommandLine } from "./cli_run.ts";
 * const code = await runCommandLine(["check", "--json"], {
 *   stdout: (t) => console.log(t.trimEnd()),
 *   stderr: (t) => console.error(t.trimEnd()),
 * }, {
 *   check: async ({ baseUrl }) => ({ json: { server: { reachable: true, api: "v1" } }, human: `${baseUrl}\n` }),
 * });
 * ```
 */
export async function runCommandLine(
  argv: readonly string[],
  io: CliIO,
  commands: CommandTable,
): Promise<number> {
  const env = io.env ?? getEnv;
  // Asked only when something goes to stderr: a successful `check --json` never writes there, and
  // on Bun the question alone costs ~9 ms (it builds process.stderr).
  let ttyAnswer: boolean | undefined;
  const tty = () => (ttyAnswer ??= io.stderrIsTTY ?? stderrIsTTY());
  let args: CliArgs | undefined;
  // Known once the configuration is read; `null` until then, and when the configured URL is not one.
  let baseUrl: string | null = null;
  let baseUrlSource: BaseUrlSource | undefined;
  let configured = false;
  // The model the configuration names: `ensure`'s when the command line names none.
  let configuredModel: string | undefined;
  const soFar: StepsSoFar = {
    downloaded: false,
    loaded: null,
    instanceId: null,
    contextLength: null,
    actions: [],
  };
  let reporter: Reporter | undefined;
  const json = argv.includes("--json");
  // A usage error still names the command the user typed: the first word that is one (a flag's value,
  // `--url http://…`, may come before it).
  const typed = argv.find((arg): arg is CliCommand => (CLI_COMMANDS as readonly string[]).includes(arg));
  const command = () => args?.command ?? typed ?? "check";
  // Known before parsing, so that a usage error quoting a misplaced argument (`check $LM_API_TOKEN`,
  // `--timeout <token>`) cannot show the token.
  registerSecret(env(DEFAULT_API_TOKEN_ENV));
  for (const token of flagValues(argv, "--token")) registerSecret(token);
  try {
    args = parseCliArgs(argv);
    // With `--json`, these too are one JSON document; without, the usage and the bare version.
    if (args.help) {
      io.stdout(args.json ? jsonLine({ ok: true, command: "help", baseUrl: null, usage: HELP }) : HELP);
      return 0;
    }
    if (args.version) {
      io.stdout(
        args.json
          ? jsonLine({ ok: true, command: "version", baseUrl: null, version: VERSION })
          : `${VERSION}\n`,
      );
      return 0;
    }
    const parsed = args;
    let shown: Reporter | undefined;
    const show = (): Reporter => {
      if (!shown) {
        const color = !parsed.quiet && tty() && !parsed.noColor && !noColorRequested(env);
        // A terminal that reports no width (some CI ptys) cannot show a bar: plain lines instead.
        const bars = !parsed.quiet && tty() && (io.stderrColumns ?? stderrColumns()) > 0;
        // Narration may quote what the user typed (a model name that is a token): redacted like errors.
        shown = createReporter({
          write: (text) => io.stderr(redactSecrets(text)),
          tty: bars,
          color,
          quiet: parsed.quiet,
        });
      }
      return shown;
    };
    // Made on first use, so that a run that has nothing to say never probes the terminal.
    reporter = {
      event: (event) =>
        show().event(event.type === "warning" ? { ...event, message: flagWords(event.message) } : event),
      note: (text) => show().note(text),
      finish: async () => await shown?.finish(),
    };
    if (args.token) registerSecret(args.token);
    // Flags are the library's options: one resolver, one precedence (flag > env > vtcode.toml >
    // LM Studio's saved settings > default).
    const config = await resolveConfig({
      env,
      cwd: io.cwd,
      overrides: { baseUrl: args.url, apiToken: args.token, model: args.model, lmsPath: args.lms },
    });
    configured = true;
    configuredModel = config.model;
    // Where the URL came from is known before whether it is one: a configured URL that is not one is
    // reported with its source, and no URL claimed for it.
    baseUrlSource = config.sources.baseUrl;
    try {
      baseUrl = configuredBaseUrl(config);
    } catch (error) {
      if (args.command !== "which-lms") throw error;
    }
    const run = commands[args.command];
    if (!run) throw new Error(`this program does not run ${args.command}`);
    const call = { signal: io.signal, timeoutMs: args.timeoutMs };
    const doc = await run({ args, env, config, baseUrl, reporter, call, soFar });
    await reporter.finish();
    io.stdout(successText({ command: args.command, json, baseUrl, baseUrlSource }, doc));
    return 0;
  } catch (thrown) {
    await reporter?.finish();
    const error = toLMStudioError(thrown);
    if (!configured) {
      // A usage error in the flags came before the configuration was read. Read it now, for three
      // things: the token of a variable that vtcode.toml names (a usage error may quote any argument),
      // and the URL and the model the run would have used. A `--url` the parse did not get to counts
      // when it is the only one and plain (`--url X` or `--url=X`); with any doubt, no URL is claimed.
      const urlFlags = flagValues(argv, "--url");
      const plain = urlFlags.length === 1 && /^[^-\s]\S*$/.test(urlFlags[0] ?? "");
      const url = args?.url ?? (plain ? urlFlags[0] : undefined);
      try {
        const config = await resolveConfig({
          env,
          cwd: io.cwd,
          overrides: { baseUrl: url, model: args?.model },
        });
        configuredModel = config.model;
        if (urlFlags.length === 0 || url !== undefined) {
          baseUrlSource = config.sources.baseUrl;
          baseUrl = configuredBaseUrl(config);
        }
      } catch {
        // A configuration that cannot be read claims no URL; the error at hand is the one to report.
      }
    }
    // Redacted again: a secret registered just now may be quoted in a message built before.
    const translated: { message: string; hint?: string } = {
      message: redactSecrets(flagWords(error.message)),
    };
    if (error.hint !== undefined) translated.hint = redactSecrets(flagWords(error.hint));
    if (json) {
      const doc: JsonDoc = {
        ok: false,
        command: command(),
        baseUrl: baseUrl === null ? null : redactSecrets(baseUrl),
        ...withBaseUrlSource(command(), baseUrlSource),
        error: { ...error.toJSON(), ...translated },
      };
      if (command() === "check" || command() === "wait") {
        doc.server = { reachable: SOMETHING_ANSWERED.includes(error.code), api: null };
      }
      if (MODEL_COMMANDS.includes(command())) {
        // The model acted on; before the command knew it, the one the command line names (`null` for
        // a name it rejected), else `ensure`'s configured one.
        const named = args ? args.model : namedModel(argv);
        const model = soFar.model ??
          (named === undefined && command() === "ensure" ? configuredModel : named);
        doc.model = model === undefined || model === null ? null : redactSecrets(model);
        doc.downloaded = soFar.downloaded;
        doc.loaded = soFar.loaded;
        if (command() === "ensure" || command() === "load") {
          doc.instanceId = soFar.instanceId === null ? null : redactSecrets(soFar.instanceId);
          doc.contextLength = soFar.contextLength;
        }
        doc.actions = soFar.actions;
      }
      io.stdout(jsonLine(doc));
    }
    // Errors are not narration: `-q` keeps them.
    const color = tty() && !(args?.noColor ?? false) && !noColorRequested(env);
    const red = (t: string) => color ? `\x1b[31m${t}\x1b[0m` : t;
    io.stderr(`${red("error:")} ${translated.message}\n`);
    if (translated.hint) io.stderr(`  hint: ${translated.hint}\n`);
    return error.exitCode;
  }
}

/** A JSON document on one line. */
function jsonLine(doc: Record<string, unknown>): string {
  return `${JSON.stringify(doc)}\n`;
}

/**
 * The values `argv` gives `flag` (`--flag X` or `--flag=X`), read without the parser (before it,
 * or where it failed): `undefined` for a flag that ends the line.
 */
function flagValues(argv: readonly string[], flag: string): (string | undefined)[] {
  return argv.flatMap((arg, i) =>
    arg === flag ? [argv[i + 1]] : arg.startsWith(`${flag}=`) ? [arg.slice(flag.length + 1)] : []
  );
}

/** The failures that mean a server answered (`server.reachable: true` in `check` and `wait`). */
const SOMETHING_ANSWERED: readonly string[] = ["AUTH_REQUIRED", "NOT_LMSTUDIO", "INVALID_RESPONSE"];

/** Library texts name options; the CLI user typed flags. */
const OPTION_FLAGS: ReadonlyArray<[RegExp, string]> = [
  [/\bthe baseUrl option\b/gi, "--url"],
  [/\bthe apiToken option\b/gi, "--token"],
  [/\bthe lmsPath option\b/gi, "--lms"],
  [/\bthe timeoutMs option\b/gi, "--timeout"],
  [/\bdownload: false\b/g, "--no-download"],
  [/\bthe contextLength option\b/gi, "--context-length"],
  [/`listModels\(\)`/g, "`vtcode-lmstudio models`"],
  [/`downloadModel\("([^"`]*)"\)`/g, "`vtcode-lmstudio download $1`"],
  [/\bthe require option\b/gi, "--require"],
];

/**
 * Translates a library message or hint for CLI users: "the baseUrl option" becomes `--url`,
 * "the apiToken option" `--token`, "the lmsPath option" `--lms`, "download: false" `--no-download`.
 */
export function flagWords(text: string): string {
  return OPTION_FLAGS.reduce((out, [pattern, flag]) => out.replace(pattern, flag), text);
}
