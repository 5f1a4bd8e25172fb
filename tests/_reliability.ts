/**
 * Shared pieces of the reliability matrix (issue 8): the server-answer cases (used by the server
 * suite for codes and hints and by the secrets suite to scan every failure path), assertions on
 * typed rejections, process-table checks for `lms` children, a tracking proxy that shows whether
 * a client dropped its requests, and an unhandled-rejection collector.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import process from "node:process";
import { inspect } from "node:util";
import { type CliIO, runCli } from "../src/cli_main.ts";
import { LMStudioClient, type LMStudioClientOptions } from "../src/client.ts";
import type { CallOptions } from "../src/deadline.ts";
import type { ErrorCode, LMStudioError } from "../src/errors.ts";
import { Lms } from "../src/lms.ts";
import { createFakeLms, type FakeLms, type FakeLmsScript } from "../src/testing/fake_lms.ts";
import type { SimFault, Simulator, SimulatorState, SimulatorVersion } from "../src/testing/simulator.ts";
import { startSimulator } from "../src/testing/simulator.ts";
import { GPT, LMS_BACKED, NEW, OTHER_TOKEN, QWEN, TOKEN_PIECES, TYPICAL } from "./_fixtures.ts";
import { closedPortUrl, isAlive, rejectsWith, ROOT, startServer, until } from "./_helpers.ts";

/** Every `unhandledRejection` this module saw (the runners fail the test too; this makes it explicit). */
export const unhandled: unknown[] = [];
let collecting = false;
/** Starts collecting unhandled rejections (idempotent). */
export function collectUnhandledRejections(): unknown[] {
  if (!collecting) {
    collecting = true;
    process.on("unhandledRejection", (reason) => {
      unhandled.push(reason);
    });
  }
  return unhandled;
}

/** Lets pending rejections surface (a few macrotask turns), then asserts none was unhandled. */
export async function assertNoUnhandledRejections(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.deepEqual(unhandled.map(String), [], "no unhandled rejection");
}

/** Everything a thrown error can show: message, hint, JSON, util.inspect with its whole cause chain. */
export function everythingAbout(error: unknown): string {
  const parts = [inspect(error, { depth: 20, showHidden: false }), String(error)];
  let current: unknown = error;
  for (let i = 0; i < 20 && current !== undefined && current !== null; i++) {
    const e = current as { message?: unknown; stack?: unknown; hint?: unknown; cause?: unknown };
    parts.push(String(e.message ?? ""), String(e.stack ?? ""), String(e.hint ?? ""));
    try {
      parts.push(JSON.stringify(current));
    } catch {
      // Not serialisable: inspect above covers it.
    }
    current = e.cause;
  }
  return parts.join("\n");
}

/** Asserts that `text` holds neither the token (nor a piece of it) nor `user:password@` URL credentials. */
export function assertNoSecrets(text: string, where: string, extra: readonly string[] = []): void {
  for (const piece of [...TOKEN_PIECES, ...extra]) {
    assert.ok(!text.includes(piece), `${where} leaks ${JSON.stringify(piece)}:\n${text.slice(0, 2000)}`);
  }
  const credentials = /\b[a-z][a-z0-9+.-]*:\/\/(?!\[redacted\]@)[^\s/@"']+:[^\s/@"']+@/i.exec(text);
  assert.equal(credentials, null, `${where} shows URL credentials: ${credentials?.[0]}`);
}

// ---------------------------------------------------------------------------------------------
// Processes

/** Live processes (zombies excluded) whose command line mentions `needle`, from the process table. */
export function processesMentioning(needle: string): { pid: number; cmdline: string }[] {
  const found: { pid: number; cmdline: string }[] = [];
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return found;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
    } catch {
      continue;
    }
    if (cmdline.includes(needle) && isAlive(pid)) found.push({ pid, cmdline: cmdline.trim() });
  }
  return found;
}

/**
 * Asserts that none of `pids` and no process mentioning `dir` is alive, allowing a bounded moment
 * for a killed process to be reaped (it is not instantaneous). Not a timing assertion: the bound is
 * only there so that a leak fails instead of hanging.
 */
export async function assertNothingRunning(pids: readonly number[], dir: string): Promise<void> {
  let alive: number[] = [];
  let mentioning: { pid: number; cmdline: string }[] = [];
  for (let i = 0; i < 150; i++) {
    alive = pids.filter(isAlive);
    mentioning = processesMentioning(dir);
    if (alive.length === 0 && mentioning.length === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.deepEqual({ alive, mentioning }, { alive: [], mentioning: [] }, "a child process survived");
}

/** Kills whatever is left that mentions `dir` (cleanup after a failed test). */
export function killLeftovers(dir: string): void {
  for (const { pid } of processesMentioning(dir)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Gone already.
    }
  }
}

/** What {@linkcode withLmsRig} hands its body. */
export interface LmsRig {
  sim: Simulator;
  fake: FakeLms;
  /** A client on LM Studio 0.3 (no REST v1 download/load/unload), so `lms` does the work. */
  client: LMStudioClient;
  lms: Lms;
}

/**
 * Runs `body` against {@linkcode LMS_BACKED} (LM Studio 0.3, overridable by `state`) and a fake
 * `lms` playing `script` (backed by the simulator unless `simulatorBacked` is false); afterwards no
 * process of the fake may run and no rejection may be unhandled. Cleans up whatever happens.
 */
export async function withLmsRig(
  options: {
    script?: FakeLmsScript;
    state?: SimulatorState;
    simulatorBacked?: boolean;
    client?: Partial<LMStudioClientOptions>;
  },
  body: (rig: LmsRig) => Promise<void>,
): Promise<void> {
  const sim = await startSimulator({ ...LMS_BACKED, ...options.state });
  const fake = await createFakeLms({
    simulator: options.simulatorBacked === false ? undefined : sim,
    script: options.script,
  });
  try {
    const client = new LMStudioClient({
      baseUrl: sim.url,
      lmsPath: fake.path,
      env: () => undefined,
      ...options.client,
    });
    await body({ sim, fake, client, lms: new Lms(fake.path) });
    await assertNothingRunning(fake.pids(), fake.dir);
    await assertNoUnhandledRejections();
  } finally {
    killLeftovers(fake.dir);
    await fake.cleanup();
    await sim.close();
  }
}

// ---------------------------------------------------------------------------------------------
// A tracking proxy: shows whether the client still holds a connection for an unanswered request.

/** A loopback HTTP proxy in front of `target` that counts requests whose connection is still open. */
export interface TrackingProxy {
  /** Base URL of the proxy. */
  url: string;
  /** Requests not answered yet whose client connection is still open. */
  inFlight(): number;
  /** Requests seen so far. */
  seen(): number;
  close(): Promise<void>;
}

export async function startTrackingProxy(target: string): Promise<TrackingProxy> {
  const upstream = new URL(target);
  let open = 0;
  let seen = 0;
  const server = await startServer((req, res) => {
    open++;
    seen++;
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      open--;
      out.destroy();
    };
    const out = httpRequest({
      host: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: req.url,
      headers: req.headers,
      agent: false,
    }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.on("data", (chunk: Uint8Array) => res.write(chunk));
      answer.on("end", () => res.end());
      answer.on("error", () => res.destroy());
    });
    out.on("error", () => res.destroy());
    res.on("close", finish);
    req.on("data", (chunk: Uint8Array) => out.write(chunk));
    req.on("end", () => out.end());
  });
  return { url: server.url, inFlight: () => open, seen: () => seen, close: () => server.close() };
}

/** Asserts (with a bounded wait for the close to travel) that the client dropped every unanswered request. */
export async function assertNoOpenRequests(proxy: TrackingProxy): Promise<void> {
  for (let i = 0; i < 150 && proxy.inFlight() > 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.equal(proxy.inFlight(), 0, "the client still holds a connection for an unanswered request");
}

// ---------------------------------------------------------------------------------------------
// The CLI in-process

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  json?: {
    ok: boolean;
    command: string;
    baseUrl: string | null;
    baseUrlSource?: string;
    error?: { code: string; message: string; hint?: string };
  };
}

/** Runs the CLI in-process with exactly `env` as its environment. */
export async function cli(
  args: string[],
  env: Record<string, string> = {},
  io: Partial<CliIO> = {},
): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const code = await runCli(args, {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    env: (name) => env[name],
    stderrIsTTY: false,
    cwd: ROOT,
    ...io,
  });
  const run: CliRun = { code, stdout, stderr };
  if (args.includes("--json")) {
    assert.equal(stdout.trim().split("\n").length, 1, `exactly one JSON document: ${stdout}`);
    run.json = JSON.parse(stdout);
  }
  return run;
}

// ---------------------------------------------------------------------------------------------
// The server-answer matrix

/** What a case's call gets. */
export interface CaseContext {
  client: LMStudioClient;
  sim: Simulator;
  call: CallOptions;
}

/** One hostile server answer and what the library must make of it. */
export interface ServerCase {
  /** Endpoint family, for grouping. */
  group: string;
  name: string;
  /** Simulator version profile (default 0.4). */
  version?: SimulatorVersion;
  /** Extra simulator state. */
  state?: SimulatorState;
  /** Detect the API and consume the cached listing before the fault (default true). */
  warm?: boolean;
  /** The server expects another token than the client's (or than none). */
  wrongToken?: boolean;
  /** Faults to inject (after warming up). */
  faults?: SimFault[] | (() => Promise<SimFault[]>);
  /** Client options beyond the defaults. */
  client?: Partial<LMStudioClientOptions>;
  /** Point the client at a port where nothing listens. */
  refused?: boolean;
  /**
   * The operation; default deadline {@linkcode CASE_TIMEOUT_MS} (hangs set `timeoutMs`, and end there).
   */
  run: (ctx: CaseContext) => Promise<unknown>;
  /** The CLI command line that walks the same path (for the secrets scan), without --url/--json. */
  cli?: string[];
  code: ErrorCode;
  message?: RegExp;
  timeoutMs?: number;
}

const HTML_PAGE =
  "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>";
const NO_MODELS_LOADED =
  "No models loaded. Please load a model in the developer page or use the 'lms load' command.";
const LISTINGS = /^\/(?:api\/v[01]\/models|v1\/models)$/;
const HANG_MS = 500;

function respond(
  match: string | RegExp,
  status: number,
  body: string | object,
  contentType?: string,
): SimFault {
  const fault: SimFault = { match, kind: "respond", status, body };
  if (contentType !== undefined) (fault as { contentType?: string }).contentType = contentType;
  return fault;
}

const v1Error = (type: string, message: string, code?: string) => ({
  error: { type, message, ...(code ? { code } : {}) },
});
const openAiError = (message: string, code: string | null) => ({
  error: { message, type: "invalid_request_error", param: "model", code },
});

/** A server that accepts and never answers, and one that drips bytes forever: both end at the deadline. */
function stalls<B extends Omit<ServerCase, "name" | "code">>(
  base: B,
  path: string,
  hangName: string,
): ServerCase[] {
  return [
    { ...base, name: hangName, faults: [{ match: path, kind: "hang" }], code: "TIMEOUT", timeoutMs: HANG_MS },
    {
      ...base,
      name: "a slow drip of bytes",
      faults: [{ match: path, kind: "drip", intervalMs: 40 }],
      code: "TIMEOUT",
      timeoutMs: HANG_MS,
    },
  ];
}

function listingCases(): ServerCase[] {
  const path = "/api/v1/models";
  const list = (ctx: CaseContext) => ctx.client.listModels(ctx.call);
  const base = { group: "GET /api/v1/models (REST v1 listing)", run: list, cli: ["models"] };
  const cases: ServerCase[] = [
    {
      ...base,
      name: "200 text/plain, not JSON",
      faults: [respond(path, 200, "OK")],
      code: "INVALID_RESPONSE",
    },
    {
      ...base,
      name: "200 HTML error page",
      faults: [respond(path, 200, HTML_PAGE, "text/html")],
      code: "INVALID_RESPONSE",
    },
    {
      ...base,
      name: "200 empty body",
      faults: [respond(path, 200, "", "application/json")],
      code: "INVALID_RESPONSE",
    },
    {
      ...base,
      name: "JSON of the wrong shape (models is a string)",
      faults: [respond(path, 200, { models: "many" })],
      code: "INVALID_RESPONSE",
      message: /models/,
    },
    {
      ...base,
      name: "a JSON array instead of an object",
      faults: [respond(path, 200, [])],
      code: "INVALID_RESPONSE",
    },
    {
      ...base,
      name: "JSON null",
      faults: [respond(path, 200, "null", "application/json")],
      code: "INVALID_RESPONSE",
    },
    {
      ...base,
      name: "an entry without its key",
      faults: [respond(path, 200, { models: [{ type: "llm", display_name: "X" }] })],
      code: "INVALID_RESPONSE",
      message: /key/,
    },
    {
      ...base,
      name: "200 with an error body",
      faults: [respond(path, 200, v1Error("internal_error", "database is locked"))],
      code: "INVALID_RESPONSE",
      message: /database is locked/,
    },
    {
      ...base,
      name: "an error message of 5 MB",
      faults: [respond(path, 500, { error: { message: "x".repeat(5_000_000) } })],
      code: "INVALID_RESPONSE",
    },
    {
      ...base,
      name: "an error object nested 200 000 deep",
      faults: [
        respond(
          path,
          200,
          `{"error":{"detail":${"[".repeat(200_000)}${"]".repeat(200_000)}}}`,
          "application/json",
        ),
      ],
      code: "INVALID_RESPONSE",
    },
    {
      ...base,
      name: "a listing nested 200 000 deep",
      faults: [
        respond(path, 200, `{"models":${"[".repeat(200_000)}${"]".repeat(200_000)}}`, "application/json"),
      ],
      code: "INVALID_RESPONSE",
    },
    {
      ...base,
      name: "401 in LM Studio's error shape",
      faults: [
        respond(
          path,
          401,
          v1Error("invalid_request", "An LM Studio API token is required", "invalid_api_key"),
        ),
      ],
      code: "AUTH_REQUIRED",
    },
    {
      ...base,
      name: "403 without an error shape (HTML)",
      faults: [respond(path, 403, HTML_PAGE, "text/html")],
      code: "AUTH_REQUIRED",
    },
    {
      ...base,
      name: "404 in LM Studio's error shape",
      faults: [respond(path, 404, v1Error("not_found", "Not found"))],
      code: "INVALID_RESPONSE",
    },
    {
      ...base,
      name: "404 plain text",
      faults: [respond(path, 404, "404 page not found")],
      code: "INVALID_RESPONSE",
    },
    {
      ...base,
      name: "500 in LM Studio's error shape",
      faults: [respond(path, 500, v1Error("internal_error", "Unexpected error"))],
      code: "INVALID_RESPONSE",
      message: /500/,
    },
    {
      ...base,
      name: "500 plain text",
      faults: [respond(path, 500, "Internal Server Error")],
      code: "INVALID_RESPONSE",
    },
    {
      ...base,
      name: "503 HTML",
      faults: [respond(path, 503, HTML_PAGE, "text/html")],
      code: "INVALID_RESPONSE",
    },
    {
      ...base,
      name: "503 in LM Studio's error shape",
      faults: [respond(path, 503, v1Error("service_unavailable", "Model runtime is restarting"))],
      code: "INVALID_RESPONSE",
    },
    {
      ...base,
      name: "truncated JSON (a complete HTTP answer)",
      faults: [respond(path, 200, '{"models":[{"type":"llm","key":"openai/gpt', "application/json")],
      code: "INVALID_RESPONSE",
    },
    {
      ...base,
      // Its length is declared: read by text(), which must fail as the stream reader does.
      name: "connection closed mid-body",
      faults: [{ match: path, kind: "close-mid-body" }],
      code: "INVALID_RESPONSE",
      message: /broke off/,
    },
    {
      ...base,
      name: "connection closed before any answer",
      faults: [{ match: path, kind: "close" }],
      code: "SERVER_UNREACHABLE",
    },
    ...stalls(base, path, "accepts and never answers"),
    {
      ...base,
      name: "a 100 MB body (reading stops at the cap)",
      faults: [{ match: path, kind: "size", bytes: 100_000_000 }],
      code: "INVALID_RESPONSE",
      message: /larger than/,
    },
    {
      ...base,
      name: "a 100 MB body of declared length (reading stops at the cap)",
      faults: [{ match: path, kind: "size", bytes: 100_000_000, declareLength: true }],
      code: "INVALID_RESPONSE",
      message: /larger than/,
    },
    {
      ...base,
      name: "a redirect to the same path (never followed: LM Studio does not redirect)",
      faults: [{ match: path, kind: "redirect", location: path }],
      code: "NOT_LMSTUDIO",
      message:
        /redirected .* \(HTTP 302\) to http:\/\/127\.0\.0\.1:\d+\/api\/v1\/models; LM Studio never redirects/,
    },
    {
      ...base,
      name: "a redirect to file:///etc/passwd",
      faults: [{ match: path, kind: "redirect", location: "file:///etc/passwd" }],
      code: "NOT_LMSTUDIO",
      message: /file:/,
    },
    {
      ...base,
      name: "a redirect to javascript:",
      faults: [{ match: path, kind: "redirect", location: "javascript:alert(1)" }],
      code: "NOT_LMSTUDIO",
      message: /javascript:/,
    },
    {
      ...base,
      name: "a redirect without a Location",
      faults: [respond(path, 302, "")],
      code: "NOT_LMSTUDIO",
      message: /no Location/,
    },
    {
      ...base,
      name: "a redirect to a port where nothing listens (not followed, so not 'unreachable')",
      faults:
        async () => [{ match: path, kind: "redirect", location: `${await closedPortUrl()}/api/v1/models` }],
      code: "NOT_LMSTUDIO",
    },
  ];
  return cases;
}

function otherListingCases(): ServerCase[] {
  const list = (ctx: CaseContext) => ctx.client.listModels(ctx.call);
  const v0 = {
    group: "GET /api/v0/models (REST v0 listing)",
    version: "0.3" as const,
    run: list,
    cli: ["models"],
  };
  const openai = {
    group: "GET /v1/models (OpenAI listing)",
    version: "0.2" as const,
    run: list,
    cli: ["models"],
  };
  return [
    {
      ...v0,
      name: "data is an object",
      faults: [respond("/api/v0/models", 200, { data: {} })],
      code: "INVALID_RESPONSE",
    },
    {
      ...v0,
      name: "an entry with an empty id",
      faults: [respond("/api/v0/models", 200, { object: "list", data: [{ id: "", state: "loaded" }] })],
      code: "INVALID_RESPONSE",
    },
    {
      ...v0,
      name: "500 HTML",
      faults: [respond("/api/v0/models", 500, HTML_PAGE, "text/html")],
      code: "INVALID_RESPONSE",
    },
    {
      ...v0,
      name: "connection closed",
      faults: [{ match: "/api/v0/models", kind: "close" }],
      code: "SERVER_UNREACHABLE",
    },
    {
      ...openai,
      name: "no data array",
      faults: [respond("/v1/models", 200, { object: "list" })],
      code: "INVALID_RESPONSE",
    },
    {
      ...openai,
      name: "ids that are numbers",
      faults: [respond("/v1/models", 200, { object: "list", data: [{ id: 7, object: "model" }] })],
      code: "INVALID_RESPONSE",
    },
    {
      ...openai,
      name: "200 with LM Studio's unknown-route error",
      faults: [respond("/v1/models", 200, { error: "Unexpected endpoint or method. (GET /v1/models)" })],
      code: "INVALID_RESPONSE",
    },
    {
      ...openai,
      name: "accepts and never answers",
      faults: [{ match: "/v1/models", kind: "hang" }],
      code: "TIMEOUT",
      timeoutMs: HANG_MS,
    },
  ];
}

function checkCases(): ServerCase[] {
  const check = (ctx: CaseContext) => ctx.client.check(ctx.call);
  const base = { group: "check: API detection and the greeting", warm: false, run: check, cli: ["check"] };
  const notFound = (match: string | RegExp) => respond(match, 404, "404 page not found");
  return [
    { ...base, name: "nothing listens (connection refused)", refused: true, code: "SERVER_UNREACHABLE" },
    {
      ...base,
      name: "every endpoint closes the connection",
      faults: [{ match: /.*/, kind: "close" }],
      code: "SERVER_UNREACHABLE",
    },
    {
      ...base,
      name: "an HTML 404 everywhere (some web server)",
      faults: [respond(/.*/, 404, "<html><body>Not Found</body></html>", "text/html")],
      code: "NOT_LMSTUDIO",
    },
    { ...base, name: "empty 200 answers everywhere", faults: [respond(/.*/, 200, "")], code: "NOT_LMSTUDIO" },
    {
      ...base,
      name: "OpenAI-compatible but no LM Studio greeting (Ollama, llama.cpp)",
      faults: [notFound(/^\/api\//), notFound("/lmstudio-greeting")],
      code: "NOT_LMSTUDIO",
    },
    {
      ...base,
      name: "a greeting that is not LM Studio's",
      faults: [notFound(/^\/api\//), respond("/lmstudio-greeting", 200, { lmstudio: "yes" })],
      code: "NOT_LMSTUDIO",
    },
    {
      ...base,
      name: "a 100 MB greeting",
      faults: [notFound(/^\/api\//), { match: "/lmstudio-greeting", kind: "size", bytes: 100_000_000 }],
      code: "NOT_LMSTUDIO",
    },
    {
      ...base,
      name: "a greeting that never answers",
      faults: [notFound(/^\/api\//), { match: "/lmstudio-greeting", kind: "hang" }],
      code: "TIMEOUT",
      timeoutMs: HANG_MS,
    },
    {
      ...base,
      name: "LM Studio whose every listing fails",
      faults: [
        respond("/api/v1/models", 200, { error: "Unexpected endpoint or method. (GET /api/v1/models)" }),
        respond(LISTINGS, 500, v1Error("internal_error", "Unexpected error")),
      ],
      code: "INVALID_RESPONSE",
    },
    {
      ...base,
      name: "a token is required and none or a wrong one is sent",
      wrongToken: true,
      code: "AUTH_REQUIRED",
    },
    {
      ...base,
      name: "the listing never answers",
      faults: [{ match: "/api/v1/models", kind: "hang" }],
      code: "TIMEOUT",
      timeoutMs: HANG_MS,
    },
    {
      ...base,
      name: "a 100 MB listing",
      faults: [{ match: "/api/v1/models", kind: "size", bytes: 100_000_000 }],
      code: "INVALID_RESPONSE",
    },
  ];
}

function downloadCases(): ServerCase[] {
  const post = "/api/v1/models/download";
  const status = /^\/api\/v1\/models\/download\/status\//;
  const download = (ctx: CaseContext) => ctx.client.downloadModel(NEW.key, ctx.call);
  const base = { group: "POST /api/v1/models/download + status", run: download, cli: ["download", NEW.key] };
  return [
    { ...base, name: "start: not JSON", faults: [respond(post, 200, "Accepted")], code: "INVALID_RESPONSE" },
    {
      ...base,
      name: "start: an unknown status",
      faults: [respond(post, 200, { status: "thinking" })],
      code: "INVALID_RESPONSE",
    },
    {
      ...base,
      name: "start: downloading without a job_id",
      faults: [respond(post, 200, { status: "downloading", total_size_bytes: 10 })],
      code: "INVALID_RESPONSE",
    },
    {
      ...base,
      name: "start: 500 in LM Studio's error shape",
      faults: [respond(post, 500, v1Error("internal_error", "No space left on device"))],
      code: "DOWNLOAD_FAILED",
      message: /No space left/,
    },
    {
      ...base,
      name: "start: 404 model_not_found",
      faults: [respond(post, 404, v1Error("model_not_found", "No model in the catalog", "model_not_found"))],
      code: "MODEL_NOT_FOUND",
    },
    {
      ...base,
      name: "start: 502 HTML",
      faults: [respond(post, 502, HTML_PAGE, "text/html")],
      code: "INVALID_RESPONSE",
    },
    {
      ...base,
      name: "start: a job_id that climbs out of the status path",
      faults: [respond(post, 200, { status: "downloading", job_id: "../../../v1/models?x=1#y" })],
      run: async (ctx) => {
        try {
          return await download(ctx);
        } finally {
          // The id is one encoded path segment: nothing but the status route was asked.
          const paths = ctx.sim.requests.map((q) => q.path).filter((p) =>
            p !== post && p !== "/api/v1/models"
          );
          assert.ok(
            paths.length > 0 && paths.every((p) => p.startsWith("/api/v1/models/download/status/")),
            paths.join(),
          );
        }
      },
      code: "DOWNLOAD_FAILED",
    },
    {
      ...base,
      name: "start: a redirect of the POST",
      faults: [{ match: post, kind: "redirect", location: "/elsewhere", status: 302 }],
      code: "NOT_LMSTUDIO",
    },
    {
      ...base,
      name: "start: connection closed",
      faults: [{ match: post, kind: "close" }],
      code: "SERVER_UNREACHABLE",
    },
    {
      ...base,
      name: "status: 502 HTML",
      faults: [respond(status, 502, HTML_PAGE, "text/html")],
      code: "INVALID_RESPONSE",
    },
    {
      ...base,
      name: "status: 200 with an error body",
      faults: [respond(status, 200, v1Error("internal_error", "Job crashed"))],
      code: "DOWNLOAD_FAILED",
      message: /Job crashed/,
    },
    {
      ...base,
      name: "status: 404 for the job",
      faults: [respond(status, 404, v1Error("not_found", "No download job with that id"))],
      code: "DOWNLOAD_FAILED",
    },
    {
      ...base,
      name: "status: never answers",
      faults: [{ match: status, kind: "hang" }],
      code: "TIMEOUT",
      timeoutMs: HANG_MS,
    },
    {
      ...base,
      name: "status: closed mid-body",
      faults: [{ match: status, kind: "close-mid-body" }],
      code: "INVALID_RESPONSE",
    },
    {
      ...base,
      name: "a job that never completes",
      state: { download: { mode: "manual" } },
      code: "TIMEOUT",
      timeoutMs: 700,
    },
    {
      ...base,
      name: "a job that fails half-way",
      run: (ctx) => {
        ctx.sim.failNextDownload(NEW.key, 0.5);
        return download(ctx);
      },
      code: "DOWNLOAD_FAILED",
    },
    {
      ...base,
      name: "a job paused in LM Studio",
      state: { download: { mode: "manual" } },
      run: async (ctx) => {
        const running = download(ctx);
        running.catch(() => {});
        await until("the download job", () => ctx.sim.state.jobs().length > 0);
        ctx.sim.pauseDownload();
        return await running;
      },
      code: "DOWNLOAD_FAILED",
      message: /paused/,
    },
  ];
}

function loadCases(): ServerCase[] {
  const path = "/api/v1/models/load";
  const load = (ctx: CaseContext) => ctx.client.loadModel(GPT.key, ctx.call);
  const base = { group: "POST /api/v1/models/load", run: load, cli: ["load", GPT.key] };
  return [
    {
      ...base,
      name: "200 {} without instance_id",
      faults: [respond(path, 200, {})],
      code: "INVALID_RESPONSE",
    },
    {
      ...base,
      name: "200 HTML",
      faults: [respond(path, 200, HTML_PAGE, "text/html")],
      code: "INVALID_RESPONSE",
    },
    {
      ...base,
      name: "500 in LM Studio's error shape",
      faults: [respond(path, 500, v1Error("internal_error", "Failed to allocate 12 GB"))],
      code: "LOAD_FAILED",
      message: /allocate/,
    },
    {
      ...base,
      name: "200 with an error body",
      faults: [respond(path, 200, v1Error("internal_error", "Engine crashed"))],
      code: "LOAD_FAILED",
    },
    { ...base, name: "502 HTML", faults: [respond(path, 502, HTML_PAGE, "text/html")], code: "LOAD_FAILED" },
    {
      ...base,
      name: "404 model_not_found",
      faults: [respond(path, 404, v1Error("model_not_found", "Model not found", "model_not_found"))],
      code: "MODEL_NOT_FOUND",
    },
    ...stalls(base, path, "never answers"),
    {
      ...base,
      name: "closed mid-body",
      faults: [{ match: path, kind: "close-mid-body" }],
      code: "INVALID_RESPONSE",
    },
    {
      ...base,
      name: "the load fails in LM Studio",
      run: (ctx) => {
        ctx.sim.failNextLoad(GPT.key, "Insufficient VRAM");
        return load(ctx);
      },
      code: "LOAD_FAILED",
      message: /Insufficient VRAM/,
    },
  ];
}

function unloadCases(): ServerCase[] {
  const path = "/api/v1/models/unload";
  const unload = (ctx: CaseContext) => ctx.client.unloadModel(QWEN.key, ctx.call);
  const base = { group: "POST /api/v1/models/unload", run: unload, cli: ["unload", QWEN.key] };
  return [
    {
      ...base,
      name: "500 in LM Studio's error shape",
      faults: [respond(path, 500, v1Error("internal_error", "Instance is busy"))],
      code: "INTERNAL",
      message: /busy/,
    },
    {
      ...base,
      name: "200 HTML",
      faults: [respond(path, 200, HTML_PAGE, "text/html")],
      code: "INVALID_RESPONSE",
    },
    {
      ...base,
      name: "200 with LM Studio's unknown-route error",
      faults: [respond(path, 200, { error: "Unexpected endpoint or method. (POST /api/v1/models/unload)" })],
      code: "INTERNAL",
    },
    {
      ...base,
      name: "never answers",
      faults: [{ match: path, kind: "hang" }],
      code: "TIMEOUT",
      timeoutMs: HANG_MS,
    },
    {
      ...base,
      name: "connection closed",
      faults: [{ match: path, kind: "close" }],
      code: "SERVER_UNREACHABLE",
    },
  ];
}

function warmUpCases(): ServerCase[] {
  // A remote LM Studio 0.3 (no REST load): the load is a one-token request that loads just in time.
  const load = (ctx: CaseContext) => ctx.client.loadModel(GPT.key, ctx.call);
  const responses = "/v1/responses";
  const chat = "/v1/chat/completions";
  const base = {
    group: "POST /v1/responses and /v1/chat/completions (JIT warm-up)",
    version: "0.3" as const,
    client: { local: false },
    run: load,
    cli: ["load", GPT.key],
  };
  return [
    {
      ...base,
      name: "responses: 200 HTML",
      faults: [respond(responses, 200, HTML_PAGE, "text/html")],
      code: "INVALID_RESPONSE",
    },
    {
      ...base,
      name: "responses: 200 empty body",
      faults: [respond(responses, 200, "")],
      code: "INVALID_RESPONSE",
    },
    {
      ...base,
      name: "responses: 404 model_not_found (OpenAI shape)",
      faults: [
        respond(responses, 404, openAiError("Model not found: openai/gpt-oss-20b", "model_not_found")),
      ],
      code: "MODEL_NOT_FOUND",
    },
    {
      ...base,
      name: "responses: no models loaded and JIT off",
      faults: [respond(responses, 400, openAiError(NO_MODELS_LOADED, null))],
      code: "LOAD_FAILED",
      message: /No models loaded/,
    },
    {
      ...base,
      name: "responses: answered by another model",
      faults: [
        respond(responses, 200, {
          id: "resp_1",
          object: "response",
          model: "qwen/qwen3-4b-2507",
          output: [],
        }),
      ],
      code: "LOAD_FAILED",
    },
    {
      ...base,
      name: "responses: never answers",
      faults: [{ match: responses, kind: "hang" }],
      code: "TIMEOUT",
      timeoutMs: HANG_MS,
    },
    {
      ...base,
      name: "chat/completions fallback: 500 HTML",
      faults: [
        respond(responses, 200, { error: "Unexpected endpoint or method. (POST /v1/responses)" }),
        respond(chat, 500, HTML_PAGE, "text/html"),
      ],
      code: "LOAD_FAILED",
    },
    {
      ...base,
      name: "chat/completions fallback: connection closed",
      faults: [
        respond(responses, 200, { error: "Unexpected endpoint or method. (POST /v1/responses)" }),
        { match: chat, kind: "close" },
      ],
      code: "SERVER_UNREACHABLE",
    },
  ];
}

/** The whole server-answer matrix. */
export const SERVER_CASES: readonly ServerCase[] = [
  ...listingCases(),
  ...otherListingCases(),
  ...checkCases(),
  ...downloadCases(),
  ...loadCases(),
  ...unloadCases(),
  ...warmUpCases(),
];

/** The simulator state every case starts from. */
export function caseState(c: ServerCase, token?: string): SimulatorState {
  const state: SimulatorState = {
    ...TYPICAL,
    version: c.version ?? "0.4",
    download: { mode: "time", bytesPerSecond: 3_000_000_000_000 },
    ...c.state,
  };
  if (c.wrongToken) state.auth = { token: OTHER_TOKEN };
  else if (token) state.auth = { token };
  return state;
}

/**
 * The deadline of a case that does not hang: it is there only to bound a failure, since the case
 * asserts which error comes, not how fast. Generous, because the first malformed answer of a process
 * loads zod inside it, and some cases move 100 MB.
 */
export const CASE_TIMEOUT_MS = 20_000;

/** Runs one case: simulator, client (never any real `lms`), warm-up, faults, the call. Returns the rejection. */
export async function runServerCase(
  c: ServerCase,
  options: { token?: string; hangMs?: number } = {},
): Promise<{ error: LMStudioError; sim: Simulator }> {
  const sim = await startSimulator(caseState(c, options.token));
  try {
    const client = new LMStudioClient({
      baseUrl: c.refused ? await closedPortUrl() : sim.url,
      apiToken: options.token,
      env: () => undefined,
      lmsPath: "/nonexistent/lms-must-not-run",
      pollIntervalMs: 20,
      ...c.client,
    });
    if (c.warm !== false) {
      await client.check();
      await client.listModels();
    }
    const faults = typeof c.faults === "function" ? await c.faults() : c.faults ?? [];
    for (const fault of faults) sim.inject(fault);
    const error = await rejectsWith(
      c.run({
        client,
        sim,
        call: {
          timeoutMs: c.timeoutMs ? Math.min(c.timeoutMs, options.hangMs ?? c.timeoutMs) : CASE_TIMEOUT_MS,
        },
      }),
      c.code,
      c.message,
    );
    return { error, sim };
  } finally {
    await sim.close();
  }
}

/** Starts a simulator for the case (faults injected, no warm-up) and returns its URL, for CLI runs. */
export async function simulatorForCli(
  c: ServerCase,
  token?: string,
): Promise<{ url: string; close(): Promise<void> }> {
  const sim = await startSimulator(caseState(c, token));
  const faults = typeof c.faults === "function" ? await c.faults() : c.faults ?? [];
  for (const fault of faults) sim.inject(fault);
  return { url: c.refused ? await closedPortUrl() : sim.url, close: () => sim.close() };
}
