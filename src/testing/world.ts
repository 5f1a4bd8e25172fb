/**
 * The simulated LM Studio's state: downloaded models, loaded instances, the catalog, download
 * jobs, JIT/TTL rules and scripted load failures. Shared by the HTTP routes and the fake `lms`
 * commands so both see one world. Internal to the testing kit.
 *
 * @module
 */
import { DownloadJobs } from "./downloads.ts";
import {
  DEFAULT_CONTEXT_LENGTH,
  defaultContextLength,
  type InstanceRecord,
  type ModelRecord,
  normalizeModel,
} from "./models.ts";
import { checkState, QUIRK_DEFAULTS } from "./state_check.ts";
import type { SimInstance, SimModel, SimQuirks, SimulatorState, SimulatorVersion } from "./types.ts";

/** Default idle TTL of JIT-loaded models (60 minutes). */
export const JIT_TTL_MS = 60 * 60 * 1000;

/** Options of a load. */
export interface LoadOptions {
  contextLength?: number;
  identifier?: string;
  ttlMs?: number | null;
  jit?: boolean;
  parallel?: number;
  evalBatchSize?: number;
  flashAttention?: boolean;
  numExperts?: number;
  offloadKvCacheToGpu?: boolean;
  /** Which path loads it (default `"rest"`, or `"jit"` when `jit`). */
  loadedBy?: InstanceRecord["loadedBy"];
  /** Take `contextLength` as given, without auto-fit (the start-up state describes what is loaded). */
  exactContext?: boolean;
}

/** Thrown by world operations; routes and `lms` commands turn it into their own error shapes. */
export class WorldError extends Error {
  readonly kind: "not_found" | "exists" | "load_failed" | "invalid" | "invalid_context";
  constructor(kind: WorldError["kind"], message: string) {
    super(message);
    this.name = "WorldError";
    this.kind = kind;
  }
}

const VERSIONS: readonly SimulatorVersion[] = ["0.4", "0.3", "0.2"];

/** The whole simulated state. */
export class World {
  readonly version: SimulatorVersion;
  readonly models = new Map<string, ModelRecord>();
  readonly catalog = new Map<string, ModelRecord>();
  instances: InstanceRecord[] = [];
  jit: boolean;
  authToken: string | undefined;
  loadDelayMs: number;
  reply: string;
  /** The context an LLM gets when a load names none. */
  readonly defaultContextLength: number;
  /** The most context any load gets (auto-fit), or undefined for no limit. */
  readonly memoryMaxContextLength: number | undefined;
  readonly quirks: Required<SimQuirks>;
  readonly downloads: DownloadJobs;
  /** The port `lms server start/status` report, once the server has run. */
  serverPort: number | undefined;
  readonly #reserved = new Set<string>();
  readonly #loadFailures: { key?: string; message?: string }[] = [];
  readonly #jitLoads = new Map<string, Promise<InstanceRecord>>();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  #closed = false;

  constructor(state: SimulatorState = {}) {
    checkState(state);
    const version = state.version ?? "0.4";
    if (!VERSIONS.includes(version)) {
      throw new TypeError(`Unknown simulator version ${JSON.stringify(version)}`);
    }
    this.version = version;
    this.jit = state.jit ?? true;
    this.authToken = state.auth?.token;
    if (state.auth && (typeof state.auth.token !== "string" || state.auth.token === "")) {
      throw new TypeError("Simulator auth needs a non-empty token");
    }
    this.loadDelayMs = Math.max(0, state.loadDelayMs ?? 50);
    this.reply = state.reply ?? "Hello from the LM Studio simulator.";
    this.defaultContextLength = state.defaultContextLength ?? DEFAULT_CONTEXT_LENGTH;
    this.memoryMaxContextLength = state.memory?.maxContextLength;
    this.quirks = { ...QUIRK_DEFAULTS, ...state.quirks };
    const mode = state.download?.mode ?? "time";
    if (mode !== "time" && mode !== "manual") {
      throw new TypeError(`Unknown download mode ${JSON.stringify(mode)}`);
    }
    this.downloads = new DownloadJobs(
      state.download?.bytesPerSecond === undefined
        ? { mode }
        : { mode, bytesPerSecond: state.download.bytesPerSecond },
      (job) => {
        if (!this.models.has(job.model.key)) this.models.set(job.model.key, job.model);
      },
    );
    for (const model of state.models ?? []) this.addModel(model);
    for (const model of state.catalog ?? []) {
      const record = normalizeModel(model);
      this.catalog.set(record.key, record);
    }
    const now = Date.now();
    (state.loaded ?? []).forEach((entry, index) => {
      const instance: SimInstance = typeof entry === "string" ? { key: entry } : entry;
      const options: LoadOptions = { loadedBy: "state", exactContext: true };
      if (instance.id !== undefined) options.identifier = instance.id;
      if (instance.contextLength !== undefined) options.contextLength = instance.contextLength;
      try {
        this.addInstance(instance.key, options, now);
      } catch (error) {
        if (!(error instanceof WorldError)) throw error;
        throw new TypeError(`Simulator state: loaded[${index}]: ${error.message}`);
      }
    });
  }

  /** Adds (or replaces) a downloaded model. */
  addModel(model: SimModel): ModelRecord {
    const record = normalizeModel(model);
    this.models.set(record.key, record);
    return record;
  }

  /** Removes a downloaded model and its instances. */
  removeModel(key: string): boolean {
    this.instances = this.instances.filter((instance) => instance.key !== key);
    return this.models.delete(key);
  }

  /** Brings downloads and TTLs up to `now`. */
  tick(now: number = Date.now()): void {
    this.downloads.tick(now);
    this.instances = this.instances.filter((instance) => {
      if (instance.ttlMs === null) return true;
      return (instance.lastUsedTime ?? instance.loadedAt) + instance.ttlMs > now;
    });
  }

  instancesOf(key: string): InstanceRecord[] {
    return this.instances.filter((instance) => instance.key === key);
  }

  instanceById(id: string): InstanceRecord | undefined {
    return this.instances.find((instance) => instance.id === id);
  }

  /**
   * The loaded context of what a request's `model` names: the instance with that identifier,
   * else the first instance of that model key (`key@variant` allowed); undefined when not loaded.
   */
  loadedContextLength(modelId: string): number | undefined {
    const instance = this.instanceById(modelId) ?? this.instancesOf(modelId.split("@")[0]!)[0];
    return instance?.contextLength;
  }

  /**
   * The context a load gets: the request (or the default), cut to what fits in memory
   * (auto-fit: the model's `fitContextLength` and `memory.maxContextLength`), silently.
   */
  givenContextLength(record: ModelRecord, requested: number | undefined): number {
    const fit = Math.min(
      record.maxContextLength,
      record.fitContextLength ?? Infinity,
      this.memoryMaxContextLength ?? Infinity,
    );
    if (this.quirks.autoFitIgnoresRequest && record.type === "llm") return fit;
    return Math.min(requested ?? defaultContextLength(record, this.defaultContextLength), fit);
  }
  #idTaken(id: string): boolean {
    return this.#reserved.has(id) || this.instances.some((instance) => instance.id === id);
  }

  /** The identifier the next instance of `key` gets: the key, then `key:2`, `key:3`, ... */
  nextInstanceId(key: string): string {
    if (!this.#idTaken(key)) return key;
    for (let n = 2;; n++) {
      const id = `${key}:${n}`;
      if (!this.#idTaken(id)) return id;
    }
  }

  #prepare(key: string, options: LoadOptions): { record: ModelRecord; id: string } {
    const record = this.models.get(key);
    if (!record) throw new WorldError("not_found", `Model ${key} not found in downloaded models`);
    if (options.identifier !== undefined && this.#idTaken(options.identifier)) {
      throw new WorldError(
        "exists",
        `An instance with the identifier "${options.identifier}" already exists.`,
      );
    }
    if (
      options.contextLength !== undefined &&
      (!Number.isInteger(options.contextLength) || options.contextLength < 1)
    ) {
      throw new WorldError("invalid_context", `Invalid context length: ${options.contextLength}`);
    }
    const above = aboveMaximum(record, options.contextLength);
    if (above) throw new WorldError("invalid_context", above);
    return { record, id: options.identifier ?? this.nextInstanceId(key) };
  }

  #instance(record: ModelRecord, id: string, options: LoadOptions, now: number): InstanceRecord {
    const requested = options.contextLength ?? null;
    return {
      key: record.key,
      id,
      contextLength: options.exactContext && requested !== null
        ? requested
        : this.givenContextLength(record, options.contextLength),
      requestedContextLength: requested,
      loadedBy: options.loadedBy ?? (options.jit ? "jit" : "rest"),
      ttlMs: options.ttlMs ?? null,
      loadedAt: now,
      lastUsedTime: null,
      jit: options.jit ?? false,
      parallel: record.type === "llm" ? options.parallel ?? 4 : null,
      evalBatchSize: options.evalBatchSize ?? 512,
      flashAttention: options.flashAttention ?? true,
      offloadKvCacheToGpu: options.offloadKvCacheToGpu ?? true,
      numExperts: options.numExperts ?? 0,
    };
  }

  /** Loads at once (no delay, no scripted failure): for the initial state and `loadModel()`. */
  addInstance(key: string, options: LoadOptions = {}, now: number = Date.now()): InstanceRecord {
    const { record, id } = this.#prepare(key, options);
    const instance = this.#instance(record, id, options, now);
    this.instances.push(instance);
    return instance;
  }

  failNextLoad(key?: string, message?: string): void {
    const failure: { key?: string; message?: string } = {};
    if (key !== undefined) failure.key = key;
    if (message !== undefined) failure.message = message;
    this.#loadFailures.push(failure);
  }

  #takeLoadFailure(key: string): string | undefined {
    const index = this.#loadFailures.findIndex((f) => f.key === undefined || f.key === key);
    if (index < 0) return undefined;
    const [failure] = this.#loadFailures.splice(index, 1);
    return failure?.message ??
      `Failed to load model "${key}". Error loading model. (Exit code: 18446744072635810000). Unknown error. Try a different model and/or config.`;
  }

  /** Waits like a load does; never settles once the simulator is closed. */
  wait(ms: number): Promise<void> {
    if (this.#closed) return new Promise(() => {});
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        resolve();
      }, ms);
      this.#timers.add(timer);
    });
  }

  /** Schedules a callback that is dropped when the simulator closes. */
  later(ms: number, callback: () => void): void {
    if (this.#closed) return;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      callback();
    }, ms);
    this.#timers.add(timer);
  }

  close(): void {
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }

  /**
   * A load as LM Studio does it: the identifier is reserved at once, the instance appears after
   * `loadDelayMs`; a scripted failure rejects with `load_failed`. `dryRun` changes nothing.
   */
  async load(key: string, options: LoadOptions = {}, dryRun = false): Promise<InstanceRecord> {
    const { record, id } = this.#prepare(key, options);
    const failure = dryRun ? undefined : this.#takeLoadFailure(key);
    if (!dryRun) this.#reserved.add(id);
    try {
      await this.wait(this.loadDelayMs);
      if (failure !== undefined) throw new WorldError("load_failed", failure);
      const now = Date.now();
      const instance = this.#instance(record, id, options, now);
      if (dryRun) return instance;
      if (instance.jit) {
        // Auto-evict: keep at most one JIT-loaded model (with the duplicates bug, the
        // model's own overlapping JIT instances stay).
        const keep = (other: InstanceRecord): boolean =>
          !other.jit || (this.quirks.concurrentJitDuplicates && other.key === instance.key);
        this.instances = this.instances.filter(keep);
      }
      this.instances.push(instance);
      return instance;
    } finally {
      this.#reserved.delete(id);
    }
  }

  /**
   * JIT-loads `key` for an inference request, with the context it asks for (REST v1 chat's
   * `context_length`; auto-fitted like any load) or the default; concurrent requests share one
   * load (unless the `concurrentJitDuplicates` quirk is on: then each makes its own instance,
   * `key:2`, ...).
   */
  jitLoad(key: string, ttlSeconds: number | undefined, contextLength?: number): Promise<InstanceRecord> {
    const pending = this.quirks.concurrentJitDuplicates ? undefined : this.#jitLoads.get(key);
    if (pending) return pending;
    const ttlMs = ttlSeconds !== undefined && Number.isFinite(ttlSeconds) && ttlSeconds > 0
      ? ttlSeconds * 1000
      : JIT_TTL_MS;
    const options: LoadOptions = { jit: true, ttlMs };
    if (contextLength !== undefined) options.contextLength = contextLength;
    const promise: Promise<InstanceRecord> = this.load(key, options).finally(() => {
      if (this.#jitLoads.get(key) === promise) this.#jitLoads.delete(key);
    });
    this.#jitLoads.set(key, promise);
    return promise;
  }

  unload(id: string): boolean {
    const before = this.instances.length;
    this.instances = this.instances.filter((instance) => instance.id !== id);
    return this.instances.length !== before;
  }

  /** Resolves a catalog reference (`key`, `key@quant`, a Hugging Face or lmstudio.ai URL). */
  findInCatalog(reference: string): ModelRecord | undefined {
    let ref = reference.trim();
    ref = ref.replace(/^https?:\/\/(?:www\.)?(?:huggingface\.co|lmstudio\.ai\/models|lmstudio\.ai)\//i, "");
    ref = ref.replace(/\/+$/, "");
    const base = ref.split("@")[0]!.toLowerCase();
    for (const [key, record] of this.catalog) if (key.toLowerCase() === base) return record;
    return undefined;
  }
}

/**
 * Why a context cannot be given to a model (it is above the model's maximum), or `undefined`. LM
 * Studio's answer here is not documented; a refusal naming both numbers is our guess. [uncertain]
 */
export function aboveMaximum(record: ModelRecord, contextLength: number | undefined): string | undefined {
  if (contextLength === undefined || contextLength <= record.maxContextLength) return undefined;
  return `Requested context length ${contextLength} is greater than the maximum context length of ${record.key} (${record.maxContextLength}).`;
}
