/**
 * The `lms` commands this package uses, as typed methods that know `lms`'s traps: `unload` exits
 * 0 on an unknown identifier, `server status` always exits 0, `load` of a loaded model makes
 * `key:2`, `get` exits 0 for "already downloaded", and any command may first print
 * "Waking up LM Studio service...". Every model name passes {@linkcode validateModelName} before it
 * reaches `lms`.
 *
 * @module
 */
import { isObject, tokenCount } from "./json.ts";
import { type CallOptions, DEFAULT_TIMEOUTS } from "./deadline.ts";
import { invalidOption, optionsObject } from "./options.ts";
import { type ErrorCode, LMStudioError } from "./errors.ts";
import type { LmsLocation } from "./lms_find.ts";
import {
  createLmsOutputSplitter,
  parseLmsDownloadProgress,
  parseLmsLoadProgress,
  stripAnsi,
} from "./lms_progress.ts";
import { type LmsRunOptions, type LmsRunResult, runLms } from "./lms_run.ts";
import { quote } from "./text.ts";
import { validateModelName } from "./model_name.ts";
import { type Capability, capabilityList } from "./models.ts";
import type { DownloadProgress } from "./progress.ts";

/**
 * Options for {@linkcode Lms.get}.
 *
 * @example
 * ```ts
 * import { type LmsGetOptions } from "@vtcode/lmstudio/lms";
 * const options: LmsGetOptions = { timeoutMs: 3_600_000, onProgress: (p) => console.error(p.percent) };
 * ```
 */
export interface LmsGetOptions extends CallOptions {
  /** Called for each progress redraw `lms get` prints (duplicates dropped). */
  onProgress?: (progress: DownloadProgress) => void;
}

/**
 * Options for {@linkcode Lms.load}.
 *
 * @example
 * ```ts
 * import { type LmsLoadOptions } from "@vtcode/lmstudio/lms";
 * const options: LmsLoadOptions = { ttlSeconds: 900, contextLength: 32768, gpu: "max" };
 * ```
 */
export interface LmsLoadOptions extends CallOptions {
  /** Idle TTL in seconds (`--ttl`); a positive integer. */
  ttlSeconds?: number;
  /** Context length (`--context-length`); a positive integer. */
  contextLength?: number;
  /** Instance identifier (`--identifier`); loading fails if it is taken. */
  identifier?: string;
  /** GPU offload (`--gpu`): `off`, `max`, or a ratio 0..1. */
  gpu?: string;
  /** Called with the load fraction 0..1 from `lms load`'s spinner. */
  onProgress?: (fraction: number) => void;
}

/**
 * A loaded model instance, from `lms ps --json`.
 *
 * @example
 * ```ts
 * import { type LmsLoadedInstance } from "@vtcode/lmstudio/lms";
 * const second: LmsLoadedInstance = { identifier: "qwen/qwen3-4b-2507:2", modelKey: "qwen/qwen3-4b-2507" };
 * ```
 */
export interface LmsLoadedInstance {
  /** The instance identifier (what `/v1/*` `model` and `lms unload` take), e.g. `qwen/qwen3-4b:2`. */
  identifier: string;
  /** The model key, e.g. `qwen/qwen3-4b`. */
  modelKey: string;
  /** `llm` or `embedding`. */
  type?: string;
  /** The context length this instance was loaded with; absent unless `lms` printed a positive integer. */
  contextLength?: number;
  /** The largest context the model supports; absent unless `lms` printed a positive integer. */
  maxContextLength?: number;
  /** Whether the model reads images (LLMs only); absent unless `lms` printed a boolean. */
  vision?: boolean;
  /** Whether the model was trained for tool use (LLMs only); absent unless `lms` printed a boolean. */
  trainedForToolUse?: boolean;
  /** What the model can do, concluded as for `ModelInfo.capabilities`; absent where unknown. */
  capabilities?: Capability[];
}

/**
 * A downloaded model, from `lms ls --json`.
 *
 * @example
 * ```ts
 * import { type LmsDownloadedModel } from "@vtcode/lmstudio/lms";
 * const model: LmsDownloadedModel = { modelKey: "qwen/qwen3-4b-2507", type: "llm", quantization: "Q4_K_M" };
 * ```
 */
export interface LmsDownloadedModel {
  /** The model key, e.g. `qwen/qwen3-4b-2507`. */
  modelKey: string;
  /** `llm` or `embedding`. */
  type?: string;
  /** Publisher, e.g. `qwen`. */
  publisher?: string;
  /** Size on disk in bytes. */
  sizeBytes?: number;
  /** Largest context the model supports; absent unless `lms` printed a positive integer. */
  maxContextLength?: number;
  /** `gguf` or `safetensors` (MLX). */
  format?: string;
  /** Variant keys (`key@quant`). */
  variants?: string[];
  /** Quantization name, e.g. `Q4_K_M`. */
  quantization?: string;
  /** Architecture, e.g. `qwen3`. */
  architecture?: string;
  /** Human name, e.g. `Qwen3 4B 2507`. */
  displayName?: string;
  /** Whether the model reads images (LLMs only); absent unless `lms` printed a boolean. */
  vision?: boolean;
  /** Whether the model was trained for tool use (LLMs only); absent unless `lms` printed a boolean. */
  trainedForToolUse?: boolean;
  /**
   * What the model can do, concluded as for `ModelInfo.capabilities`: `[]` for an
   * embedding model, else from `vision` and `trainedForToolUse` when both are booleans; absent
   * where unknown. `lms` does not report reasoning.
   */
  capabilities?: Capability[];
}

/**
 * Options for the {@linkcode Lms} constructor.
 *
 * @example
 * ```ts
 * import { Lms, type LmsOptions } from "@vtcode/lmstudio/lms";
 * const options: LmsOptions = { env: { FORCE_COLOR: "0" } };
 * const lms = new Lms("/home/me/.lmstudio/bin/lms", options);
 * ```
 */
export interface LmsOptions {
  /** Extra environment variables for every `lms` command. */
  env?: Record<string, string>;
}

/** Deadline of the quick commands (`ps`, `ls`, `unload`, `server ...`, `version`). */
const QUICK_TIMEOUT_MS = 30_000;

/**
 * `lms get`'s words for "there is no such model" (lms `src/subcommands/get.ts`): a catalog id
 * (`owner/name`) LM Studio cannot resolve ("Failed to resolve artifact "x/y": The artifact does not
 * exist or you do not have permission to read it", lmstudio-bug-tracker#1103), a search term without
 * results ("No staff picks found with the specified search criteria."; before lms#515, 2026-04:
 * "No models found with the specified search criteria."), and a quantization the model does not
 * have ("Cannot find variant q8_0.").
 */
const NOT_IN_CATALOG =
  /Failed to resolve artifact\b.*\bdoes not exist|No (?:staff picks|models) found with the specified search criteria|Cannot find variant /i;

// Lines lms prints that say nothing about why it failed.
const NOISE =
  /^(?:Waking up LM Studio service\.*|Finalizing download\.*|Searching (?:for models|staff picks)\b.*|Starting server\.*)$/i;

/**
 * Why `lms` failed, in one line: the last `Error:` line of stderr (with the indented details under
 * it, as `lms` prints titled errors), else the last meaningful line of stderr, then of stdout.
 */
function lmsFailure(result: LmsRunResult): string {
  const lines = (text: string) =>
    stripAnsi(text).split(/\r\n|\r|\n/).map((line) => line.trimEnd()).filter((line) =>
      line.trim() !== "" && !NOISE.test(line.trim())
    );
  const err = lines(result.stderr);
  let at = -1;
  for (let i = err.length - 1; i >= 0; i--) {
    if (/^\s*Error:/.test(err[i])) {
      at = i;
      break;
    }
  }
  let summary: string;
  if (at >= 0) {
    const details: string[] = [err[at].trim()];
    for (let i = at + 1; i < err.length && /^\s/.test(err[i]) && details.length < 4; i++) {
      details.push(err[i].trim());
    }
    summary = details.join(" ");
  } else {
    summary = err.at(-1)?.trim() ?? lines(result.stdout).at(-1)?.trim() ?? "";
  }
  if (summary.length > 500) summary = `${summary.slice(0, 499)}…`;
  const how = result.signal ? `was killed by ${result.signal}` : `exited with code ${result.code}`;
  return summary === "" ? how : `${how}: ${summary}`;
}

/**
 * The JSON document in `lms` output: the whole text, else from the first line that starts a JSON
 * value (skipping log lines printed before it), else any single line that parses.
 */
function jsonDocument(text: string): unknown {
  const clean = stripAnsi(text).trim();
  const attempt = (candidate: string): { value: unknown } | undefined => {
    try {
      return { value: JSON.parse(candidate) };
    } catch {
      return undefined;
    }
  };
  const whole = attempt(clean);
  if (whole) return whole.value;
  const lines = clean.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    if (!/^\s*[[{]/.test(lines[i])) continue;
    const rest = attempt(lines.slice(i).join("\n"));
    if (rest) return rest.value;
    const one = attempt(lines[i]);
    if (one) return one.value;
  }
  return undefined;
}

function str(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

function num(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

function bool(value: unknown): boolean | undefined {
  return typeof value === "boolean" ? value : undefined;
}

/** The SDK's `vision` and `trainedForToolUse` (LLMs), read as REST v1's `capabilities` are. */
function lmsCapabilities(entry: Record<string, unknown>): {
  vision?: boolean;
  trainedForToolUse?: boolean;
  capabilities?: Capability[];
} {
  const vision = bool(entry.vision);
  const trainedForToolUse = bool(entry.trainedForToolUse);
  let capabilities: Capability[] | undefined;
  if (vision !== undefined && trainedForToolUse !== undefined) {
    capabilities = capabilityList(trainedForToolUse, vision, false);
  } else if (entry.type === "embedding" && vision === undefined && trainedForToolUse === undefined) {
    capabilities = [];
  }
  return { vision, trainedForToolUse, capabilities };
}

function positiveInteger(name: string, value: number | undefined): void {
  if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
    throw new LMStudioError("USAGE", `Invalid ${name}: ${value} (expected a positive integer)`, {
      hint: `Give ${name} a whole number above 0, or leave it out.`,
    });
  }
}

function cleanRecord<T extends object>(record: T): T {
  for (const key of Object.keys(record) as (keyof T)[]) {
    if (record[key] === undefined) delete record[key];
  }
  return record;
}

/**
 * Runs the `lms` commands this package needs. Errors are {@linkcode LMStudioError}s naming the
 * command and carrying `lms`'s own error line: `DOWNLOAD_FAILED`, `LOAD_FAILED`,
 * `MODEL_NOT_FOUND`, `SERVER_UNREACHABLE`, `INVALID_RESPONSE`, `TIMEOUT`, `INTERRUPTED`, `USAGE`,
 * `LMS_NOT_FOUND`.
 *
 * @example
 * ```ts
 * import { findLms, Lms } from "@vtcode/lmstudio/lms";
 * const lms = new Lms(findLms());
 * await lms.get("qwen/qwen3-4b-2507", { onProgress: (p) => console.error(`${p.percent}%`) });
 * const { identifier } = await lms.load("qwen/qwen3-4b-2507", { ttlSeconds: 600 });
 * console.log(identifier, await lms.ps());
 * ```
 */
export class Lms {
  /** Absolute path of the `lms` executable. */
  readonly path: string;
  readonly #env?: Record<string, string>;

  /** Wraps the `lms` at `location` (a {@linkcode findLms} result or a path). */
  constructor(location: LmsLocation | string, options: LmsOptions = {}) {
    // Plain-JS callers: the one options rule (src/options.ts), and a path that is a non-empty string.
    const path = typeof location === "string" ? location : (location as LmsLocation | null)?.path;
    if (typeof path !== "string" || path.trim() === "") {
      throw invalidOption("location", location, "the path of `lms`, or what findLms() returns");
    }
    this.path = path;
    const given = optionsObject(options, "options");
    if (given.env !== undefined && (typeof given.env !== "object" || Array.isArray(given.env))) {
      throw invalidOption("env", given.env, "an object of environment variables");
    }
    if (given.env) this.#env = { ...given.env };
  }

  #run(
    args: string[],
    options: CallOptions,
    defaultMs: number,
    extra: LmsRunOptions = {},
  ): Promise<LmsRunResult> {
    return runLms(this.path, args, {
      ...extra,
      signal: options.signal,
      timeoutMs: options.timeoutMs ?? defaultMs,
      ...(this.#env ? { env: this.#env } : {}),
    });
  }

  /** An error for a failed quick command: "cannot reach the service" is told apart. */
  #failed(command: string, result: LmsRunResult, code: ErrorCode = "INTERNAL"): LMStudioError {
    const why = lmsFailure(result);
    if (/Failed to start or connect|ECONNREFUSED|Cannot connect to LM Studio/i.test(why)) {
      return new LMStudioError("SERVER_UNREACHABLE", `\`${command}\` ${why}`, {
        hint: "Start LM Studio (or `lms daemon up` for the headless service) and retry.",
      });
    }
    return new LMStudioError(code, `\`${command}\` ${why}`, {
      hint: `Run \`${command}\` in a terminal to see the full output.`,
    });
  }

  /**
   * Downloads a model with `lms get --yes <model>`, reporting progress parsed from its bar. Resolves
   * `{ alreadyDownloaded: true }` when `lms` says the model is already there. Rejects with
   * `MODEL_NOT_FOUND` when `lms` finds no such model (or variant) in the catalog, else
   * `DOWNLOAD_FAILED` (carrying `lms`'s last `Error:` line) on a non-zero exit, and also when `lms`
   * exits 0 without saying it downloaded anything. Default deadline: 6 hours.
   *
   * @example
   * ```ts
   * import { Lms } from "@vtcode/lmstudio/lms";
   * const lms = new Lms("/home/me/.lmstudio/bin/lms");
   * const { alreadyDownloaded } = await lms.get("qwen/qwen3-4b-2507", {
   *   onProgress: (p) => console.error(`${p.percent ?? "?"}% of ${p.totalBytes ?? "?"} bytes`),
   * });
   * ```
   */
  async get(model: string, options: LmsGetOptions = {}): Promise<{ alreadyDownloaded: boolean }> {
    validateModelName(model);
    const onProgress = options.onProgress;
    let last: DownloadProgress | undefined;
    const splitter = createLmsOutputSplitter((line) => {
      const progress = parseLmsDownloadProgress(line);
      if (!progress || !onProgress) return;
      if (last && last.downloadedBytes === progress.downloadedBytes && last.percent === progress.percent) {
        return;
      }
      last = progress;
      onProgress(progress);
    });
    const result = await this.#run(["get", "--yes", model], options, DEFAULT_TIMEOUTS.download, {
      onStdout: onProgress ? (chunk) => splitter.push(chunk) : undefined,
    });
    splitter.end();
    if (result.code !== 0) {
      const why = lmsFailure(result);
      if (NOT_IN_CATALOG.test(why)) {
        // As REST v1 says `model_not_found`: the model is not there to download, nothing failed.
        throw new LMStudioError("MODEL_NOT_FOUND", `\`lms get ${model}\` ${why}`, {
          hint: /Cannot find variant/i.test(why)
            ? "Leave out the @quantization suffix, or use one LM Studio's catalog lists for the model."
            : "Check the model id in LM Studio's catalog (e.g. openai/gpt-oss-20b) or pass a Hugging Face link.",
        });
      }
      throw new LMStudioError("DOWNLOAD_FAILED", `\`lms get ${model}\` ${why}`, {
        hint:
          `Check the model name (\`lms get ${model}\` in a terminal lists the matches), the network and free disk space.`,
      });
    }
    const said = stripAnsi(`${result.stderr}\n${result.stdout}`);
    if (/already downloaded/i.test(said)) return { alreadyDownloaded: true };
    if (/Download completed/i.test(said)) {
      // Finish the bar: the last redraw before "completed" is often short of 100%.
      if (onProgress && last && last.percent !== 100 && last.totalBytes !== null) {
        onProgress({ ...last, downloadedBytes: last.totalBytes, percent: 100, etaSeconds: 0 });
      }
      return { alreadyDownloaded: false };
    }
    throw new LMStudioError(
      "DOWNLOAD_FAILED",
      `\`lms get ${model}\`: lms exited 0 but did not report a download`,
      {
        hint:
          `Run \`lms get ${model}\` in a terminal to see what it does; your lms may be too old or too new for this tool.`,
      },
    );
  }

  /**
   * Loads a model with `lms load -y <model>` and resolves the identifier `lms` gave the instance
   * (`key`, or `key:2` when the model was already loaded). Rejects with `LOAD_FAILED` on failure.
   * Default deadline: 10 minutes.
   *
   * @example
   * ```ts
   * import { Lms } from "@vtcode/lmstudio/lms";
   * const lms = new Lms("/home/me/.lmstudio/bin/lms");
   * const { identifier } = await lms.load("qwen/qwen3-4b-2507", { contextLength: 16384, ttlSeconds: 900 });
   * ```
   */
  async load(model: string, options: LmsLoadOptions = {}): Promise<{ identifier: string }> {
    validateModelName(model);
    if (options.identifier !== undefined) validateModelName(options.identifier);
    positiveInteger("ttlSeconds", options.ttlSeconds);
    positiveInteger("contextLength", options.contextLength);
    const gpu = options.gpu;
    if (gpu !== undefined && !/^(?:off|max|0(?:\.\d+)?|1(?:\.0+)?|\.\d+)$/.test(gpu)) {
      throw new LMStudioError("USAGE", `Invalid gpu setting ${JSON.stringify(gpu)}`, {
        hint: "Use off, max, or a ratio between 0 and 1 such as 0.5.",
      });
    }
    const started = Date.now();
    const args = ["load", "-y", model];
    if (options.ttlSeconds !== undefined) args.push("--ttl", String(options.ttlSeconds));
    if (options.contextLength !== undefined) args.push("--context-length", String(options.contextLength));
    if (options.identifier !== undefined) args.push("--identifier", options.identifier);
    if (gpu !== undefined) args.push("--gpu", gpu);

    const onProgress = options.onProgress;
    let lastFraction: number | undefined;
    const splitter = createLmsOutputSplitter((line) => {
      const fraction = parseLmsLoadProgress(line);
      if (fraction === undefined || !onProgress || fraction === lastFraction) return;
      lastFraction = fraction;
      onProgress(fraction);
    });
    const result = await this.#run(args, options, DEFAULT_TIMEOUTS.load, {
      onStdout: onProgress ? (chunk) => splitter.push(chunk) : undefined,
    });
    splitter.end();
    if (result.code !== 0) {
      throw new LMStudioError("LOAD_FAILED", `\`lms load ${model}\` ${lmsFailure(result)}`, {
        hint:
          "Check that the model is downloaded (`lms ls`) and fits in memory; a smaller contextLength may help.",
      });
    }
    if (onProgress && lastFraction !== undefined && lastFraction < 1) onProgress(1);
    const said = stripAnsi(`${result.stderr}\n${result.stdout}`);
    const identifier = /use the identifier "([^"\r\n]+)"/i.exec(said)?.[1];
    if (identifier) return { identifier };
    return { identifier: await this.#guessIdentifier(model, options, started) };
  }

  /**
   * For an `lms` that did not print the identifier: the newest matching instance in `ps`. An `lms`
   * that exited 0 without loading anything is a failure, not a success with a made-up identifier.
   */
  async #guessIdentifier(model: string, options: LmsLoadOptions, started: number): Promise<string> {
    let instances: LmsLoadedInstance[];
    try {
      const left = options.timeoutMs === undefined
        ? undefined
        : Math.max(1, options.timeoutMs - (Date.now() - started));
      instances = await this.ps({ signal: options.signal, timeoutMs: left });
    } catch (error) {
      // An abort or the deadline must still be reported as such; any other trouble with `ps`
      // leaves us trusting lms's exit code.
      if (error instanceof LMStudioError && (error.code === "TIMEOUT" || error.code === "INTERRUPTED")) {
        throw error;
      }
      return options.identifier ?? model;
    }
    const suffix = (id: string) => Number(/:(\d+)$/.exec(id)?.[1] ?? 1);
    const matches = instances
      .filter((i) =>
        options.identifier !== undefined
          ? i.identifier === options.identifier
          : i.modelKey === model || i.identifier === model || i.identifier.startsWith(`${model}:`)
      )
      .sort((a, b) => suffix(b.identifier) - suffix(a.identifier));
    const found = matches[0]?.identifier;
    if (found !== undefined) return found;
    throw new LMStudioError(
      "LOAD_FAILED",
      `\`lms load ${model}\` exited 0 but no instance of ${options.identifier ?? model} is loaded (lms ps)`,
      {
        hint:
          "Run `lms load` in a terminal to see what it does; your lms may be too old or too new for this tool.",
      },
    );
  }

  /**
   * Unloads one instance (by identifier, as `lms ps` shows it) or all of them, and checks with
   * `lms ps --json` that it worked, because `lms unload` exits 0 even for an unknown identifier.
   * Rejects with `MODEL_NOT_FOUND` when no instance has that identifier, `LOAD_FAILED` when it
   * is still loaded afterwards. Default deadline 30 s for the whole check.
   *
   * @example
   * ```ts
   * import { Lms } from "@vtcode/lmstudio/lms";
   * const lms = new Lms("/home/me/.lmstudio/bin/lms");
   * await lms.unload("qwen/qwen3-4b-2507:2");
   * await lms.unload({ all: true });
   * ```
   */
  async unload(identifier: string | { all: true }, options: CallOptions = {}): Promise<void> {
    const started = Date.now();
    const total = options.timeoutMs ?? QUICK_TIMEOUT_MS;
    // One deadline for the whole check (ps, unload, ps), not one per command.
    const step = (): CallOptions => ({
      signal: options.signal,
      timeoutMs: Math.max(1, total - (Date.now() - started)),
    });

    if (typeof identifier !== "string") {
      if (!isObject(identifier) || identifier.all !== true) {
        throw new LMStudioError("USAGE", "unload takes an instance identifier or { all: true }", {
          hint: "Pass the identifier `lms ps` shows, or { all: true } to unload every model.",
        });
      }
      const result = await this.#run(["unload", "--all"], step(), total);
      if (result.code !== 0) throw this.#failed("lms unload --all", result, "LOAD_FAILED");
      const left = await this.ps(step());
      if (left.length > 0) {
        throw new LMStudioError(
          "LOAD_FAILED",
          `\`lms unload --all\` left ${left.length} instance(s) loaded: ${
            left.map((i) => i.identifier).join(", ")
          }`,
          {
            hint:
              "Something (JIT loading by a client) may be loading models again; unload them in the LM Studio app.",
          },
        );
      }
      return;
    }

    validateModelName(identifier);
    const before = await this.ps(step());
    if (!before.some((i) => i.identifier === identifier)) throw notLoaded(identifier, before);
    const result = await this.#run(["unload", identifier], step(), total);
    if (/Cannot find a model with the identifier|Model Not Found/i.test(stripAnsi(result.stderr))) {
      throw notLoaded(identifier, before);
    }
    if (result.code !== 0) throw this.#failed(`lms unload ${identifier}`, result, "LOAD_FAILED");
    const after = await this.ps(step());
    if (after.some((i) => i.identifier === identifier)) {
      throw new LMStudioError(
        "LOAD_FAILED",
        `\`lms unload ${identifier}\` exited 0 but the instance is still loaded`,
        {
          hint: "Unload it in the LM Studio app, or restart the LM Studio service.",
        },
      );
    }
  }

  /**
   * Lists loaded instances with `lms ps --json`. Unknown fields are ignored; output that is not a
   * JSON array of instances rejects with `INVALID_RESPONSE`. Default deadline 30 s.
   *
   * @example
   * ```ts
   * import { Lms } from "@vtcode/lmstudio/lms";
   * const loaded = await new Lms("/home/me/.lmstudio/bin/lms").ps();
   * console.log(loaded.map((i) => i.identifier));
   * ```
   */
  async ps(options: CallOptions = {}): Promise<LmsLoadedInstance[]> {
    const result = await this.#run(["ps", "--json"], options, QUICK_TIMEOUT_MS);
    if (result.code !== 0) throw this.#failed("lms ps --json", result);
    return parseList(result, "lms ps --json", (entry) => {
      const identifier = str(entry.identifier) ?? str(entry.modelKey);
      const modelKey = str(entry.modelKey) ?? str(entry.identifier);
      if (identifier === undefined || modelKey === undefined) return undefined;
      return cleanRecord<LmsLoadedInstance>({
        identifier,
        modelKey,
        type: str(entry.type),
        contextLength: tokenCount(entry.contextLength) ?? undefined,
        maxContextLength: tokenCount(entry.maxContextLength) ?? undefined,
        ...lmsCapabilities(entry),
      });
    });
  }

  /**
   * Lists downloaded models with `lms ls --json`. Unknown fields are ignored; output that is not
   * a JSON array of models rejects with `INVALID_RESPONSE`. Default deadline 30 s.
   *
   * @example
   * ```ts
   * import { Lms } from "@vtcode/lmstudio/lms";
   * const models = await new Lms("/home/me/.lmstudio/bin/lms").ls();
   * console.log(models.filter((m) => m.type === "llm").map((m) => m.modelKey));
   * ```
   */
  async ls(options: CallOptions = {}): Promise<LmsDownloadedModel[]> {
    const result = await this.#run(["ls", "--json"], options, QUICK_TIMEOUT_MS, {
      maxOutputBytes: 16 * 1024 * 1024,
    });
    if (result.code !== 0) throw this.#failed("lms ls --json", result);
    return parseList(result, "lms ls --json", (entry) => {
      const modelKey = str(entry.modelKey) ?? str(entry.path);
      if (modelKey === undefined) return undefined;
      const quantization = isObject(entry.quantization)
        ? str(entry.quantization.name)
        : str(entry.quantization);
      const variants = Array.isArray(entry.variants)
        ? entry.variants.filter((v): v is string => typeof v === "string")
        : undefined;
      return cleanRecord<LmsDownloadedModel>({
        modelKey,
        type: str(entry.type),
        publisher: str(entry.publisher),
        sizeBytes: num(entry.sizeBytes),
        maxContextLength: tokenCount(entry.maxContextLength) ?? undefined,
        format: str(entry.format),
        variants,
        quantization,
        architecture: str(entry.architecture),
        displayName: str(entry.displayName),
        ...lmsCapabilities(entry),
      });
    });
  }

  /**
   * Starts the server with `lms server start [--port <port>]` (waking the LM Studio service if
   * needed). Rejects with `SERVER_UNREACHABLE` when `lms` reports it could not. Default deadline 30 s.
   *
   * @example
   * ```ts
   * import { Lms } from "@vtcode/lmstudio/lms";
   * await new Lms("/home/me/.lmstudio/bin/lms").serverStart({ port: 1234 });
   * ```
   */
  async serverStart(options: CallOptions & { port?: number } = {}): Promise<void> {
    const args = ["server", "start"];
    if (options.port !== undefined) {
      if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) {
        throw new LMStudioError("USAGE", `Invalid port: ${options.port} (expected 0-65535)`, {
          hint: "Give port a whole number from 0 to 65535 (LM Studio's default is 1234), or leave it out.",
        });
      }
      args.push("--port", String(options.port));
    }
    const result = await this.#run(args, options, QUICK_TIMEOUT_MS);
    if (result.code !== 0) {
      throw new LMStudioError("SERVER_UNREACHABLE", `\`lms ${args.join(" ")}\` ${lmsFailure(result)}`, {
        hint: "Try another port, or start the server in the LM Studio app (Developer tab).",
      });
    }
  }

  /**
   * Asks `lms server status --json` whether the server runs, and on which port. The JSON is
   * trusted, not the exit code (always 0). Never wakes the service. Default deadline 30 s.
   *
   * @example
   * ```ts
   * import { Lms } from "@vtcode/lmstudio/lms";
   * const { running, port } = await new Lms("/home/me/.lmstudio/bin/lms").serverStatus();
   * ```
   */
  async serverStatus(options: CallOptions = {}): Promise<{ running: boolean; port?: number }> {
    const result = await this.#run(["server", "status", "--json"], options, QUICK_TIMEOUT_MS);
    const doc = jsonDocument(result.stdout) ?? jsonDocument(result.stderr);
    if (isObject(doc) && typeof doc.running === "boolean") {
      const port = num(doc.port);
      return port === undefined ? { running: doc.running } : { running: doc.running, port };
    }
    // Older lms without --json: the text line.
    const text = stripAnsi(`${result.stderr}\n${result.stdout}`);
    const on = /server is running on port (\d+)/i.exec(text);
    if (on) return { running: true, port: Number(on[1]) };
    if (/server is not running/i.test(text)) return { running: false };
    if (result.code !== 0) throw this.#failed("lms server status --json", result);
    throw new LMStudioError(
      "INVALID_RESPONSE",
      `\`lms server status --json\` printed no status: ${preview(result.stdout || result.stderr)}`,
      {
        hint:
          "Run `lms server status --json` in a terminal; your lms may be too old or too new for this tool.",
      },
    );
  }

  /**
   * The `lms` version: `lms version --json`'s `version` (a commit hash on current builds, a semver
   * such as `0.0.47` on older ones), falling back to the text of `lms --version`. Default
   * deadline 30 s.
   *
   * @example
   * ```ts
   * import { Lms } from "@vtcode/lmstudio/lms";
   * console.log(await new Lms("/home/me/.lmstudio/bin/lms").version());
   * ```
   */
  async version(options: CallOptions = {}): Promise<string> {
    const started = Date.now();
    const total = options.timeoutMs ?? QUICK_TIMEOUT_MS;
    const first = await this.#run(["version", "--json"], options, total);
    const doc = jsonDocument(first.stdout);
    if (first.code === 0 && isObject(doc) && str(doc.version)) return String(doc.version);
    const fromText = (result: LmsRunResult): string | undefined => {
      const text = stripAnsi(`${result.stdout}\n${result.stderr}`);
      return /CLI commit:\s*([0-9a-f]{6,40})/i.exec(text)?.[1] ??
        /\bv?(\d+\.\d+\.\d+(?:[-+][\w.]+)?)\b/.exec(text)?.[1];
    };
    const early = first.code === 0 ? fromText(first) : undefined;
    if (early) return early;
    const second = await this.#run(["--version"], {
      signal: options.signal,
      timeoutMs: Math.max(1, total - (Date.now() - started)),
    }, total);
    const late = second.code === 0 ? fromText(second) : undefined;
    if (late) return late;
    if (second.code !== 0) throw this.#failed("lms --version", second);
    throw new LMStudioError(
      "INVALID_RESPONSE",
      `\`lms --version\` printed no version: ${preview(second.stdout)}`,
      {
        hint:
          "Run `lms version` in a terminal; LMSTUDIO_LMS_PATH may point at something that is not LM Studio's lms.",
      },
    );
  }
}

function notLoaded(identifier: string, loaded: LmsLoadedInstance[]): LMStudioError {
  const list = loaded.length === 0 ? "none" : loaded.map((i) => i.identifier).join(", ");
  return new LMStudioError(
    "MODEL_NOT_FOUND",
    `No loaded model has the identifier "${identifier}" (loaded: ${list})`,
    {
      hint: "Use an identifier exactly as `lms ps` shows it (a second instance is `key:2`).",
    },
  );
}

/** What `lms` printed, as a message quotes it (colours stripped, unprintable characters escaped). */
function preview(text: string): string {
  const clean = stripAnsi(text).trim();
  return clean === "" ? "(nothing)" : quote(clean, 200);
}

function parseList<T>(
  result: LmsRunResult,
  command: string,
  map: (entry: Record<string, unknown>) => T | undefined,
): T[] {
  const doc = jsonDocument(result.stdout);
  const invalid = (why: string) =>
    new LMStudioError("INVALID_RESPONSE", `\`${command}\` ${why}: ${preview(result.stdout)}`, {
      hint: `Run \`${command}\` in a terminal; your lms may be too old or too new for this tool.`,
    });
  if (!Array.isArray(doc)) {
    throw invalid(doc === undefined ? "did not print JSON" : "did not print a JSON array");
  }
  return doc.map((entry, index) => {
    const mapped = isObject(entry) ? map(entry) : undefined;
    if (mapped === undefined) throw invalid(`printed an entry (#${index + 1}) that is not a model`);
    return mapped;
  });
}
