/**
 * An embedded LM Studio simulator: a real HTTP server on loopback (random port) that answers as
 * LM Studio 0.4, 0.3 or 0.2 does, driven by a small declarative state, with fault injection and
 * request recording for tests. Runs unchanged on Deno, Bun and Node 20 (only `node:http`).
 *
 * Two listeners:
 * - the API listener (`url`): LM Studio's routes, recorded in `requests`, subject to auth and
 *   faults; it can be stopped and started (`lms server stop|start`, `setServerRunning`), and
 *   refuses connections while stopped, like a real server that is off;
 * - the control listener (`controlUrl`): only the `/__simulator/` routes, never recorded, never
 *   faulted, no auth, always up. The same routes are also answered on the API listener.
 *
 * Control routes (JSON in, JSON out):
 * - `POST /__simulator/lms` `{"argv": string[], "dryRun"?: boolean}` → `{stdout, stderr, exitCode, follow?}`:
 *   runs one `lms` command line (used by the fake `lms`); `follow` is a download job id to poll;
 * - `POST /__simulator/lms/follow` `{"jobId": string, "frame": number}` → `{stdout, stderr, done, exitCode?}`:
 *   one redraw of an `lms get` progress bar;
 * - `GET /__simulator/state` → `{version, jit, serverRunning, models, loaded, instances, jobs}`.
 *
 * @module
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { followDownload, type LmsHost, runLms } from "./lms_cli.ts";
import { publicModel } from "./models.ts";
import { queueReplies as queueScript } from "./inference_script.ts";
import type { SimReply } from "./inference_types.ts";
import { answer, json, JSON_TYPE, type SimResponse, v1Error } from "./routes.ts";
import type {
  RecordedRequest,
  SimFault,
  SimInstanceSnapshot,
  SimLoadedInstance,
  SimModel,
  SimulatorState,
} from "./types.ts";
import { checkFault, checkOptions } from "./state_check.ts";
import { World, WorldError } from "./world.ts";

// The state vocabulary, for the kit's own modules and tests (testing.ts exports it publicly).
export type * from "./types.ts";

/**
 * Where the simulator listens.
 *
 * @example
 * ```ts
 * import { startSimulator, type SimulatorOptions } from "@vtcode/lmstudio/testing";
 * const options: SimulatorOptions = { host: "127.0.0.1", port: 0 };
 * const sim = await startSimulator({}, options);
 * await sim.close();
 * ```
 */
export interface SimulatorOptions {
  /** Interface to bind (default `127.0.0.1`). */
  host?: string;
  /** API port (default 0: a free random port). */
  port?: number;
}

/**
 * Read-only snapshots of the simulated state.
 *
 * @example
 * ```ts
 * import { startSimulator } from "@vtcode/lmstudio/testing";
 * const sim = await startSimulator({ models: [{ key: "m" }], loaded: ["m"] });
 * console.log(sim.state.loaded()); // [{ key: "m", id: "m", contextLength: 4096 }]
 * await sim.close();
 * ```
 */
export interface SimulatorSnapshots {
  /** Downloaded models, defaults filled in. */
  models(): SimModel[];
  /** Loaded instances. */
  loaded(): SimLoadedInstance[];
  /** Loaded instances with what was asked and given (context), how and when they were loaded. */
  instances(): SimInstanceSnapshot[];
  /**
   * The loaded context of a model as a request's `model` names it: the instance with that id,
   * else the first instance of that key; undefined when it is not loaded.
   */
  contextLength(model: string): number | undefined;
  /** Download jobs as REST v1 status objects, plus the `model` key. */
  jobs(): object[];
}

/**
 * A running simulator. Close it in `after`/`t.after`.
 *
 * @example
 * ```ts
 * import { startSimulator, type Simulator } from "@vtcode/lmstudio/testing";
 * const sim: Simulator = await startSimulator({ models: [{ key: "m" }] });
 * sim.inject({ match: "/v1/models", kind: "close", times: 1 });
 * sim.failNextLoad("m", "out of memory");
 * await sim.close();
 * ```
 */
export interface Simulator {
  /** API base URL, `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** API port. */
  readonly port: number;
  /** Base URL of the always-on control listener (only `/__simulator/` routes). */
  readonly controlUrl: string;
  /** Every API request so far (control routes excluded), credentials redacted. */
  readonly requests: readonly RecordedRequest[];
  /** How many recorded requests match (exact path or RegExp on the path; optional method). */
  requestCount(match?: string | RegExp, method?: string): number;
  /** Forgets the recorded requests. */
  clearRequests(): void;
  /**
   * Adds a fault; the first matching fault applies to a request. Throws a TypeError naming the
   * field when the fault cannot work (unknown `kind` or field, `respond` without `body`, `redirect`
   * without `location`, `times` that is not a positive integer, ...).
   */
  inject(fault: SimFault): void;
  /** Removes every fault. */
  clearFaults(): void;
  /** The next download (of `key`, or any) fails once it reaches `atFraction` (default 0.5). */
  failNextDownload(key?: string, atFraction?: number): void;
  /** The next load (of `key`, or any; REST, JIT or `lms load`) fails with `message`. */
  failNextLoad(key?: string, message?: string): void;
  /** Moves a download (default: the newest unfinished) forward by `bytes` (default `"complete"`). */
  advanceDownload(jobId?: string, bytes?: number | "complete"): void;
  /** Pauses a download (status `paused`); default: the newest unfinished. */
  pauseDownload(jobId?: string): void;
  /** Resumes a paused download; default: the newest unfinished. */
  resumeDownload(jobId?: string): void;
  /** Snapshots of the state. */
  readonly state: SimulatorSnapshots;
  /** Adds a model as if downloaded (replaces one with the same key). */
  addModel(model: SimModel): void;
  /** Deletes a downloaded model and its instances; false when there was none. */
  removeModel(key: string): boolean;
  /**
   * Loads at once, as `lms load` does: a second load of a key makes `key:2`. The context is
   * auto-fitted like any load (`memory`, `fitContextLength`); the answer says what was given.
   */
  loadModel(key: string, opts?: { contextLength?: number; identifier?: string }): SimLoadedInstance;
  /** Unloads an instance; false when there was none. */
  unloadInstance(id: string): boolean;
  /** Turns JIT loading on or off. */
  setJit(on: boolean): void;
  /** Turns authentication on (with this token) or off (`undefined`). */
  setAuth(token: string | undefined): void;
  /**
   * Appends replies to the reply script (`SimulatorState.replies`): each inference request takes
   * the next one. Throws a TypeError on a malformed reply (and then adds none).
   */
  queueReplies(...replies: SimReply[]): void;
  /** Starts or stops the API listener (stopped: connections are refused). */
  setServerRunning(on: boolean): Promise<void>;
  /** Closes both listeners and every open connection (hung ones too). Idempotent. */
  close(): Promise<void>;
}

const SECRET_HEADERS = new Set(["authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"]);
const CONTROL_PREFIX = "/__simulator/";
const MAX_BODY_BYTES = 16 * 1024 * 1024;

interface ActiveFault {
  fault: SimFault;
  remaining: number;
}

function matches(match: string | RegExp | undefined, path: string): boolean {
  if (match === undefined) return true;
  if (typeof match === "string") return match === path;
  match.lastIndex = 0;
  return match.test(path);
}

function flattenHeaders(req: IncomingMessage, redact: boolean): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    headers[lower] = redact && SECRET_HEADERS.has(lower)
      ? "[redacted]"
      : Array.isArray(value)
      ? value.join(", ")
      : value;
  }
  return headers;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const encoder = new TextEncoder();
  for await (const chunk of req as AsyncIterable<Uint8Array | string>) {
    const bytes = typeof chunk === "string" ? encoder.encode(chunk) : chunk;
    size += bytes.length;
    if (size > MAX_BODY_BYTES) break;
    chunks.push(bytes);
  }
  const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.length;
  }
  return new TextDecoder().decode(all);
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => {
      server.off("listening", onListening);
      reject(error);
    };
    const onListening = (): void => {
      server.off("error", onError);
      const address = server.address();
      resolve(typeof address === "object" && address ? address.port : port);
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(port, host);
  });
}

function closeServer(server: Server, sockets: Set<Socket>): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    for (const socket of sockets) socket.destroy();
    sockets.clear();
  });
}

class SimulatorImpl implements Simulator {
  readonly #world: World;
  readonly #host: string;
  #port = 0;
  #controlPort = 0;
  #api: Server | undefined;
  readonly #apiSockets = new Set<Socket>();
  #control: Server | undefined;
  readonly #controlSockets = new Set<Socket>();
  readonly #requests: RecordedRequest[] = [];
  #faults: ActiveFault[] = [];
  readonly #intervals = new Set<ReturnType<typeof setInterval>>();
  #closing: Promise<void> | undefined;
  readonly state: SimulatorSnapshots;

  constructor(world: World, host: string) {
    this.#world = world;
    this.#host = host;
    this.state = {
      models: () => {
        world.tick();
        return [...world.models.values()].map(publicModel);
      },
      loaded: () => {
        world.tick();
        return world.instances.map((i) => ({ key: i.key, id: i.id, contextLength: i.contextLength }));
      },
      instances: () => {
        world.tick();
        return world.instances.map((i) => {
          const record = world.models.get(i.key)!;
          return {
            key: i.key,
            id: i.id,
            type: record.type,
            contextLength: i.contextLength,
            requestedContextLength: i.requestedContextLength,
            maxContextLength: record.maxContextLength,
            loadedBy: i.loadedBy,
            ttlMs: i.ttlMs,
            parallel: i.parallel,
          };
        });
      },
      contextLength: (model: string) => {
        world.tick();
        return world.loadedContextLength(model);
      },
      jobs: () => {
        const now = Date.now();
        world.tick(now);
        return world.downloads.all().map((job) => ({
          ...world.downloads.statusOf(job, now),
          model: job.model.key,
        }));
      },
    };
  }

  #urlFor(port: number): string {
    const host = this.#host.includes(":")
      ? `[${this.#host}]`
      : this.#host === "0.0.0.0"
      ? "127.0.0.1"
      : this.#host;
    return `http://${host}:${port}`;
  }

  get url(): string {
    return this.#urlFor(this.#port);
  }

  get port(): number {
    return this.#port;
  }

  get controlUrl(): string {
    return this.#urlFor(this.#controlPort);
  }

  get requests(): readonly RecordedRequest[] {
    return this.#requests;
  }

  #newServer(api: boolean): Server {
    const sockets = api ? this.#apiSockets : this.#controlSockets;
    const server = createServer((req, res) => {
      req.on("error", () => {});
      res.on("error", () => {});
      this.#handle(req, res, api).catch((error: unknown) => {
        this.#write(res, v1Error(500, "internal_error", `Simulator error: ${String(error)}`));
      });
    });
    server.on("connection", (socket: Socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => {});
    });
    server.on("clientError", (_error: Error, socket: Socket) => socket.destroy());
    return server;
  }

  async start(port: number, running: boolean): Promise<void> {
    this.#control = this.#newServer(false);
    this.#controlPort = await listen(this.#control, 0, this.#host);
    if (running) {
      await this.#startApi(port);
    } else {
      // Reserve a port number without holding it: the API is "off" until started.
      const probe = createServer();
      this.#port = await listen(probe, port, this.#host);
      await closeServer(probe, new Set());
    }
  }

  async #startApi(port: number): Promise<void> {
    const server = this.#newServer(true);
    this.#port = await listen(server, port, this.#host);
    this.#api = server;
    this.#world.serverPort = this.#port;
  }

  async setServerRunning(on: boolean): Promise<void> {
    if (this.#closing) return;
    if (on && !this.#api) await this.#startApi(this.#port);
    if (!on && this.#api) {
      const api = this.#api;
      this.#api = undefined;
      await closeServer(api, this.#apiSockets);
    }
  }

  #lmsHost(): LmsHost {
    return {
      world: this.#world,
      serverRunning: () => this.#api !== undefined,
      port: () => this.#port,
      startServer: async (port: number) => {
        if (this.#api && port === this.#port) return;
        if (this.#api) await this.setServerRunning(false);
        await this.#startApi(port);
      },
      stopServer: () => this.setServerRunning(false),
    };
  }

  requestCount(match?: string | RegExp, method?: string): number {
    const wanted = method?.toUpperCase();
    return this.#requests.filter((r) =>
      matches(match, r.path) && (wanted === undefined || r.method === wanted)
    ).length;
  }

  clearRequests(): void {
    this.#requests.length = 0;
  }

  inject(fault: SimFault): void {
    checkFault(fault);
    this.#faults.push({ fault, remaining: fault.times ?? Infinity });
  }

  clearFaults(): void {
    this.#faults = [];
  }

  failNextDownload(key?: string, atFraction = 0.5): void {
    this.#world.downloads.failNext(key, atFraction);
  }

  failNextLoad(key?: string, message?: string): void {
    this.#world.failNextLoad(key, message);
  }

  #job(jobId: string | undefined) {
    const downloads = this.#world.downloads;
    const job = jobId === undefined ? downloads.latestActive() : downloads.get(jobId);
    if (!job) {
      throw new Error(jobId === undefined ? "No unfinished download job" : `No download job ${jobId}`);
    }
    return job;
  }

  advanceDownload(jobId?: string, bytes: number | "complete" = "complete"): void {
    this.#world.downloads.advance(this.#job(jobId), bytes, Date.now());
  }

  pauseDownload(jobId?: string): void {
    this.#world.downloads.pause(this.#job(jobId), Date.now());
  }

  resumeDownload(jobId?: string): void {
    this.#world.downloads.resume(this.#job(jobId), Date.now());
  }

  addModel(model: SimModel): void {
    this.#world.addModel(model);
  }

  removeModel(key: string): boolean {
    return this.#world.removeModel(key);
  }

  loadModel(key: string, opts: { contextLength?: number; identifier?: string } = {}): SimLoadedInstance {
    try {
      const options: Parameters<World["addInstance"]>[1] = { loadedBy: "loadModel" };
      if (opts.contextLength !== undefined) options.contextLength = opts.contextLength;
      if (opts.identifier !== undefined) options.identifier = opts.identifier;
      const instance = this.#world.addInstance(key, options);
      return { key: instance.key, id: instance.id, contextLength: instance.contextLength };
    } catch (error) {
      if (error instanceof WorldError) throw new Error(error.message);
      throw error;
    }
  }

  unloadInstance(id: string): boolean {
    return this.#world.unload(id);
  }

  setJit(on: boolean): void {
    this.#world.jit = on;
  }

  setAuth(token: string | undefined): void {
    this.#world.authToken = token === "" ? undefined : token;
  }

  queueReplies(...replies: SimReply[]): void {
    queueScript(this.#world, replies, "queueReplies()");
  }

  close(): Promise<void> {
    if (!this.#closing) {
      this.#world.close();
      for (const interval of this.#intervals) clearInterval(interval);
      this.#intervals.clear();
      const servers: Promise<void>[] = [];
      if (this.#api) servers.push(closeServer(this.#api, this.#apiSockets));
      if (this.#control) servers.push(closeServer(this.#control, this.#controlSockets));
      this.#api = undefined;
      this.#closing = Promise.all(servers).then(() => {});
    }
    return this.#closing;
  }

  #takeFault(path: string, method: string): SimFault | undefined {
    const index = this.#faults.findIndex((f) =>
      matches(f.fault.match, path) &&
      (f.fault.method === undefined || f.fault.method.toUpperCase() === method)
    );
    if (index < 0) return undefined;
    const active = this.#faults[index]!;
    active.remaining--;
    if (active.remaining <= 0) this.#faults.splice(index, 1);
    return active.fault;
  }

  #write(res: ServerResponse, response: SimResponse): void {
    if (res.destroyed || res.writableEnded || res.headersSent) return;
    if (response.chunks) {
      res.writeHead(response.status, response.headers);
      for (const chunk of response.chunks) res.write(chunk);
      res.end();
      return;
    }
    const bytes = new TextEncoder().encode(response.body);
    res.writeHead(response.status, { ...response.headers, "content-length": String(bytes.length) });
    res.end(bytes);
  }

  async #handle(req: IncomingMessage, res: ServerResponse, api: boolean): Promise<void> {
    const time = Date.now();
    const url = new URL(req.url ?? "/", "http://simulator.invalid");
    const method = (req.method ?? "GET").toUpperCase();
    const path = url.pathname;
    const query = url.search.replace(/^\?/, "");
    const body = await readBody(req);
    if (path.startsWith(CONTROL_PREFIX)) {
      return this.#write(res, await this.#controlRoute(method, path, body));
    }
    if (!api) return this.#write(res, json(404, { error: `Only ${CONTROL_PREFIX} routes are served here.` }));
    this.#requests.push({ method, path, query, headers: flattenHeaders(req, true), body, time });
    const request = { method, path, query, headers: flattenHeaders(req, false), body };
    const fault = this.#takeFault(path, method);
    if (!fault) return this.#write(res, await answer(this.#world, request));
    switch (fault.kind) {
      case "delay":
        await this.#world.wait(Math.max(0, fault.ms));
        return this.#write(res, await answer(this.#world, request));
      case "hang":
        return; // Never answered; close() destroys the socket.
      case "close":
        req.socket.destroy();
        return;
      case "close-mid-body": {
        const normal = await answer(this.#world, request);
        const bytes = new TextEncoder().encode(normal.body);
        if (res.destroyed) return;
        res.writeHead(normal.status, { ...normal.headers, "content-length": String(bytes.length + 1) });
        res.write(bytes.subarray(0, Math.max(1, Math.floor(bytes.length / 2))), () => {
          this.#world.later(10, () => res.destroy());
        });
        return;
      }
      case "respond": {
        const isObject = typeof fault.body !== "string";
        const text = typeof fault.body === "string" ? fault.body : JSON.stringify(fault.body);
        return this.#write(res, {
          status: fault.status ?? 200,
          headers: {
            "content-type": fault.contentType ?? (isObject ? JSON_TYPE : "text/plain; charset=utf-8"),
            ...fault.headers,
          },
          body: text,
        });
      }
      case "size":
        return this.#streamSize(
          res,
          Math.max(0, Math.floor(fault.bytes)),
          fault.status ?? 200,
          fault.declareLength,
        );
      case "drip":
        return this.#drip(res, Math.max(1, fault.intervalMs), fault.chunk ?? " ");
      case "redirect":
        res.writeHead(fault.status ?? 302, { location: fault.location, "content-length": "0" });
        res.end();
        return;
    }
  }

  /** A body of exactly `bytes` bytes (valid JSON from 11 bytes up), chunked or of declared length, with backpressure. */
  #streamSize(res: ServerResponse, bytes: number, status: number, declareLength = false): void {
    res.writeHead(status, {
      "content-type": JSON_TYPE,
      ...(declareLength ? { "content-length": String(bytes) } : {}),
    });
    const head = bytes >= 11 ? '{"data":"' : "";
    const tail = bytes >= 11 ? '"}' : "";
    const encoder = new TextEncoder();
    let remaining = bytes - head.length - tail.length;
    let stopped = false;
    res.on("close", () => {
      stopped = true;
    });
    const block = encoder.encode("a".repeat(64 * 1024));
    if (head) res.write(head);
    const pump = (): void => {
      while (!stopped && remaining > 0) {
        const n = Math.min(remaining, block.length);
        remaining -= n;
        if (!res.write(n === block.length ? block : block.subarray(0, n))) {
          res.once("drain", pump);
          return;
        }
      }
      if (!stopped) res.end(tail);
    };
    pump();
  }

  #drip(res: ServerResponse, intervalMs: number, chunk: string): void {
    res.writeHead(200, { "content-type": JSON_TYPE });
    const interval = setInterval(() => {
      if (res.destroyed || res.writableEnded) return stop();
      res.write(chunk);
    }, intervalMs);
    const stop = (): void => {
      clearInterval(interval);
      this.#intervals.delete(interval);
    };
    this.#intervals.add(interval);
    res.on("close", stop);
  }

  async #controlRoute(method: string, path: string, text: string): Promise<SimResponse> {
    const world = this.#world;
    if (method === "GET" && path === "/__simulator/state") {
      const now = Date.now();
      world.tick(now);
      return json(200, {
        version: world.version,
        jit: world.jit,
        serverRunning: this.#api !== undefined,
        models: this.state.models(),
        loaded: this.state.loaded(),
        instances: this.state.instances(),
        jobs: this.state.jobs(),
      });
    }
    let body: Record<string, unknown>;
    try {
      body = text.trim() === "" ? {} : JSON.parse(text) as Record<string, unknown>;
    } catch {
      return v1Error(400, "invalid_request", "Control route body is not valid JSON.");
    }
    if (method === "POST" && path === "/__simulator/lms") {
      const argv = body.argv;
      if (!Array.isArray(argv) || !argv.every((a) => typeof a === "string")) {
        return v1Error(400, "invalid_request", '"argv" must be an array of strings', { param: "argv" });
      }
      return json(200, await runLms(this.#lmsHost(), argv as string[], body.dryRun === true));
    }
    if (method === "POST" && path === "/__simulator/lms/follow") {
      if (typeof body.jobId !== "string") {
        return v1Error(400, "invalid_request", '"jobId" is required', { param: "jobId" });
      }
      const frame = typeof body.frame === "number" ? body.frame : 0;
      return json(200, followDownload(this.#lmsHost(), body.jobId, frame));
    }
    return json(404, { error: `Unknown simulator control route (${method} ${path})` });
  }
}

/**
 * Starts a simulated LM Studio on loopback. Everything in `state` is optional: by default it is
 * version 0.4, with no models, JIT on, no auth, fast time-based downloads and 50 ms loads.
 *
 * @example
 * ```ts
 * import { startSimulator } from "@vtcode/lmstudio/testing";
 *
 * const sim = await startSimulator({
 *   models: [{ key: "openai/gpt-oss-20b", sizeBytes: 12_100_000_000 }],
 *   loaded: ["openai/gpt-oss-20b"],
 *   catalog: [{ key: "qwen/qwen3-4b-2507", sizeBytes: 2_500_000_000 }],
 * });
 * try {
 *   const res = await fetch(`${sim.url}/api/v1/models`);
 *   const { models } = await res.json();
 *   console.log(models[0].loaded_instances[0].id); // "openai/gpt-oss-20b"
 *   console.log(sim.requestCount("/api/v1/models")); // 1
 * } finally {
 *   await sim.close();
 * }
 * ```
 */
export async function startSimulator(
  state: SimulatorState = {},
  options: SimulatorOptions = {},
): Promise<Simulator> {
  checkOptions(options);
  const world = new World(state);
  if (state.replies !== undefined) queueScript(world, state.replies, "state.replies");
  const simulator = new SimulatorImpl(world, options.host ?? "127.0.0.1");
  try {
    await simulator.start(options.port ?? 0, state.serverRunning ?? true);
  } catch (error) {
    await simulator.close();
    throw error;
  }
  return simulator;
}
