/**
 * The CLI as a function: arguments and I/O in, exit code out. `cli.ts` is only the shell around
 * it (process arguments, signals, exit). Everything it does is a library call.
 *
 * @module
 */
import { CLI_COMMANDS, type CliArgs, parseCliArgs } from "./cli_args.ts";
import { createReporter, formatBytes, type Reporter } from "./cli_reporter.ts";
import { LMStudioClient } from "./client.ts";
import { type BaseUrlSource, DEFAULT_API_TOKEN_ENV, DEFAULT_BASE_URL, resolveConfig } from "./config.ts";
import { checkOrStart, ensureReady } from "./ensure.ts";
import { LMStudioError, redactSecrets, registerSecret, toLMStudioError } from "./errors.ts";
import type { ModelInfo } from "./models.ts";
import { type EnvReader, getEnv, noColorRequested, stderrColumns, stderrIsTTY } from "./runtime.ts";
import { normalizeBaseUrl } from "./url.ts";
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

type JsonDoc = Record<string, unknown> & { ok: boolean; command: string; baseUrl: string };

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
                        else http://localhost:1234; /v1 optional)
  --token <token>       API token (env LM_API_TOKEN); never printed
  --lms <path>          The \`lms\` binary (env LMSTUDIO_LMS_PATH)
  -m, --model <id>      Model (env LMSTUDIO_MODEL; vtcode.toml [lmstudio] model; default openai/gpt-oss-20b)
  --timeout <dur>       Overall deadline: 30 (seconds), 30s, 500ms, 5m
  --context-length <n>  ensure/load: at least n tokens of loaded context; an instance with less is
                        replaced; less given by LM Studio is exit 9
  --require <list>      ensure/load: capabilities the model must have: tool-use, vision (exit 9 if not)
  --json                Exactly one JSON document on stdout, on success and on failure
  --no-download         ensure: a missing model is an error (exit 5)
  --no-load             ensure: stop once the model is present
  --start-server        check/ensure/wait: run \`lms server start\` when the server is down
  --all                 unload: every loaded model
  -q, --quiet           No narration on stderr
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

function publicModel(model: ModelInfo): Record<string, unknown> {
  return {
    id: model.id,
    type: model.type ?? undefined,
    loaded: model.loaded,
    instances: model.instances?.map((i) => ({ id: i.id, contextLength: i.contextLength })) ?? null,
    capabilities: model.capabilities,
    publisher: model.publisher ?? undefined,
    quantization: model.quantization ?? undefined,
    sizeBytes: model.sizeBytes ?? undefined,
    maxContextLength: model.maxContextLength,
    format: model.format ?? undefined,
  };
}

/**
 * Runs the CLI and returns its exit code. Never throws.
 *
 * @example
 * ```ts
 * import { runCli } from "./cli_main.ts";
 * const code = await runCli(["check", "--json"], {
 *   stdout: (t) => console.log(t.trimEnd()),
 *   stderr: (t) => console.error(t.trimEnd()),
 * });
 * ```
 */
export async function runCli(argv: readonly string[], io: CliIO): Promise<number> {
  const env = io.env ?? getEnv;
  // Asked only when something goes to stderr: a successful `check --json` never writes there, and
  // on Bun the question alone costs ~9 ms (it builds process.stderr).
  let ttyAnswer: boolean | undefined;
  const tty = () => (ttyAnswer ??= io.stderrIsTTY ?? stderrIsTTY());
  let args: CliArgs | undefined;
  let baseUrl = DEFAULT_BASE_URL;
  let baseUrlSource: BaseUrlSource | undefined;
  let reporter: Reporter | undefined;
  const json = argv.includes("--json");
  // A usage error still names the command the user typed, when it is one.
  const typed = argv.find((arg) => !arg.startsWith("-"));
  const command = () =>
    args?.command ?? ((CLI_COMMANDS as readonly string[]).includes(typed ?? "") ? typed! : "check");
  // Known before parsing, so that a usage error quoting a misplaced argument (`check $LM_API_TOKEN`,
  // `--timeout <token>`) cannot show the token.
  registerSecret(env(DEFAULT_API_TOKEN_ENV));
  argv.forEach((arg, i) => {
    if (arg === "--token") registerSecret(argv[i + 1]);
    else if (arg.startsWith("--token=")) registerSecret(arg.slice("--token=".length));
  });
  try {
    args = parseCliArgs(argv);
    if (args.help) {
      io.stdout(HELP);
      return 0;
    }
    if (args.version) {
      io.stdout(`${VERSION}\n`);
      return 0;
    }
    const parsed = args;
    let shown: Reporter | undefined;
    const show = (): Reporter => {
      if (!shown) {
        const color = !parsed.quiet && tty() && !parsed.noColor && !noColorRequested(env);
        // A terminal that reports no width (some CI ptys) cannot show a bar: plain lines instead.
        const bars = !parsed.quiet && tty() && (io.stderrColumns ?? stderrColumns()) > 0;
        shown = createReporter({ write: io.stderr, tty: bars, color, quiet: parsed.quiet });
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
    baseUrl = normalizeBaseUrl(config.baseUrl);
    baseUrlSource = config.sources.baseUrl;
    const client = new LMStudioClient({
      baseUrl,
      // The token: the flag, else the variable the config names (the client reads it, so that its
      // hints name where the token came from).
      apiToken: args.token,
      apiTokenEnv: config.apiTokenEnv,
      lmsPath: config.lmsPath,
      env,
    });
    const signal = io.signal;
    const timeoutMs = args.timeoutMs;
    const doc = await runCommand(args, env, client, config.model, reporter, { signal, timeoutMs });
    await reporter.finish();
    if (json) {
      const source = withBaseUrlSource(args.command, baseUrlSource);
      io.stdout(`${JSON.stringify({ ok: true, command: args.command, baseUrl, ...source, ...doc.json })}\n`);
    } else io.stdout(doc.human);
    return 0;
  } catch (thrown) {
    await reporter?.finish();
    const error = toLMStudioError(thrown);
    const translated: { message: string; hint?: string } = { message: flagWords(error.message) };
    if (error.hint !== undefined) translated.hint = flagWords(error.hint);
    if (json) {
      const doc: JsonDoc = {
        ok: false,
        command: command(),
        baseUrl: redactSecrets(baseUrl),
        ...withBaseUrlSource(command(), baseUrlSource),
        error: { ...error.toJSON(), ...translated },
      };
      if (command() === "check" || command() === "wait") {
        doc.server = { reachable: error.code === "AUTH_REQUIRED", api: null };
      }
      io.stdout(`${JSON.stringify(doc)}\n`);
    }
    if (!args?.quiet) {
      const color = tty() && !(args?.noColor ?? false) && !noColorRequested(env);
      const red = (t: string) => color ? `\x1b[31m${t}\x1b[0m` : t;
      io.stderr(`${red("error:")} ${translated.message}\n`);
      if (translated.hint) io.stderr(`  hint: ${translated.hint}\n`);
    }
    return error.exitCode;
  }
}

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
function flagWords(text: string): string {
  return OPTION_FLAGS.reduce((out, [pattern, flag]) => out.replace(pattern, flag), text);
}

/** `check` and `ensure` say where the URL came from (`baseUrlSource`), once it is known. */
function withBaseUrlSource(
  command: string,
  source: BaseUrlSource | undefined,
): { baseUrlSource?: BaseUrlSource } {
  return source !== undefined && (command === "check" || command === "ensure")
    ? { baseUrlSource: source }
    : {};
}

interface CommandOutput {
  json: Record<string, unknown>;
  human: string;
}

async function runCommand(
  args: CliArgs,
  env: EnvReader,
  client: LMStudioClient,
  configModel: string,
  reporter: Reporter,
  call: { signal?: AbortSignal; timeoutMs?: number },
): Promise<CommandOutput> {
  switch (args.command) {
    case "check": {
      const status = await checkOrStart(
        client,
        args.startServer,
        call,
        call.timeoutMs,
        () => reporter.note("Server is down; starting it with `lms server start`"),
      );
      return {
        json: { server: { reachable: true, api: status.api } },
        human: `LM Studio is reachable at ${status.baseUrl} (API: ${status.api}${
          status.authenticated ? ", token accepted" : ""
        })\n`,
      };
    }
    case "wait": {
      reporter.note(`Waiting for LM Studio at ${client.baseUrl}`);
      let status;
      try {
        status = await client.waitForServer({ ...call, timeoutMs: args.startServer ? 2000 : call.timeoutMs });
      } catch (error) {
        if (
          !args.startServer || !(error instanceof LMStudioError) ||
          !["SERVER_UNREACHABLE", "TIMEOUT"].includes(error.code)
        ) {
          throw error;
        }
        reporter.note("Server is down; starting it with `lms server start`");
        status = await client.startServer(call);
      }
      return {
        json: { server: { reachable: true, api: status.api } },
        human: `LM Studio is up at ${status.baseUrl} (API: ${status.api})\n`,
      };
    }
    case "models": {
      const models = await client.listModels(call);
      const lines = models.map((m) => {
        const state = m.loaded === null
          ? "?"
          : m.loaded
          ? `loaded${m.instances && m.instances.length > 1 ? ` ×${m.instances.length}` : ""}`
          : "-";
        const size = m.sizeBytes !== null ? formatBytes(m.sizeBytes) : "";
        const contexts = m.instances?.map((i) => i.contextLength ?? "?").join(",") ?? "";
        const context = `${contexts || "-"}/${m.maxContextLength ?? "?"}`;
        const caps = m.capabilities === null ? "?" : m.capabilities.join(",") || "-";
        return [m.id, m.type ?? "", state, context, caps, size].join("\t");
      });
      return {
        json: { models: models.map(publicModel) },
        human: models.length === 0
          ? "(no models)\n"
          : `${["ID", "TYPE", "LOADED", "CONTEXT/MAX", "CAPABILITIES", "SIZE"].join("\t")}\n${
            lines.join("\n")
          }\n`,
      };
    }
    case "ensure": {
      const result = await ensureReady({
        client,
        model: args.model ?? configModel,
        download: !args.noDownload,
        load: !args.noLoad,
        startServer: args.startServer,
        contextLength: args.contextLength,
        require: args.require,
        signal: call.signal,
        timeoutMs: call.timeoutMs,
        onEvent: (event) => reporter.event(event),
      });
      const where = (result.instanceId ? ` as ${result.instanceId}` : "") +
        (result.loaded === true ? ` (context ${result.contextLength ?? "unknown"})` : "");
      return {
        json: {
          model: result.model,
          downloaded: result.downloaded,
          loaded: result.loaded,
          instanceId: result.instanceId,
          contextLength: result.contextLength,
          actions: result.actions,
          api: result.api,
          timings: result.timings,
        },
        human: result.loaded === true
          ? `ready: ${result.model}${where} at ${result.baseUrl}\n`
          : `present: ${result.model} at ${result.baseUrl} (not loaded)\n`,
      };
    }
    case "download": {
      const model = args.model!;
      await client.check(call);
      reporter.event({ type: "step", step: "download", message: `Downloading ${model}` });
      const result = await client.downloadModel(model, {
        ...call,
        onProgress: (progress) => reporter.event({ type: "download-progress", model, progress }),
      });
      reporter.event({ type: "downloaded", model, result });
      const found = await client.findModel(model, call).catch(() => undefined);
      return {
        json: {
          model: found?.model?.id ?? model,
          downloaded: !result.alreadyDownloaded,
          loaded: found?.model?.loaded ?? null,
          actions: ["check", "download", "list"],
          route: result.route,
        },
        human: `${result.alreadyDownloaded ? "already downloaded" : "downloaded"}: ${
          found?.model?.id ?? model
        }\n`,
      };
    }
    case "load": {
      const model = args.model!;
      reporter.event({ type: "step", step: "load", message: `Loading ${model}` });
      const result = await client.loadModel(model, {
        ...call,
        contextLength: args.contextLength,
        require: args.require,
        onReplace: (instances) =>
          reporter.event({
            type: "step",
            step: "unload",
            message: `Unloading ${
              instances.map((i) => `${i.id} (context ${i.contextLength})`).join(", ")
            }: ` +
              `less context than the ${args.contextLength} asked`,
          }),
        onProgress: (progress) => reporter.event({ type: "load-progress", model, progress }),
      });
      for (const message of result.warnings) reporter.event({ type: "warning", message });
      reporter.event({ type: "loaded", model: result.model, result });
      return {
        json: {
          model: result.model,
          downloaded: false,
          loaded: true,
          instanceId: result.instanceId,
          contextLength: result.contextLength,
          actions: result.alreadyLoaded
            ? ["check", "list"]
            : ["check", "list", ...(result.unloaded.length > 0 ? ["unload"] : []), "load"],
          route: result.route,
        },
        human: `${result.alreadyLoaded ? "already loaded" : "loaded"}: ${result.model}${
          result.instanceId ? ` as ${result.instanceId}` : ""
        } (context ${result.contextLength ?? "unknown"})\n`,
      };
    }
    case "unload": {
      const target = args.all ? { all: true as const } : args.model!;
      const result = await client.unloadModel(target, call);
      return {
        json: {
          model: args.all ? null : args.model,
          downloaded: false,
          loaded: false,
          unloaded: result.unloaded,
          actions: result.unloaded.length > 0 ? ["check", "list", "unload"] : ["check", "list"],
        },
        human: result.unloaded.length > 0
          ? `unloaded: ${result.unloaded.join(", ")}\n`
          : "nothing to unload\n",
      };
    }
    case "which-lms": {
      const { findLms } = await import("./lms_find.ts");
      const location = findLms({ path: args.lms, env });
      return { json: { lms: location }, human: `${location.path}\t(${location.source})\n` };
    }
  }
}
