/**
 * Reliability matrix, part 5 (issue 8): cancellation. Every public operation honours its
 * AbortSignal — mid-request, mid-poll, mid-`lms`, and when the signal is aborted before it starts —
 * rejecting with INTERRUPTED and cleaning up: the client drops its unanswered requests (seen from a
 * tracking proxy in front of the simulator), no `lms` process or child survives (seen in the
 * process table), and nothing is left to keep a process alive (a script that aborts everything then
 * exits on its own). Ctrl-C on the CLI exits 130 with nothing left running.
 *
 * Speed is not asserted here (project rule: benchmarks show speed); hangs are caught by deadlines.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { LMStudioClient, type LMStudioClientOptions } from "../src/client.ts";
import { CLEANUP_GRACE_MS, sleep, withDeadline } from "../src/deadline.ts";
import { ensureReady } from "../src/ensure.ts";
import { ensureOssReady } from "../src/ensure_oss.ts";
import type { LMStudioError } from "../src/errors.ts";
import { type FetchLike, request } from "../src/http.ts";
import { Lms } from "../src/lms.ts";
import { runLms } from "../src/lms_run.ts";
import { createFakeLms, type FakeLms } from "../src/testing/fake_lms.ts";
import {
  type SimFault,
  type Simulator,
  type SimulatorState,
  startSimulator,
} from "../src/testing/simulator.ts";
import { GPT, LMS_BACKED, NEW, QWEN, TYPICAL } from "./_fixtures.ts";
import { cliCommand, closedPortUrl, interruptCli, rejectsWith, ROOT, until } from "./_helpers.ts";
import {
  assertNoOpenRequests,
  assertNoUnhandledRejections,
  cli,
  collectUnhandledRejections,
  type LmsRig,
  startTrackingProxy,
  type TrackingProxy,
  withLmsRig,
} from "./_reliability.ts";

collectUnhandledRejections();

const posix = process.platform !== "win32";
const T = { timeout: 10_000 };
/** Tests that start the CLI as a process (a cold start can take seconds on a loaded machine). */
const CLI_T = { timeout: 30_000 };

/**
 * Starts `start`, waits until `started()`, aborts, and expects INTERRUPTED. Always aborts, and calls
 * `aborted()` right after.
 */
async function cancels(
  start: (signal: AbortSignal) => Promise<unknown>,
  started: () => boolean,
  what: string,
  aborted: () => void = () => {},
): Promise<LMStudioError> {
  const controller = new AbortController();
  const running = start(controller.signal);
  running.catch(() => {});
  try {
    await until(what, started);
  } finally {
    controller.abort();
    aborted();
  }
  return await rejectsWith(running, "INTERRUPTED");
}

interface HttpRig {
  sim: Simulator;
  proxy: TrackingProxy;
  client: LMStudioClient;
}

/** A simulator behind a tracking proxy, a client on the proxy, faults injected after an optional warm-up. */
async function withHttp(
  options: {
    state?: SimulatorState;
    faults?: SimFault[];
    warm?: boolean;
    client?: Partial<LMStudioClientOptions>;
  },
  body: (rig: HttpRig) => Promise<void>,
): Promise<void> {
  const sim = await startSimulator({ ...TYPICAL, download: { mode: "manual" }, ...options.state });
  const proxy = await startTrackingProxy(sim.url);
  try {
    const client = new LMStudioClient({
      baseUrl: proxy.url,
      env: () => undefined,
      lmsPath: "/nonexistent/lms-must-not-run",
      pollIntervalMs: 20,
      ...options.client,
    });
    if (options.warm) {
      await client.check();
      await client.listModels();
    }
    for (const fault of options.faults ?? []) sim.inject(fault);
    await body({ sim, proxy, client });
    await assertNoOpenRequests(proxy);
    await assertNoUnhandledRejections();
  } finally {
    await proxy.close();
    await sim.close();
  }
}

/** LM Studio 0.3 (so `lms` does the work) and a fake `lms` whose every command hangs with a child. */
function withHangingLms(body: (rig: LmsRig) => Promise<void>, state: SimulatorState = {}): Promise<void> {
  return withLmsRig({ script: { "*": { hangWithChild: true } }, state }, body);
}

const hang = (match: string | RegExp): SimFault => ({ match, kind: "hang" });
const STATUS = /^\/api\/v1\/models\/download\/status\//;

/** A `fetch` for the client that counts the download-status polls it sends. */
function countingPolls(): { fetch: FetchLike; sent(): number } {
  let sent = 0;
  return {
    fetch: (url, init) => {
      if (STATUS.test(new URL(url).pathname)) sent++;
      return fetch(url, init);
    },
    sent: () => sent,
  };
}

/**
 * After an abort, the download is not polled any more. Settles first (the poll that was on the wire,
 * if any, answered or dropped), then gives a poller that went on ~15 poll intervals (300 ms) to show.
 * What is counted cannot be late: the polls the client *sent* after the abort (none), and the ones
 * the server saw (only polls sent before the abort; the one on the wire may land late, or never).
 */
async function assertNoMorePolls(
  sim: Simulator,
  proxy: TrackingProxy,
  polls: { sent(): number },
  sentAtAbort: number,
): Promise<void> {
  await assertNoOpenRequests(proxy);
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(polls.sent(), sentAtAbort, "no poll after the abort");
  assert.ok(
    sim.requestCount(STATUS) <= sentAtAbort,
    `the server saw ${sim.requestCount(STATUS)} polls, the client sent ${sentAtAbort} before the abort`,
  );
}

describe("reliability: abort during an HTTP request drops it", () => {
  const listing = [hang("/api/v1/models")];
  const cases: [
    string,
    Parameters<typeof withHttp>[0],
    (c: LMStudioClient, signal: AbortSignal) => Promise<unknown>,
  ][] = [
    ["check", { faults: listing }, (c, signal) => c.check({ signal })],
    ["detectApi", { faults: listing }, (c, signal) => c.detectApi({ signal })],
    ["listModels", { faults: listing, warm: true }, (c, signal) => c.listModels({ signal })],
    ["fetchModels", { faults: listing, warm: true }, (c, signal) => c.fetchModels({ signal })],
    ["findModel", { faults: listing, warm: true }, (c, signal) => c.findModel(GPT.key, { signal })],
    [
      "downloadModel (REST, start)",
      { faults: [hang("/api/v1/models/download")] },
      (c, signal) => c.downloadModel(NEW.key, { signal }),
    ],
    [
      "downloadModel (REST, status)",
      { faults: [hang(STATUS)] },
      (c, signal) => c.downloadModel(NEW.key, { signal }),
    ],
    [
      "loadModel (REST)",
      { faults: [hang("/api/v1/models/load")] },
      (c, signal) => c.loadModel(GPT.key, { signal }),
    ],
    [
      "loadModel (JIT warm-up)",
      { state: { version: "0.3" }, client: { local: false }, faults: [hang("/v1/responses")] },
      (c, signal) => c.loadModel(GPT.key, { signal }),
    ],
    [
      "unloadModel (REST)",
      { faults: [hang("/api/v1/models/unload")] },
      (c, signal) => c.unloadModel(QWEN.key, { signal }),
    ],
    [
      "unloadModel --all (REST)",
      { faults: [hang("/api/v1/models/unload")] },
      (c, signal) => c.unloadModel({ all: true }, { signal }),
    ],
    [
      "LMStudioClient.tryFromProvider",
      { faults: listing },
      (c, signal) => LMStudioClient.tryFromProvider({ baseUrl: c.baseUrl }, { env: () => undefined, signal }),
    ],
    [
      "ensureReady",
      { faults: [hang("/api/v1/models/load")] },
      (c, signal) => ensureReady({ client: c, model: GPT.key, signal }),
    ],
    [
      "ensureOssReady",
      { faults: [hang("/api/v1/models/download")] },
      (c, signal) => ensureOssReady({ baseUrl: c.baseUrl, model: NEW.key }, { env: () => undefined, signal }),
    ],
    [
      "request (the fetch door)",
      { faults: listing },
      (c, signal) =>
        request({ baseUrl: c.baseUrl, fetch: (u, i) => fetch(u, i) }, "GET", "/api/v1/models", { signal }),
    ],
  ];
  for (const [name, options, op] of cases) {
    it(`${name} → INTERRUPTED, no request left open`, T, async () => {
      await withHttp(options, async ({ proxy, client }) => {
        await cancels((signal) => op(client, signal), () => proxy.inFlight() > 0, "the request to hang");
      });
    });
  }

  it(
    "downloadModel (REST) aborted between two polls → INTERRUPTED, the job is not polled again",
    T,
    async () => {
      const polls = countingPolls();
      await withHttp({ client: { fetch: polls.fetch } }, async ({ sim, proxy, client }) => {
        let sentAtAbort = NaN;
        await cancels(
          (signal) => client.downloadModel(NEW.key, { signal }),
          () => sim.requestCount(STATUS) >= 2,
          "the polling",
          () => (sentAtAbort = polls.sent()),
        );
        await assertNoMorePolls(sim, proxy, polls, sentAtAbort);
      });
    },
  );

  it("ensureReady aborted mid-download → INTERRUPTED, and the shared download stops polling", T, async () => {
    const polls = countingPolls();
    await withHttp({ client: { fetch: polls.fetch } }, async ({ sim, proxy, client }) => {
      let sentAtAbort = NaN;
      await cancels(
        (signal) => ensureReady({ client, model: NEW.key, signal }),
        () => sim.requestCount(STATUS) >= 1,
        "the download",
        () => (sentAtAbort = polls.sent()),
      );
      await assertNoMorePolls(sim, proxy, polls, sentAtAbort);
    });
  });

  it("waitForServer aborted while the server is down → INTERRUPTED, no retry after", T, async () => {
    const client = new LMStudioClient({ baseUrl: await closedPortUrl(), env: () => undefined });
    let retries = 0;
    await cancels(
      (signal) => client.waitForServer({ signal, onRetry: () => retries++ }),
      () => retries >= 2,
      "two retries",
    );
    const seen = retries;
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(retries, seen, "no retry after the abort");
    await assertNoUnhandledRejections();
  });

  it("runCli with io.signal → exit 130, INTERRUPTED in --json, no request left open", T, async () => {
    await withHttp({ faults: [hang("/api/v1/models/load")] }, async ({ proxy }) => {
      const controller = new AbortController();
      const running = cli(["ensure", GPT.key, "--json", "--url", proxy.url], {}, {
        signal: controller.signal,
      });
      await until("the load request", () => proxy.inFlight() > 0);
      controller.abort();
      const run = await running;
      assert.equal(run.code, 130);
      assert.equal(run.json?.error?.code, "INTERRUPTED");
    });
  });
});

describe("reliability: abort while lms runs kills it and its children", {
  skip: !posix && "POSIX process table",
}, () => {
  const started = (fake: FakeLms) => () => fake.pids().length >= 2;
  const ops: [string, (rig: LmsRig, signal: AbortSignal) => Promise<unknown>, SimulatorState?][] = [
    ["client.downloadModel (lms get)", (r, signal) => r.client.downloadModel(NEW.key, { signal })],
    ["client.loadModel (lms load)", (r, signal) => r.client.loadModel(GPT.key, { signal })],
    ["client.unloadModel (lms ps)", (r, signal) => r.client.unloadModel(QWEN.key, { signal })],
    ["client.startServer (lms server start)", (r, signal) => r.client.startServer({ signal }), {
      serverRunning: false,
    }],
    ["ensureReady (lms get)", (r, signal) => ensureReady({ client: r.client, model: NEW.key, signal })],
    ["Lms.get", (r, signal) => r.lms.get(NEW.key, { signal })],
    ["Lms.load", (r, signal) => r.lms.load(GPT.key, { signal })],
    ["Lms.unload", (r, signal) => r.lms.unload(QWEN.key, { signal })],
    ["Lms.unload --all", (r, signal) => r.lms.unload({ all: true }, { signal })],
    ["Lms.ps", (r, signal) => r.lms.ps({ signal })],
    ["Lms.ls", (r, signal) => r.lms.ls({ signal })],
    ["Lms.serverStart", (r, signal) => r.lms.serverStart({ signal })],
    ["Lms.serverStatus", (r, signal) => r.lms.serverStatus({ signal })],
    ["Lms.version", (r, signal) => r.lms.version({ signal })],
    ["runLms", (r, signal) => runLms(r.fake.path, ["ps", "--json"], { signal })],
  ];
  for (const [name, op, state] of ops) {
    it(`${name} → INTERRUPTED, lms and its child gone`, T, async () => {
      await withHangingLms(async (rig) => {
        await cancels((signal) => op(rig, signal), started(rig.fake), "lms and its child");
      }, state);
    });
  }
});

describe("reliability: a signal aborted before the call", () => {
  it("every public operation rejects INTERRUPTED without a request or a process", T, async () => {
    const sim = await startSimulator(LMS_BACKED);
    const proxy = await startTrackingProxy(sim.url);
    const fake = await createFakeLms({ simulator: sim });
    try {
      const signal = AbortSignal.abort();
      const client = new LMStudioClient({ baseUrl: proxy.url, lmsPath: fake.path, env: () => undefined });
      const lms = new Lms(fake.path);
      const ops: [string, () => Promise<unknown>][] = [
        ["check", () => client.check({ signal })],
        ["detectApi", () => client.detectApi({ signal })],
        ["listModels", () => client.listModels({ signal })],
        ["fetchModels", () => client.fetchModels({ signal })],
        ["findModel", () => client.findModel(GPT.key, { signal })],
        ["downloadModel", () => client.downloadModel(NEW.key, { signal })],
        ["downloadModel lms", () => client.downloadModel(NEW.key, { signal, route: "lms" })],
        ["loadModel", () => client.loadModel(GPT.key, { signal })],
        ["unloadModel", () => client.unloadModel(QWEN.key, { signal })],
        ["startServer", () => client.startServer({ signal })],
        ["waitForServer", () => client.waitForServer({ signal })],
        [
          "tryFromProvider",
          () => LMStudioClient.tryFromProvider({ baseUrl: proxy.url }, { env: () => undefined, signal }),
        ],
        ["ensureReady", () => ensureReady({ client, model: GPT.key, signal })],
        [
          "ensureOssReady",
          () => ensureOssReady({ baseUrl: proxy.url, model: GPT.key }, { env: () => undefined, signal }),
        ],
        ["Lms.get", () => lms.get(NEW.key, { signal })],
        ["Lms.load", () => lms.load(GPT.key, { signal })],
        ["Lms.unload", () => lms.unload(QWEN.key, { signal })],
        ["Lms.ps", () => lms.ps({ signal })],
        ["Lms.ls", () => lms.ls({ signal })],
        ["Lms.serverStart", () => lms.serverStart({ signal })],
        ["Lms.serverStatus", () => lms.serverStatus({ signal })],
        ["Lms.version", () => lms.version({ signal })],
        ["runLms", () => runLms(fake.path, ["ps"], { signal })],
        [
          "request",
          () =>
            request({ baseUrl: proxy.url, fetch: (u, i) => fetch(u, i) }, "GET", "/v1/models", { signal }),
        ],
        ["sleep", () => sleep(60_000, signal)],
        ["withDeadline", () => withDeadline("work", { signal }, 60_000, () => new Promise(() => {}))],
      ];
      for (const [name, op] of ops) {
        const error = await rejectsWith(op(), "INTERRUPTED").catch((e: Error) =>
          assert.fail(`${name}: ${e.message}`)
        );
        assert.ok(error.message, name);
      }
      const run = await cli(["check", "--json", "--url", proxy.url], {}, { signal });
      assert.equal(run.code, 130);
      assert.equal(proxy.seen(), 0, "no request was made");
      assert.deepEqual(fake.calls(), [], "lms never ran");
      await assertNoUnhandledRejections();
    } finally {
      await fake.cleanup();
      await proxy.close();
      await sim.close();
    }
  });

  it("sleep and withDeadline honour an abort that comes later", T, async () => {
    await cancels((signal) => sleep(60_000, signal), () => true, "sleep");
    let workSaw = false;
    await cancels(
      (signal) =>
        withDeadline("work", { signal }, 60_000, (inner) =>
          new Promise((_, reject) => {
            inner.addEventListener("abort", () => {
              workSaw = true;
              reject(inner.reason);
            });
          })),
      () => true,
      "withDeadline",
    );
    assert.ok(workSaw, "the work's own signal was aborted");
    assert.ok(CLEANUP_GRACE_MS > 0);
  });
});

describe("reliability: Ctrl-C on the CLI", { skip: !posix && "POSIX signals" }, () => {
  it("during a request that never answers → exit 130, INTERRUPTED, the request dropped", CLI_T, async () => {
    await withHttp({ faults: [hang("/api/v1/models/load")] }, async ({ proxy }) => {
      const run = await interruptCli(
        ["ensure", GPT.key, "--json", "--url", proxy.url],
        () => proxy.inFlight() > 0,
      );
      assert.equal(run.code, 130, run.stderr);
      assert.equal(JSON.parse(run.stdout).error.code, "INTERRUPTED");
    });
  });

  it("during a REST download that is polled → exit 130, nothing polled after", CLI_T, async () => {
    await withHttp({}, async ({ sim, proxy }) => {
      // The count when Ctrl-C is sent: interruptCli sends it right after the `ready()` that held.
      let atInterrupt = NaN;
      const run = await interruptCli(
        ["download", NEW.key, "--url", proxy.url],
        () => (atInterrupt = sim.requestCount(STATUS)) >= 1,
      );
      assert.equal(run.code, 130, run.stderr);
      assert.match(run.stderr, /Interrupted/i);
      // The CLI is gone (interruptCli waited for its exit); settle, then give a late poll time to land.
      // It polls one at a time, so at most the poll on the wire at Ctrl-C may land after it.
      await assertNoOpenRequests(proxy);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const polls = sim.requestCount(STATUS);
      assert.ok(polls <= atInterrupt + 1, `${polls - atInterrupt} polls after Ctrl-C`);
    });
  });

  it("while lms load runs with a child of its own → exit 130, no process left", CLI_T, async () => {
    await withHangingLms(async ({ sim, fake }) => {
      const run = await interruptCli(
        ["load", GPT.key, "--json", "--url", sim.url, "--lms", fake.path],
        () => fake.pids().length >= 2,
      );
      assert.equal(run.code, 130, run.stderr);
      assert.equal(JSON.parse(run.stdout).error.code, "INTERRUPTED");
    });
  });
});

describe("reliability: nothing keeps a process alive after an abort", {
  skip: !posix && "POSIX process table",
}, () => {
  it("a script that aborts every kind of operation and closes its servers exits on its own", {
    timeout: 30_000,
  }, async () => {
    const dir = join(ROOT, ".tmp");
    mkdirSync(dir, { recursive: true });
    const work = mkdtempSync(join(dir, "rel-exit-"));
    const script = join(work, "exit_check.ts");
    const src = (path: string) => JSON.stringify(pathToFileURL(join(ROOT, path)).href);
    writeFileSync(
      script,
      `import { LMStudioClient } from ${src("src/client.ts")};
import { ensureReady } from ${src("src/ensure.ts")};
import { Lms } from ${src("src/lms.ts")};
import { createFakeLms } from ${src("src/testing/fake_lms.ts")};
import { startSimulator } from ${src("src/testing/simulator.ts")};

const sim = await startSimulator({ models: [{ key: "a/loaded" }, { key: "b/other" }], catalog: [{ key: "c/new" }], download: { mode: "manual" } });
const fake = await createFakeLms({ simulator: sim, script: { "*": { hangWithChild: true } } });
sim.inject({ match: "/api/v1/models/load", kind: "hang" });
// Default deadlines (minutes to hours): a timer left behind would keep this process alive.
const client = new LMStudioClient({ baseUrl: sim.url, env: () => undefined, lmsPath: "/nonexistent/lms" });
const until = async (check) => { for (let i = 0; i < 250 && !check(); i++) await new Promise((r) => setTimeout(r, 20)); };
const codes = [];
async function cancel(start, started) {
  const controller = new AbortController();
  const running = start(controller.signal);
  await until(started);
  controller.abort();
  try { await running; codes.push("resolved"); } catch (error) { codes.push(error.code); }
}
await cancel((signal) => client.downloadModel("c/new", { signal }), () => sim.requestCount(/status/) > 0);
await cancel((signal) => client.loadModel("b/other", { signal }), () => sim.requestCount("/api/v1/models/load") > 0);
await cancel((signal) => ensureReady({ client, model: "b/other", signal }), () => sim.requestCount("/api/v1/models/load") > 1);
await cancel((signal) => new Lms(fake.path).load("b/other", { signal }), () => fake.pids().length >= 2);
await cancel((signal) => new LMStudioClient({ baseUrl: "http://127.0.0.1:9", env: () => undefined }).waitForServer({ signal }), () => true);
await fake.cleanup();
await sim.close();
console.log(JSON.stringify(codes));
// No process.exit: the runtime must find nothing left to wait for.
`,
    );
    try {
      const { cmd, args } = cliCommand();
      const runtimeArgs = args.slice(0, -1); // the CLI's path is last
      const result = await new Promise<
        { code: number | null; signal: string | null; stdout: string; stderr: string }
      >(
        (resolve, reject) => {
          const child = spawn(cmd, [...runtimeArgs, script], {
            cwd: ROOT,
            stdio: ["ignore", "pipe", "pipe"],
          });
          let stdout = "";
          let stderr = "";
          child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
          child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
          // Far beyond what the work takes; a process that never exits is killed and fails the test.
          const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
          child.on("error", reject);
          child.on("close", (code, signal) => {
            clearTimeout(timer);
            resolve({ code, signal, stdout, stderr });
          });
        },
      );
      assert.equal(
        result.signal,
        null,
        `the script had to be killed: it did not exit on its own\n${result.stderr}`,
      );
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(JSON.parse(result.stdout.trim().split("\n").at(-1)!), Array(5).fill("INTERRUPTED"));
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});

it("reliability (cancel): no unhandled rejection in the whole file", async () => {
  await assertNoUnhandledRejections();
});
