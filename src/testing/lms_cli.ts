/**
 * The `lms` commands of the fake CLI, run inside the simulator (the fake executable forwards its
 * argv to the control route `POST /__simulator/lms`). Output streams, texts and exit codes follow
 * the reference §8 (`lms get`, `load`, `unload`, `ls`, `ps`, `server`, `daemon`). Internal to the
 * testing kit.
 *
 * @module
 */
import {
  formatElapsed,
  formatSize1000,
  formatSize1024,
  LOAD_SPINNER_END,
  loadSpinnerFrame,
  PROGRESS_END,
  progressFrame,
  SPINNER_FRAMES,
} from "./lms_format.ts";
import { type InstanceRecord, lmsInstanceInfo, lmsModelInfo, modelPath, type ModelRecord } from "./models.ts";
import { type LoadOptions, type World, WorldError } from "./world.ts";
import process from "node:process";

/** What one `lms` invocation prints and returns. `follow` names a download job to keep drawing. */
export interface LmsReply {
  stdout: string;
  stderr: string;
  exitCode: number;
  follow?: string;
}

/** One poll of a followed download. */
export interface LmsFollowReply {
  stdout: string;
  stderr: string;
  done: boolean;
  exitCode?: number;
}

/** What the commands need from the simulator besides the world. */
export interface LmsHost {
  world: World;
  serverRunning(): boolean;
  port(): number;
  startServer(port: number): Promise<void>;
  stopServer(): Promise<void>;
}

interface OptionSpec {
  values?: string[];
  bools?: string[];
  aliases?: Record<string, string>;
}

interface ParsedArgs {
  positionals: string[];
  options: Map<string, string | true>;
}

const GLOBAL: Required<OptionSpec> = {
  values: ["--host", "--port", "--log-level"],
  bools: ["--quiet", "--verbose"],
  aliases: {},
};

class UsageError extends Error {}

function parseArgs(args: string[], spec: OptionSpec): ParsedArgs {
  const values = new Set([...(spec.values ?? []), ...GLOBAL.values]);
  const bools = new Set([...(spec.bools ?? []), ...GLOBAL.bools]);
  const aliases = spec.aliases ?? {};
  const positionals: string[] = [];
  const options = new Map<string, string | true>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      positionals.push(arg);
      continue;
    }
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const rawName = eq > 0 ? arg.slice(0, eq) : arg;
    const name = aliases[rawName] ?? rawName;
    if (values.has(name)) {
      const value = eq > 0 ? arg.slice(eq + 1) : args[++i];
      if (value === undefined) throw new UsageError(`error: option '${rawName}' argument missing`);
      options.set(name, value);
    } else if (bools.has(name) && eq < 0) {
      options.set(name, true);
    } else {
      throw new UsageError(`error: unknown option '${rawName}'`);
    }
  }
  return { positionals, options };
}

function intOption(parsed: ParsedArgs, name: string, min = 1): number | undefined {
  const raw = parsed.options.get(name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (raw === true || !Number.isInteger(value) || value < min) {
    throw new UsageError(`error: option '${name}' argument '${raw}' is invalid.`);
  }
  return value;
}

const reply = (stdout: string, stderr: string, exitCode: number): LmsReply => ({ stdout, stderr, exitCode });

function appVersion(world: World): string {
  return world.version === "0.4" ? "0.4.12+1" : world.version === "0.3" ? "0.3.31+1" : "0.2.31";
}

function pad(text: string, width: number): string {
  return text.length >= width ? `${text}  ` : text.padEnd(width + 2);
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => (row[c] ?? "").length)));
  return rows.map((row) => row.map((cell, c) => pad(cell, widths[c]!)).join("").trimEnd()).join("\n") + "\n";
}

/** Fuzzy key matching like `lms load`: exact (case-insensitive), else substring, else subsequence. */
function matchModels(models: ModelRecord[], term: string): ModelRecord[] {
  const lower = term.toLowerCase();
  const exact = models.filter((m) => m.key.toLowerCase() === lower);
  if (exact.length > 0) return exact;
  const contains = models.filter((m) => m.key.toLowerCase().includes(lower));
  if (contains.length > 0) return contains;
  return models.filter((m) => {
    const key = m.key.toLowerCase();
    let at = 0;
    for (const ch of lower) {
      at = key.indexOf(ch, at);
      if (at < 0) return false;
      at++;
    }
    return true;
  });
}

function get(host: LmsHost, args: string[], dryRun: boolean): LmsReply {
  const world = host.world;
  const parsed = parseArgs(args, {
    bools: ["--yes", "--mlx", "--gguf", "--select"],
    aliases: { "-y": "--yes" },
  });
  const yes = parsed.options.has("--yes");
  if (yes && parsed.options.has("--select")) {
    return reply("", "Error: The --select flag cannot be used with --yes.\n", 1);
  }
  const name = parsed.positionals[0];
  if (!name) {
    return reply(
      "",
      "Error: Please specify the model to download, e.g. lms get openai/gpt-oss-20b --yes\n",
      1,
    );
  }
  if (name.split("@").length > 2) {
    return reply("", "Error: You cannot have more than 2 @'s in the model name argument.\n", 1);
  }
  const [term, given] = name.trim().split("@").map((part) => part.trim()) as [string, string | undefined];
  const quant = given === "" ? undefined : given;
  const reference = term.toLowerCase();
  const downloaded = [...world.models.values()].find((m) => m.key.toLowerCase() === reference);
  if (downloaded) return reply("", `Model already downloaded. To use, run: lms load ${downloaded.key}\n`, 0);
  let stderr = "";
  let model = world.findInCatalog(reference);
  if (!model) {
    // As lms's src/subcommands/get.ts (07b7252) reads a name: `owner/name` is a catalog artifact,
    // which LM Studio fails to resolve when there is none (its words in lmstudio-bug-tracker#1103);
    // anything else is a staff-pick search, which may find nothing.
    const segments = reference.split("/");
    if (segments.length === 2 && segments.every((segment) => segment !== "")) {
      return reply(
        resolvingFrame(reference),
        `Error: Failed to resolve artifact "${reference}": The artifact does not exist or you do not have permission to read it\n`,
        1,
      );
    }
    stderr += `Searching staff picks with the term ${term}\n`;
    const found = matchModels([...world.catalog.values()], reference);
    if (found.length === 0) {
      return reply("", `${stderr}Error: No staff picks found with the specified search criteria.\n`, 1);
    }
    if (found.length > 1) {
      if (!yes) {
        return reply(
          "",
          `${stderr}Error: Multiple staff picks found; pass --yes to select the first one.\n`,
          1,
        );
      }
      stderr += "Multiple staff picks found. Automatically selecting the first one due to --yes.\n";
    }
    model = found[0]!;
    if (world.models.has(model.key)) {
      return reply("", `${stderr}Model already downloaded. To use, run: lms load ${model.key}\n`, 0);
    }
  }
  if (quant !== undefined) {
    const wanted = quant.toLowerCase();
    const known = model.quantization.toLowerCase() === wanted ||
      (model.variants ?? []).some((v) => v.toLowerCase().endsWith(`@${wanted}`));
    if (!known) return reply("", `${stderr}Error: Cannot find variant ${quant}.\n`, 1);
  }
  if (parsed.options.has("--mlx") && !parsed.options.has("--gguf") && model.format !== "mlx") {
    return reply("", `${stderr}Error: Cannot find an MLX variant of ${model.key}.\n`, 1);
  }
  if (parsed.options.has("--gguf") && !parsed.options.has("--mlx") && model.format !== "gguf") {
    return reply("", `${stderr}Error: Cannot find a GGUF variant of ${model.key}.\n`, 1);
  }
  const size = formatSize1000(model.sizeBytes);
  const plan = yes ? `Resolution completed. Downloading ${size}...\n` : `About to download ${size}.\n`;
  if (dryRun) {
    const total = model.sizeBytes;
    const stdout = plan + progressFrame(0, 0, total, total) + progressFrame(1, total / 2, total, total) +
      progressFrame(2, total, total, total) + PROGRESS_END;
    return reply(stdout, `${stderr}Finalizing download...\nDownload completed.\n`, 0);
  }
  const now = Date.now();
  const active = world.downloads.activeFor(model.key);
  if (active) {
    return { stdout: "This download is already in progress.\n", stderr, exitCode: 0, follow: active.id };
  }
  const job = world.downloads.start(model, now);
  return { stdout: plan, stderr, exitCode: 0, follow: job.id };
}

/**
 * What `lms get` draws on stdout while LM Studio resolves an artifact (one redraw of lms's
 * `buildArtifactDownloadPlanLines`, cursor hidden meanwhile).
 */
function resolvingFrame(artifact: string): string {
  const lines = [
    "",
    `   ${SPINNER_FRAMES[0]} ${artifact} - Resolving...`,
    "",
    `${SPINNER_FRAMES[5]} Resolving download plan...`,
  ];
  return `\x1b[?25l${lines.map((line) => `\r${line}\x1b[0K\n`).join("")}\x1b[?25h`;
}

/** One redraw of a followed `lms get` download. */
export function followDownload(host: LmsHost, jobId: string, frame: number): LmsFollowReply {
  const world = host.world;
  world.tick();
  const job = world.downloads.get(jobId);
  if (!job) {
    return { stdout: PROGRESS_END, stderr: "Error: Channel closed unexpectedly.\n", done: true, exitCode: 1 };
  }
  if (job.status === "downloading" || job.status === "paused") {
    return {
      stdout: progressFrame(frame, job.downloadedBytes, job.totalBytes, job.bytesPerSecond),
      stderr: "",
      done: false,
    };
  }
  if (job.status === "completed") {
    return {
      stdout: progressFrame(frame, job.totalBytes, job.totalBytes, job.bytesPerSecond) + PROGRESS_END,
      stderr: "Finalizing download...\nDownload completed.\n",
      done: true,
      exitCode: 0,
    };
  }
  const failure = job.failure ?? "Unknown error.";
  const finalizing = job.downloadedBytes >= job.totalBytes ? "Finalizing download...\n" : "";
  return {
    stdout: PROGRESS_END,
    stderr: `${finalizing}Error: Download failed: ${failure}\n`,
    done: true,
    exitCode: 1,
  };
}

async function load(host: LmsHost, args: string[], dryRun: boolean): Promise<LmsReply> {
  const world = host.world;
  const parsed = parseArgs(args, {
    values: [
      "--gpu",
      "--context-length",
      "--parallel",
      "--ttl",
      "--identifier",
      "--speculative-draft-model",
      "--speculative-draft-max-tokens",
      "--speculative-draft-min-tokens",
      "--speculative-draft-min-continue-probability",
    ],
    bools: [
      "--yes",
      "--estimate-only",
      "--exact",
      "--local",
      "--speculative-draft-mtp",
      "--no-speculative-draft-mtp",
      "--speculative-draft-simple",
    ],
    aliases: { "-y": "--yes", "-c": "--context-length" },
  });
  const contextLength = intOption(parsed, "--context-length");
  const ttl = intOption(parsed, "--ttl");
  const parallel = intOption(parsed, "--parallel");
  const gpu = parsed.options.get("--gpu");
  if (typeof gpu === "string" && gpu !== "off" && gpu !== "max" && !(Number(gpu) >= 0 && Number(gpu) <= 1)) {
    throw new UsageError(`error: option '--gpu' argument '${gpu}' is invalid.`);
  }
  const yes = parsed.options.has("--yes");
  const term = parsed.positionals[0];
  const models = [...world.models.values()];
  if (!term) {
    return reply("", "Error: Please specify the model to load, e.g. lms load openai/gpt-oss-20b --yes\n", 1);
  }
  const matches = parsed.options.has("--exact")
    ? models.filter((m) => modelPath(m) === term)
    : matchModels(models, term);
  if (matches.length === 0) {
    if (!yes) return reply("", `! Cannot find a model matching the provided model key (${term})\n`, 1);
    return reply(
      "",
      `Error: Model not found\n  No downloaded model matches "${term}". Run "lms ls" to see your models.\n`,
      1,
    );
  }
  let stderr = "";
  if (matches.length > 1) {
    if (!yes) {
      return reply(
        "",
        `Error: ${matches.length} models match "${term}"; pass --yes to load the first one.\n`,
        1,
      );
    }
    stderr +=
      `W ${matches.length} models match the provided model key on the same device. Loading the first one.\n`;
  }
  const model = matches[0]!;
  if (parsed.options.has("--estimate-only")) {
    const gb = formatSize1000(model.sizeBytes * 1.1);
    return reply(
      "",
      `${stderr}Model: ${model.key}\nEstimated GPU Memory:   ${gb}\nEstimated Total Memory: ${gb}\n\n` +
        "Estimate: This model may be loaded based on your resource guardrails settings.\n",
      0,
    );
  }
  const options: LoadOptions = { loadedBy: "lms" };
  if (contextLength !== undefined) options.contextLength = contextLength;
  if (ttl !== undefined) options.ttlMs = ttl * 1000;
  if (parallel !== undefined) options.parallel = parallel;
  const identifier = parsed.options.get("--identifier");
  if (typeof identifier === "string") options.identifier = identifier;
  const started = Date.now();
  let instance: InstanceRecord;
  try {
    instance = await world.load(model.key, options, dryRun);
  } catch (error) {
    if (error instanceof WorldError) return reply("", `${stderr}Error: ${error.message}\n`, 1);
    throw error;
  }
  const stdout = loadSpinnerFrame(model.key, 0, 0) + loadSpinnerFrame(model.key, 100, 1) + LOAD_SPINNER_END;
  stderr += `Model loaded successfully in ${formatElapsed(Date.now() - started)}.\n` +
    `(${formatSize1024(model.sizeBytes)})\n` +
    `To use the model in the API/SDK, use the identifier "${instance.id}".\n`;
  return reply(stdout, stderr, 0);
}

function unload(host: LmsHost, args: string[], dryRun: boolean): LmsReply {
  const world = host.world;
  const parsed = parseArgs(args, { bools: ["--all"], aliases: { "-a": "--all" } });
  const id = parsed.positionals[0];
  const all = parsed.options.has("--all");
  const drop = (instanceId: string): void => {
    if (!dryRun) world.unload(instanceId);
  };
  if (all && id !== undefined) {
    return reply("", "Error: You cannot specify a model identifier together with --all.\n", 0);
  }
  if (all) {
    const ids = world.instances.map((i) => i.id);
    if (ids.length === 0) return reply("", "No models to unload.\n", 0);
    let stderr = "";
    for (const instanceId of ids) {
      stderr += `Unloading "${instanceId}"...\n`;
      drop(instanceId);
    }
    stderr += ids.length === 1 ? "Unloaded 1 model.\n" : `Unloaded ${ids.length} models.\n`;
    return reply("", stderr, 0);
  }
  if (id === undefined) {
    if (world.instances.length === 0) {
      return reply("", `You don't have any models loaded. Use "lms load" to load a model.\n`, 1);
    }
    if (world.instances.length > 1) {
      return reply("", "Error: Several models are loaded; give the identifier to unload or use --all.\n", 1);
    }
    const only = world.instances[0]!.id;
    drop(only);
    return reply("", `Model "${only}" unloaded.\n`, 0);
  }
  if (!world.instanceById(id)) {
    // Real lms prints the error but exits 0.
    return reply("", `Error: Model Not Found\n  Cannot find a model with the identifier "${id}".\n`, 0);
  }
  drop(id);
  return reply("", `Model "${id}" unloaded.\n`, 0);
}

function ls(host: LmsHost, args: string[]): LmsReply {
  const world = host.world;
  const parsed = parseArgs(args, { bools: ["--llm", "--embedding", "--variants", "--json", "--detailed"] });
  let models = [...world.models.values()];
  const onlyLlm = parsed.options.has("--llm");
  const onlyEmbedding = parsed.options.has("--embedding");
  if (onlyLlm !== onlyEmbedding) models = models.filter((m) => m.type === (onlyLlm ? "llm" : "embedding"));
  const key = parsed.positionals[0];
  if (key !== undefined) {
    models = models.filter((m) => m.key === key);
    if (models.length === 0) return reply("", `Error: Cannot find a model with the key "${key}".\n`, 1);
  }
  if (parsed.options.has("--json")) {
    const infos = parsed.options.has("--variants")
      ? models.map((m) => ({
        model: lmsModelInfo(m),
        variants: m.variants ?? [`${m.key}@${m.quantization.toLowerCase()}`],
      }))
      : models.map(lmsModelInfo);
    return reply(JSON.stringify(infos) + "\n", "", 0);
  }
  if (models.length === 0) return reply("You have not downloaded any models yet.\n", "", 0);
  const total = models.reduce((sum, m) => sum + m.sizeBytes, 0);
  let stdout = `You have ${models.length} model${models.length === 1 ? "" : "s"}, taking up ${
    formatSize1000(total)
  } of disk space.\n`;
  for (const type of ["llm", "embedding"] as const) {
    const group = models.filter((m) => m.type === type);
    if (group.length === 0) continue;
    const rows = [[type === "llm" ? "LLM" : "EMBEDDING", "PARAMS", "ARCH", "SIZE", "DEVICE", ""]];
    for (const m of group) {
      const loaded = world.instancesOf(m.key).length > 0 ? "✓ LOADED" : "";
      rows.push([m.key, m.paramsString ?? "", m.architecture, formatSize1000(m.sizeBytes), "Local", loaded]);
    }
    stdout += "\n" + table(rows);
  }
  return reply(stdout, "", 0);
}

function ps(host: LmsHost, args: string[]): LmsReply {
  const world = host.world;
  const parsed = parseArgs(args, { bools: ["--json"] });
  const ordered = [
    ...world.instances.filter((i) => world.models.get(i.key)?.type === "llm"),
    ...world.instances.filter((i) => world.models.get(i.key)?.type === "embedding"),
  ];
  if (parsed.options.has("--json")) {
    return reply(
      JSON.stringify(ordered.map((i) => lmsInstanceInfo(world.models.get(i.key)!, i))) + "\n",
      "",
      0,
    );
  }
  if (ordered.length === 0) {
    return reply("", "No models are currently loaded.\n\nTo load a model, run:\n\n    lms load\n", 0);
  }
  const rows = [["IDENTIFIER", "MODEL", "STATUS", "SIZE", "CONTEXT", "PARALLEL", "DEVICE", "TTL"]];
  const now = Date.now();
  for (const i of ordered) {
    const model = world.models.get(i.key)!;
    const ttl = i.ttlMs === null
      ? ""
      : `${Math.max(0, Math.round(((i.lastUsedTime ?? i.loadedAt) + i.ttlMs - now) / 60000))}m / ${
        Math.round(i.ttlMs / 60000)
      }m`;
    rows.push([
      i.id,
      i.key,
      "IDLE",
      formatSize1000(model.sizeBytes),
      String(i.contextLength),
      i.parallel === null ? "" : String(i.parallel),
      "Local",
      ttl,
    ]);
  }
  return reply(table(rows), "", 0);
}

async function server(host: LmsHost, args: string[], dryRun: boolean): Promise<LmsReply> {
  const world = host.world;
  const sub = args[0];
  const rest = args.slice(1);
  if (sub === "start") {
    const parsed = parseArgs(rest, { values: ["--bind"], bools: ["--cors"], aliases: { "-p": "--port" } });
    const port = intOption(parsed, "--port", 0) ?? world.serverPort ?? host.port();
    let stderr = "Starting server...\n";
    const bind = parsed.options.get("--bind");
    if (typeof bind === "string" && bind !== "127.0.0.1" && bind !== "localhost") {
      stderr +=
        "W Server will accept connections from the network. Only use this if you know what you are doing!\n";
    }
    if (parsed.options.has("--cors")) {
      stderr += "W CORS is enabled. This means any website you visit can use the LM Studio server.\n";
    }
    try {
      if (!dryRun) await host.startServer(port);
    } catch {
      return reply(
        "",
        `${stderr}Error: Failed to verify the server is running. Please try to use another port.\n`,
        1,
      );
    }
    return reply("", `${stderr}Success! Server is now running on port ${dryRun ? port : host.port()}\n`, 0);
  }
  if (sub === "status") {
    const parsed = parseArgs(rest, { bools: ["--json"] });
    const running = host.serverRunning();
    if (parsed.options.has("--json")) {
      // lms prints the port of the saved server config even when the server is off.
      const saved = world.serverPort;
      const status = running
        ? { running: true, port: host.port() }
        : saved === undefined
        ? { running: false }
        : { running: false, port: saved };
      return reply(JSON.stringify(status) + "\n", "", 0);
    }
    return reply(
      "",
      running ? `The server is running on port ${host.port()}.\n` : "The server is not running.\n",
      0,
    );
  }
  if (sub === "stop") {
    parseArgs(rest, {});
    if (!host.serverRunning()) return reply("", "Error: The server is not running.\n", 1);
    const port = host.port();
    if (!dryRun) await host.stopServer();
    return reply("", `Stopped the server on port ${port}.\n`, 0);
  }
  return reply(
    "",
    sub === undefined
      ? "error: missing command (start, status, stop)\n"
      : `error: unknown command '${sub}'\n`,
    1,
  );
}

function daemon(host: LmsHost, args: string[]): LmsReply {
  const sub = args[0];
  const parsed = parseArgs(args.slice(1), { bools: ["--json"] });
  const json = parsed.options.has("--json");
  const pid = process.pid;
  const version = appVersion(host.world);
  if (sub === "up") {
    return json
      ? reply(JSON.stringify({ status: "running", pid, isDaemon: true, version }) + "\n", "", 0)
      : reply("", `The daemon is already running (PID: ${pid}).\n`, 0);
  }
  if (sub === "status") {
    return json
      ? reply(JSON.stringify({ status: "running", pid, isDaemon: true }) + "\n", "", 0)
      : reply("", `llmster v${version} is running (PID: ${pid})\n`, 0);
  }
  return reply(
    "",
    sub === undefined ? "error: missing command (up, status)\n" : `error: unknown command '${sub}'\n`,
    1,
  );
}

/**
 * Runs one `lms` command line against the simulator. `dryRun` (the script's `noop`) prints what
 * the command would print but changes nothing.
 */
export async function runLms(host: LmsHost, argv: string[], dryRun = false): Promise<LmsReply> {
  const index = argv.findIndex((arg) => !arg.startsWith("-"));
  const command = index < 0 ? undefined : argv[index];
  const args = index < 0 ? [] : [...argv.slice(0, index), ...argv.slice(index + 1)];
  try {
    switch (command) {
      case "get":
        return get(host, args, dryRun);
      case "load":
        return await load(host, args, dryRun);
      case "unload":
        return unload(host, args, dryRun);
      case "ls":
        return ls(host, args);
      case "ps":
        return ps(host, args);
      case "server":
        return await server(host, argv.slice(index + 1), dryRun);
      case "daemon":
        return daemon(host, argv.slice(index + 1));
      case undefined:
        return reply("", "error: missing command\n", 1);
      default:
        return reply("", `error: unknown command '${command}'\n`, 1);
    }
  } catch (error) {
    if (error instanceof UsageError) return reply("", `${error.message}\n`, 1);
    return reply("", `Error: ${error instanceof Error ? error.message : String(error)}\n`, 1);
  }
}
