/**
 * The whole CLI: every command, run in the frame of `cli_run.ts`. Everything a command does is a
 * library call. `cli.ts` comes here for anything `cli_check.ts` does not run alone (every command
 * but a plain `check`), so this module and what it imports load only then.
 *
 * @module
 */
import { checkCommand } from "./cli_check.ts";
import { checkOutput } from "./cli_output.ts";
import { formatBytes } from "./cli_reporter.ts";
import { runAsProcess } from "./cli_process.ts";
import {
  type CliIO,
  type CommandContext,
  type CommandOutput,
  type CommandTable,
  runCommandLine,
  serverUrlOf,
  type StepsSoFar,
} from "./cli_run.ts";
import { LMStudioClient, type ServerStatus } from "./client.ts";
import { type CallOptions, DEFAULT_TIMEOUTS, MAX_TIMEOUT_MS, phaseCall, withDeadline } from "./deadline.ts";
import { ensureReady } from "./ensure.ts";
import { LMStudioError } from "./errors.ts";
import type { ModelInfo } from "./models.ts";
import { checkOrStart } from "./server_control.ts";

export type { CliIO };

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
export function runCli(argv: readonly string[], io: CliIO): Promise<number> {
  return runCommandLine(argv, io, COMMANDS);
}

/**
 * Runs the CLI as this process (its arguments, stdout/stderr, Ctrl-C, exit code) and exits.
 *
 * @example
 * ```ts ignore
 * import { runCliProcess } from "./cli_main.ts";
 * await runCliProcess(["models", "--json"]);
 * ```
 */
export function runCliProcess(argv: readonly string[]): Promise<never> {
  return runAsProcess(argv, runCli);
}

/**
 * The client of a command: the flag's token, else the variable the configuration names (the client
 * reads it, so that its hints name where the token came from).
 */
function clientFor(context: CommandContext): LMStudioClient {
  const { args, config, env } = context;
  return new LMStudioClient({
    baseUrl: serverUrlOf(context),
    apiToken: args.token,
    apiTokenEnv: config.apiTokenEnv,
    lmsPath: config.lmsPath,
    env,
  });
}

/** `check`; `--start-server` runs `lms server start` when the server is down. */
async function check(context: CommandContext): Promise<CommandOutput> {
  if (!context.args.startServer) return await checkCommand(context);
  const status = await checkOrStartWithin(clientFor(context), context);
  return checkOutput(status);
}

/**
 * `check`, and when the server is down, `lms server start` and a wait until it answers: all within
 * one deadline, `--timeout` (under it no step has a deadline of its own) or the wait's default.
 */
function checkOrStartWithin(
  client: LMStudioClient,
  { call, reporter }: CommandContext,
): Promise<ServerStatus> {
  return withDeadline(`Checking ${client.baseUrl}`, call, DEFAULT_TIMEOUTS.wait, (signal) =>
    checkOrStart(
      client,
      true,
      phaseCall(signal, call.timeoutMs !== undefined),
      MAX_TIMEOUT_MS,
      () => reporter.note("Server is down; starting it with `lms server start`"),
    ));
}

/** A model as `models --json` prints it (absent fields left out, unknown ones `null`). */
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

/** `wait`: until the server answers, up to `--timeout`; `--start-server` starts it when it is down. */
async function wait(context: CommandContext): Promise<CommandOutput> {
  const { args, reporter, call } = context;
  const client = clientFor(context);
  reporter.note(`Waiting for LM Studio at ${client.baseUrl}`);
  // With `--start-server`, as `check --start-server`: a server that is down now is started, and
  // waited for; one that answers is ready. One deadline for all of it: `--timeout` is the whole run's.
  const status = args.startServer
    ? await checkOrStartWithin(client, context)
    : await client.waitForServer(call);
  return {
    json: { server: { reachable: true, api: status.api } },
    human: `LM Studio is up at ${status.baseUrl} (API: ${status.api})\n`,
  };
}

/** `models`: every model, with its loaded instances, their context, and its capabilities. */
async function models(context: CommandContext): Promise<CommandOutput> {
  const { call } = context;
  const client = clientFor(context);
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

/** `ensure`: the model downloaded, loaded and suitable (`--context-length`, `--require`). */
async function ensure(context: CommandContext): Promise<CommandOutput> {
  const { args, reporter, call, config, soFar } = context;
  const client = clientFor(context);
  soFar.model = args.model ?? config.model;
  const result = await afterLoadFailure(
    client,
    soFar,
    ensureReady({
      client,
      model: soFar.model,
      download: !args.noDownload,
      load: !args.noLoad,
      startServer: args.startServer,
      contextLength: args.contextLength,
      require: args.require,
      signal: call.signal,
      timeoutMs: call.timeoutMs,
      onEvent: (event) => {
        // What the failure document says was done: the steps started, and what is known of the model.
        if (event.type === "step") soFar.actions.push(event.step);
        else if (event.type === "resolved") soFar.model = event.model;
        else if (event.type === "downloaded") soFar.downloaded = !event.result.alreadyDownloaded;
        else if (event.type === "loaded") {
          soFar.loaded = true;
          soFar.instanceId = event.result.instanceId;
          soFar.contextLength = event.result.contextLength;
        }
        reporter.event(event);
      },
    }),
  );
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

/**
 * `work`, and when it fails once something was loaded or unloaded (less context than asked, a load or
 * a replace that failed), what the listing says now: the failure document's `loaded`, `instanceId`
 * and `contextLength` are then what is so, not unknown. The instance is the one the listing names for
 * the model: the one asked for by id, else its only one (with several, none is named); after exit 9
 * for less context than asked, the instance LM Studio loaded and the context it gave.
 */
async function afterLoadFailure<T>(client: LMStudioClient, soFar: StepsSoFar, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    // Not after a deadline or Ctrl-C (the run must end now), and only once something was (un)loaded.
    const stopped = error instanceof LMStudioError &&
      (error.code === "TIMEOUT" || error.code === "INTERRUPTED");
    const acted = soFar.actions.includes("load") || soFar.actions.includes("unload") ||
      (error instanceof LMStudioError && error.code === "MODEL_UNSUITABLE");
    if (!stopped && acted && soFar.model !== undefined) {
      const found = await client.findModel(soFar.model, { timeoutMs: 2000 }).catch(() => undefined);
      if (found?.model) {
        soFar.loaded = found.model.loaded;
        const instances = found.model.instances ?? [];
        const instance = found.instance ?? (instances.length === 1 ? instances[0] : undefined);
        soFar.instanceId = instance?.id ?? null;
        soFar.contextLength = instance?.contextLength ?? null;
      }
    }
    throw error;
  }
}

/**
 * Runs a command's steps within one deadline, `--timeout` or the command's default (`defaultMs`), as
 * the client's method alone did: each step's call has no deadline of its own, the signal ends it.
 */
function withinOneDeadline<T>(
  what: string,
  call: CommandContext["call"],
  defaultMs: number,
  work: (step: CallOptions) => Promise<T>,
): Promise<T> {
  return withDeadline(what, call, defaultMs, (signal) => work(phaseCall(signal, true)));
}

/** `download`: over REST v1, else `lms get --yes` on this machine. */
async function download(context: CommandContext): Promise<CommandOutput> {
  const { args, reporter, call, soFar } = context;
  const client = clientFor(context);
  const model = args.model!;
  soFar.actions.push("check");
  await client.check(call);
  soFar.actions.push("download");
  reporter.event({ type: "step", step: "download", message: `Downloading ${model}` });
  const result = await client.downloadModel(model, {
    ...call,
    onProgress: (progress) => reporter.event({ type: "download-progress", model, progress }),
  });
  soFar.downloaded = !result.alreadyDownloaded;
  reporter.event({ type: "downloaded", model, result });
  // The id LM Studio lists it under, and whether it is loaded: said where the listing tells.
  soFar.actions.push("list");
  const found = await client.findModel(model, call).catch(() => undefined);
  return {
    json: {
      model: found?.model?.id ?? model,
      downloaded: soFar.downloaded,
      loaded: found?.model?.loaded ?? null,
      actions: soFar.actions,
      route: result.route,
    },
    human: `${result.alreadyDownloaded ? "already downloaded" : "downloaded"}: ${
      found?.model?.id ?? model
    }\n`,
  };
}

/** `load`: one instance with at least `--context-length` (never a second one of a loaded model). */
async function load(context: CommandContext): Promise<CommandOutput> {
  const { args, reporter, call, soFar } = context;
  const client = clientFor(context);
  const model = soFar.model = args.model!;
  // Each step is recorded (and narrated) as it starts: the check (the API detection the load would
  // begin with), then the load, which lists the models first, then unloads (to replace) and loads; a
  // model already loaded with enough context never starts a load.
  const loading = withinOneDeadline(`Loading ${model}`, call, DEFAULT_TIMEOUTS.load, async (step) => {
    soFar.actions.push("check");
    await client.detectApi(step);
    soFar.actions.push("list");
    return await client.loadModel(model, {
      ...step,
      contextLength: args.contextLength,
      require: args.require,
      onReplace: (instances) => {
        soFar.actions.push("unload");
        reporter.event({
          type: "step",
          step: "unload",
          message: `Unloading ${instances.map((i) => `${i.id} (context ${i.contextLength})`).join(", ")}: ` +
            `less context than the ${args.contextLength} asked`,
        });
      },
      onProgress: (progress) => {
        if (!soFar.actions.includes("load")) {
          soFar.actions.push("load");
          reporter.event({ type: "step", step: "load", message: `Loading ${model}` });
        }
        reporter.event({ type: "load-progress", model, progress });
      },
    });
  });
  const result = await afterLoadFailure(client, soFar, loading);
  for (const message of result.warnings) reporter.event({ type: "warning", message });
  reporter.event({ type: "loaded", model: result.model, result });
  return {
    json: {
      model: result.model,
      downloaded: false,
      loaded: true,
      instanceId: result.instanceId,
      contextLength: result.contextLength,
      actions: soFar.actions,
      route: result.route,
    },
    human: `${result.alreadyLoaded ? "already loaded" : "loaded"}: ${result.model}${
      result.instanceId ? ` as ${result.instanceId}` : ""
    } (context ${result.contextLength ?? "unknown"})\n`,
  };
}

/** `unload`: a model's instances, or every one with `--all`. */
async function unload(context: CommandContext): Promise<CommandOutput> {
  const { args, call, soFar } = context;
  const client = clientFor(context);
  const target = args.all ? { all: true as const } : args.model!;
  // Each step is recorded as it starts: the check, the listing (which says whether there is such a
  // model), then the unload. The unload lists again for itself (it says MODEL_NOT_FOUND in its words).
  const what = args.all ? "all models" : args.model!;
  const result = await withinOneDeadline(`Unloading ${what}`, call, DEFAULT_TIMEOUTS.unload, async (step) => {
    soFar.actions.push("check");
    await client.detectApi(step);
    soFar.actions.push("list");
    if (args.all) await client.listModels(step);
    else if ((await client.findModel(args.model!, step)).model === undefined) {
      // No such model: the unload says so in its words (MODEL_NOT_FOUND), after the listing.
      return await client.unloadModel(target, step);
    }
    soFar.actions.push("unload");
    return await client.unloadModel(target, step);
  });
  return {
    json: {
      model: args.all ? null : args.model,
      downloaded: false,
      loaded: false,
      unloaded: result.unloaded,
      actions: result.unloaded.length > 0 ? ["check", "list", "unload"] : ["check", "list"],
    },
    human: result.unloaded.length > 0 ? `unloaded: ${result.unloaded.join(", ")}\n` : "nothing to unload\n",
  };
}

/**
 * `which-lms`: where `lms` was found, and by which rule (no client: no server is asked). `how` is
 * the contract's word for it (`option`, `env`, `PATH`, or `fallback` for LM Studio's own places);
 * `source` names the place itself.
 */
async function whichLms({ args, env }: CommandContext): Promise<CommandOutput> {
  const { findLms } = await import("./lms_find.ts");
  const { path, source } = findLms({ path: args.lms, env });
  const how = source === "option" || source === "env" || source === "PATH" ? source : "fallback";
  const told = how === "fallback" ? `fallback: ${source}` : how;
  return { json: { lms: { path, how, source } }, human: `${path}\t(${told})\n` };
}

const COMMANDS: CommandTable = {
  check,
  models,
  ensure,
  download,
  load,
  unload,
  wait,
  "which-lms": whichLms,
};
