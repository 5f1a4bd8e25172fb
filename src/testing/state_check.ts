/**
 * Checks a {@linkcode SimulatorState} before the simulator starts, so a state that cannot be (a
 * loaded model that is not downloaded, a context above the maximum, an unknown quirk, a negative
 * or fractional context) makes `startSimulator` reject with a message naming the field. Internal
 * to the testing kit.
 *
 * @module
 */
import { isObject } from "../json.ts";
import { normalizeModel } from "./models.ts";
import type { SimModel, SimQuirks, SimReasoningOption, SimulatorState } from "./types.ts";

/** Every quirk name with its default (all off). */
export const QUIRK_DEFAULTS: Readonly<Required<SimQuirks>> = {
  concurrentJitDuplicates: false,
  autoFitIgnoresRequest: false,
};

const REASONING_OPTIONS: readonly SimReasoningOption[] = ["off", "on", "low", "medium", "high"];

function fail(field: string, problem: string): never {
  throw new TypeError(`Simulator state: ${field} ${problem}`);
}

function show(value: unknown): string {
  if (typeof value === "number" || typeof value === "boolean" || value === null) return String(value);
  if (value === undefined) return "undefined";
  try {
    const text = JSON.stringify(value);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
  } catch {
    return typeof value;
  }
}

/** A positive integer when present. */
function positiveInteger(field: string, value: unknown): void {
  if (value === undefined) return;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    fail(field, `must be a positive integer, got ${show(value)}`);
  }
}

function nonNegative(field: string, value: unknown): void {
  if (value === undefined) return;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    fail(field, `must be a number of 0 or more, got ${show(value)}`);
  }
}

function checkModel(field: string, model: unknown): void {
  if (!isObject(model)) fail(field, `must be an object with a "key", got ${show(model)}`);
  const m = model as SimModel & Record<string, unknown>;
  if (typeof m.key !== "string" || m.key.trim() === "") {
    fail(`${field}.key`, `must be a non-empty string, got ${show(m.key)}`);
  }
  if (m.type !== undefined && m.type !== "llm" && m.type !== "embedding") {
    fail(`${field}.type`, `must be "llm" or "embedding", got ${show(m.type)}`);
  }
  if (m.format !== undefined && m.format !== "gguf" && m.format !== "mlx") {
    fail(`${field}.format`, `must be "gguf" or "mlx", got ${show(m.format)}`);
  }
  positiveInteger(`${field}.maxContextLength`, m.maxContextLength);
  positiveInteger(`${field}.fitContextLength`, m.fitContextLength);
  nonNegative(`${field}.sizeBytes`, m.sizeBytes);
  if (m.reasoning !== undefined && typeof m.reasoning !== "boolean") {
    const reasoning = m.reasoning as unknown;
    if (!isObject(reasoning)) {
      fail(`${field}.reasoning`, `must be a boolean or an object, got ${show(reasoning)}`);
    }
    const options = reasoning.allowedOptions;
    if (
      !Array.isArray(options) || options.length === 0 ||
      !options.every((o) => REASONING_OPTIONS.includes(o as SimReasoningOption))
    ) {
      fail(
        `${field}.reasoning.allowedOptions`,
        `must be a non-empty list of ${REASONING_OPTIONS.map((o) => `"${o}"`).join(", ")}, got ${
          show(options)
        }`,
      );
    }
    if (!options.includes(reasoning.default)) {
      fail(
        `${field}.reasoning.default`,
        `must be one of allowedOptions ${show(options)}, got ${show(reasoning.default)}`,
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
  if (!isObject(state)) throw new TypeError(`Simulator state must be an object, got ${show(state)}`);
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
      fail(name, `must be an array, got ${show(s[name])}`);
    }
  }
  (s.models ?? []).forEach((model, i) => checkModel(`models[${i}]`, model));
  (s.catalog ?? []).forEach((model, i) => checkModel(`catalog[${i}]`, model));
  positiveInteger("defaultContextLength", s.defaultContextLength);
  nonNegative("loadDelayMs", s.loadDelayMs);
  if (s.memory !== undefined) {
    if (!isObject(s.memory)) fail("memory", `must be an object, got ${show(s.memory)}`);
    for (const key of Object.keys(s.memory)) {
      if (key !== "maxContextLength") {
        fail("memory", `has an unknown field "${key}" (known: maxContextLength)`);
      }
    }
    positiveInteger("memory.maxContextLength", s.memory.maxContextLength);
  }
  if (s.quirks !== undefined) {
    if (!isObject(s.quirks)) fail("quirks", `must be an object, got ${show(s.quirks)}`);
    const known = Object.keys(QUIRK_DEFAULTS);
    for (const [name, value] of Object.entries(s.quirks)) {
      if (!known.includes(name)) {
        fail("quirks", `has an unknown quirk "${name}" (known: ${known.join(", ")})`);
      }
      if (typeof value !== "boolean" && value !== undefined) {
        fail(`quirks.${name}`, `must be true or false, got ${show(value)}`);
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
    if (!isObject(instance)) fail(field, `must be a model key or an object with a "key", got ${show(entry)}`);
    const keyField = typeof entry === "string" ? field : `${field}.key`;
    if (typeof instance.key !== "string" || instance.key === "") {
      fail(keyField, `must be a non-empty string, got ${show(instance.key)}`);
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
        fail(`${field}.id`, `must be a non-empty string, got ${show(instance.id)}`);
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

/** Throws a `TypeError` for a field of `startSimulator`'s options it does not know (only `host`, `port`). */
export function checkOptions(options: unknown): void {
  if (options === undefined) return;
  if (!isObject(options)) throw new TypeError(`Simulator options must be an object, got ${show(options)}`);
  for (const key of Object.keys(options)) {
    if (key !== "host" && key !== "port") {
      throw new TypeError(`Simulator options have an unknown field "${key}" (known: host, port)`);
    }
  }
}
