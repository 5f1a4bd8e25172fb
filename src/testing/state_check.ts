/**
 * Checks what a test hands the simulator before it is used: a {@linkcode SimulatorState} that
 * cannot be (a loaded model that is not downloaded, a context above the maximum, an unknown quirk,
 * a negative or fractional context, two models with one key), listening options, and injected
 * faults. Each fails at the call with a TypeError naming the field and what is allowed. Internal
 * to the testing kit.
 *
 * @module
 */
import { isObject } from "../json.ts";
import { showValue } from "../text.ts";
import { normalizeModel } from "./models.ts";
import type { SimFault, SimModel, SimQuirks, SimReasoningOption, SimulatorState } from "./types.ts";

/** Every quirk name with its default (all off). */
export const QUIRK_DEFAULTS: Readonly<Required<SimQuirks>> = {
  concurrentJitDuplicates: false,
  autoFitIgnoresRequest: false,
  singleLoadedAnswersAnyName: false,
};

const REASONING_OPTIONS: readonly SimReasoningOption[] = ["off", "on", "low", "medium", "high"];

function fail(field: string, problem: string): never {
  throw new TypeError(`Simulator state: ${field} ${problem}`);
}

/** A positive integer when present. */
function positiveInteger(field: string, value: unknown): void {
  if (value === undefined) return;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    fail(field, `must be a positive integer, got ${showValue(value)}`);
  }
}

/** What is wrong with a number that must be finite and 0 or more (more than 0 if `positive`), if anything. */
function numberProblem(value: unknown, positive: boolean): string | undefined {
  if (typeof value === "number" && Number.isFinite(value) && (positive ? value > 0 : value >= 0)) {
    return undefined;
  }
  return `must be a ${positive ? "positive" : "non-negative"} number, got ${showValue(value)}`;
}

function nonNegative(field: string, value: unknown): void {
  const problem = value === undefined ? undefined : numberProblem(value, false);
  if (problem !== undefined) fail(field, problem);
}

/** Refuses a field of the object at `field` that is not one of `known`. */
function onlyFields(field: string, value: object, known: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) fail(field, `has an unknown field "${key}" (known: ${known.join(", ")})`);
  }
}

function checkModel(field: string, model: unknown): void {
  if (!isObject(model)) fail(field, `must be an object with a "key", got ${showValue(model)}`);
  const m = model as SimModel & Record<string, unknown>;
  if (typeof m.key !== "string" || m.key.trim() === "") {
    fail(`${field}.key`, `must be a non-empty string, got ${showValue(m.key)}`);
  }
  if (m.type !== undefined && m.type !== "llm" && m.type !== "embedding") {
    fail(`${field}.type`, `must be "llm" or "embedding", got ${showValue(m.type)}`);
  }
  if (m.format !== undefined && m.format !== "gguf" && m.format !== "mlx") {
    fail(`${field}.format`, `must be "gguf" or "mlx", got ${showValue(m.format)}`);
  }
  positiveInteger(`${field}.maxContextLength`, m.maxContextLength);
  positiveInteger(`${field}.fitContextLength`, m.fitContextLength);
  nonNegative(`${field}.sizeBytes`, m.sizeBytes);
  if (m.reasoning !== undefined && typeof m.reasoning !== "boolean") {
    const reasoning = m.reasoning as unknown;
    if (!isObject(reasoning)) {
      fail(`${field}.reasoning`, `must be a boolean or an object, got ${showValue(reasoning)}`);
    }
    const options = reasoning.allowedOptions;
    if (
      !Array.isArray(options) || options.length === 0 ||
      !options.every((o) => REASONING_OPTIONS.includes(o as SimReasoningOption))
    ) {
      fail(
        `${field}.reasoning.allowedOptions`,
        `must be a non-empty list of ${REASONING_OPTIONS.map((o) => `"${o}"`).join(", ")}, got ${
          showValue(options)
        }`,
      );
    }
    if (!options.includes(reasoning.default)) {
      fail(
        `${field}.reasoning.default`,
        `must be one of allowedOptions ${showValue(options)}, got ${showValue(reasoning.default)}`,
      );
    }
  }
}

/** Every field of a {@linkcode SimulatorState}: a misspelt or misplaced one is refused, not ignored. */
const STATE_FIELDS: Readonly<Record<keyof SimulatorState, true>> = {
  version: true,
  models: true,
  loaded: true,
  catalog: true,
  auth: true,
  jit: true,
  download: true,
  loadDelayMs: true,
  serverRunning: true,
  reply: true,
  replies: true,
  defaultContextLength: true,
  memory: true,
  quirks: true,
};

/** Throws a `TypeError` naming the first field of `state` that cannot be. */
export function checkState(state: unknown): void {
  if (state === undefined) return;
  if (!isObject(state)) throw new TypeError(`Simulator state must be an object, got ${showValue(state)}`);
  const s = state as SimulatorState & Record<string, unknown>;
  for (const key of Object.keys(s)) {
    if (Object.hasOwn(STATE_FIELDS, key)) continue;
    // The listening address is not state: it is startSimulator's second argument.
    const where = key === "port" || key === "host"
      ? `; "${key}" goes in the options: startSimulator(state, { ${key} })`
      : "";
    throw new TypeError(
      `Simulator state has an unknown field "${key}" (known: ${
        Object.keys(STATE_FIELDS).join(", ")
      })${where}`,
    );
  }
  for (const name of ["models", "catalog", "loaded"] as const) {
    if (s[name] !== undefined && !Array.isArray(s[name])) {
      fail(name, `must be an array, got ${showValue(s[name])}`);
    }
  }
  for (const list of ["models", "catalog"] as const) {
    const seen = new Map<string, number>();
    (s[list] ?? []).forEach((model, i) => {
      checkModel(`${list}[${i}]`, model);
      const earlier = seen.get(model.key);
      if (earlier !== undefined) {
        fail(
          `${list}[${i}].key`,
          `"${model.key}" is already the key of ${list}[${earlier}]: keys must be unique`,
        );
      }
      seen.set(model.key, i);
    });
  }
  positiveInteger("defaultContextLength", s.defaultContextLength);
  nonNegative("loadDelayMs", s.loadDelayMs);
  for (const name of ["jit", "serverRunning"] as const) {
    if (s[name] !== undefined && typeof s[name] !== "boolean") {
      fail(name, `must be true or false, got ${showValue(s[name])}`);
    }
  }
  if (s.reply !== undefined && typeof s.reply !== "string") {
    fail("reply", `must be a string, got ${showValue(s.reply)}`);
  }
  if (s.download !== undefined) {
    if (!isObject(s.download)) {
      fail("download", `must be an object like { mode, bytesPerSecond }, got ${showValue(s.download)}`);
    }
    onlyFields("download", s.download, ["mode", "bytesPerSecond"]);
    const { mode, bytesPerSecond } = s.download;
    if (mode !== undefined && mode !== "time" && mode !== "manual") {
      fail("download.mode", `must be "time" or "manual", got ${showValue(mode)}`);
    }
    const problem = bytesPerSecond === undefined ? undefined : numberProblem(bytesPerSecond, true);
    if (problem !== undefined) fail("download.bytesPerSecond", problem);
  }
  if (s.memory !== undefined) {
    if (!isObject(s.memory)) fail("memory", `must be an object, got ${showValue(s.memory)}`);
    onlyFields("memory", s.memory, ["maxContextLength"]);
    positiveInteger("memory.maxContextLength", s.memory.maxContextLength);
  }
  if (s.quirks !== undefined) {
    if (!isObject(s.quirks)) fail("quirks", `must be an object, got ${showValue(s.quirks)}`);
    const known = Object.keys(QUIRK_DEFAULTS);
    for (const [name, value] of Object.entries(s.quirks)) {
      if (!known.includes(name)) {
        fail("quirks", `has an unknown quirk "${name}" (known: ${known.join(", ")})`);
      }
      if (typeof value !== "boolean" && value !== undefined) {
        fail(`quirks.${name}`, `must be true or false, got ${showValue(value)}`);
      }
    }
  }
  const downloaded = new Map<string, SimModel>();
  for (const model of s.models ?? []) downloaded.set(model.key, model);
  const catalog = new Set((s.catalog ?? []).map((model) => model.key));
  const ids = new Set<string>();
  (s.loaded ?? []).forEach((entry, i) => {
    const field = `loaded[${i}]`;
    const instance = typeof entry === "string" ? { key: entry } : entry;
    if (!isObject(instance)) {
      fail(field, `must be a model key or an object with a "key", got ${showValue(entry)}`);
    }
    const keyField = typeof entry === "string" ? field : `${field}.key`;
    if (typeof instance.key !== "string" || instance.key === "") {
      fail(keyField, `must be a non-empty string, got ${showValue(instance.key)}`);
    }
    const model = downloaded.get(instance.key);
    if (!model) {
      fail(
        keyField,
        `is "${instance.key}", which is not downloaded: a loaded model must be among state.models${
          catalog.has(instance.key) ? ` (it is only in state.catalog)` : ""
        }`,
      );
    }
    if (instance.id !== undefined) {
      if (typeof instance.id !== "string" || instance.id === "") {
        fail(`${field}.id`, `must be a non-empty string, got ${showValue(instance.id)}`);
      }
      if (ids.has(instance.id)) {
        fail(`${field}.id`, `"${instance.id}" is already the id of an earlier instance`);
      }
      ids.add(instance.id);
    }
    positiveInteger(`${field}.contextLength`, instance.contextLength);
    const max = normalizeModel(model).maxContextLength;
    if (instance.contextLength !== undefined && instance.contextLength > max) {
      fail(
        `${field}.contextLength`,
        `(${instance.contextLength}) is above the maximum context length of "${instance.key}" (${max}; see its maxContextLength)`,
      );
    }
  });
}

/**
 * Throws a `TypeError` for a field of `startSimulator`'s options it does not know (only `host`,
 * `port`), a port that is not an integer from 0 (any free port) to 65535, or an empty host.
 */
export function checkOptions(options: unknown): void {
  if (options === undefined) return;
  if (!isObject(options)) {
    throw new TypeError(`Simulator options must be an object, got ${showValue(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (key !== "host" && key !== "port") {
      throw new TypeError(`Simulator options have an unknown field "${key}" (known: host, port)`);
    }
  }
  const { host, port } = options;
  if (
    port !== undefined && (typeof port !== "number" || !Number.isInteger(port) || port < 0 || port > 65535)
  ) {
    throw new TypeError(
      `Simulator options: port must be an integer from 0 (a free port) to 65535, got ${showValue(port)}`,
    );
  }
  if (host !== undefined && (typeof host !== "string" || host.trim() === "")) {
    throw new TypeError(`Simulator options: host must be a non-empty string, got ${showValue(host)}`);
  }
}

/** The fields each fault kind takes besides `match`, `method` and `times`; `true` marks a required one. */
const FAULT_FIELDS: Readonly<Record<SimFault["kind"], Readonly<Record<string, boolean>>>> = {
  delay: { ms: true },
  hang: {},
  close: {},
  "close-mid-body": {},
  respond: { status: false, contentType: false, body: true, headers: false },
  size: { bytes: true, status: false, declareLength: false },
  drip: { intervalMs: true, chunk: false },
  redirect: { location: true, status: false },
};

function faultFail(field: string, problem: string): never {
  throw new TypeError(`Simulator fault: ${field} ${problem}`);
}

function httpStatus(field: string, value: unknown): void {
  if (value === undefined) return;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 100 || value > 599) {
    faultFail(field, `must be an HTTP status from 100 to 599, got ${showValue(value)}`);
  }
}

/**
 * Throws a `TypeError` naming the field of a fault that cannot work, so a typo fails at
 * `sim.inject()` instead of making a request hang or answer nonsense: an unknown `kind` or
 * field, a missing required field (`respond` needs `body`, `redirect` a `location`, ...), a `times`
 * that is not a positive integer, a bad status or number.
 */
export function checkFault(fault: unknown): void {
  if (!isObject(fault)) {
    throw new TypeError(`Simulator fault must be an object like { match, kind }, got ${showValue(fault)}`);
  }
  const f = fault as Record<string, unknown>;
  const kinds = Object.keys(FAULT_FIELDS);
  if (typeof f.kind !== "string" || !Object.hasOwn(FAULT_FIELDS, f.kind)) {
    faultFail("kind", `must be one of ${kinds.map((k) => `"${k}"`).join(", ")}, got ${showValue(f.kind)}`);
  }
  const fields = FAULT_FIELDS[f.kind as SimFault["kind"]];
  for (const key of Object.keys(f)) {
    if (
      key === "kind" || key === "match" || key === "method" || key === "times" || Object.hasOwn(fields, key)
    ) {
      continue;
    }
    const known = ["match", "method", "times", ...Object.keys(fields)].join(", ");
    faultFail(`"${key}"`, `is not a field of a "${f.kind}" fault (known: kind, ${known})`);
  }
  for (const [key, required] of Object.entries(fields)) {
    if (required && f[key] === undefined) faultFail(key, `is required for a "${f.kind}" fault`);
  }
  if (!(typeof f.match === "string" || f.match instanceof RegExp)) {
    faultFail("match", `must be a path string or a RegExp, got ${showValue(f.match)}`);
  }
  // A path never lacks its leading "/": such a match could never apply.
  if (typeof f.match === "string" && !f.match.startsWith("/")) {
    faultFail("match", `must be a path starting with "/", like "/api/v1/models", got ${showValue(f.match)}`);
  }
  if (f.method !== undefined && (typeof f.method !== "string" || f.method === "")) {
    faultFail("method", `must be an HTTP method name, got ${showValue(f.method)}`);
  }
  if (f.times !== undefined && (typeof f.times !== "number" || !Number.isInteger(f.times) || f.times < 1)) {
    faultFail("times", `must be a positive integer (leave it out for "always"), got ${showValue(f.times)}`);
  }
  httpStatus("status", f.status);
  for (const key of ["ms", "bytes", "intervalMs"]) {
    if (f[key] !== undefined) nonNegativeFault(key, f[key], key === "intervalMs");
  }
  if (f.kind === "respond" && typeof f.body !== "string" && !isObject(f.body) && !Array.isArray(f.body)) {
    faultFail("body", `must be a string or a JSON object/array, got ${showValue(f.body)}`);
  }
  if (f.kind === "redirect" && (typeof f.location !== "string" || f.location === "")) {
    faultFail("location", `must be a non-empty URL or path, got ${showValue(f.location)}`);
  }
  for (const key of ["contentType", "chunk"]) {
    if (f[key] !== undefined && typeof f[key] !== "string") {
      faultFail(key, `must be a string, got ${showValue(f[key])}`);
    }
  }
  if (
    f.headers !== undefined &&
    (!isObject(f.headers) || !Object.values(f.headers).every((v) => typeof v === "string"))
  ) {
    faultFail("headers", `must be an object of string values, got ${showValue(f.headers)}`);
  }
  if (f.declareLength !== undefined && typeof f.declareLength !== "boolean") {
    faultFail("declareLength", `must be true or false, got ${showValue(f.declareLength)}`);
  }
}

function nonNegativeFault(field: string, value: unknown, positive: boolean): void {
  const problem = numberProblem(value, positive);
  if (problem !== undefined) faultFail(field, problem);
}
