import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LMStudioClient } from "../src/client.ts";
import { type EnsureEvent, ensureReady, type EnsureReadyOptions, type EnsureResult } from "../src/ensure.ts";
import { ensureOssReady, type EnsureOssReadyOptions, type OssConfig } from "../src/ensure_oss.ts";
import { createFakeLms } from "../src/testing/fake_lms.ts";
import { FAST, GPT, QWEN } from "./_fixtures.ts";
import { closedPortUrl, rejectsWith, useSimulators } from "./_helpers.ts";
import { assertNoUnhandledRejections, collectUnhandledRejections } from "./_reliability.ts";

const sim = useSimulators();
collectUnhandledRejections();

/** Not this machine's configuration: no LM Studio variables. */
const NO_ENV = () => undefined;

/**
 * The timings describe the steps that ran: one duration per step taken (none for a step skipped),
 * each a whole number of milliseconds, and the steps, which run one after another, fit in the total.
 */
function assertTimingsMatchSteps(result: EnsureResult): void {
  const { totalMs, ...steps } = result.timings;
  const expected = ["checkMs", "listMs"];
  if (result.actions.includes("download")) expected.push("downloadMs");
  if (result.actions.includes("load")) expected.push("loadMs");
  assert.deepEqual(Object.keys(steps).sort(), expected.sort(), "one duration per step taken");
  for (const [name, ms] of Object.entries(result.timings)) {
    assert.ok(Number.isInteger(ms) && ms >= 0, `${name} = ${ms}`);
  }
  const sum = Object.values(steps).reduce((a, b) => a + (b ?? 0), 0);
  assert.ok(sum <= totalMs, `the steps (${sum} ms) fit in the total (${totalMs} ms)`);
}

describe("ensureReady", () => {
  it("downloads a missing model, loads it, and says what it did", async () => {
    const s = await sim({ catalog: [GPT], download: FAST });
    const events: EnsureEvent[] = [];
    const result = await ensureReady({
      baseUrl: s.url,
      model: GPT.key,
      pollIntervalMs: 20,
      onEvent: (e) => events.push(e),
    });
    assert.deepEqual(result.actions, ["check", "list", "download", "load"]);
    assert.equal(result.downloaded, true);
    assert.equal(result.loaded, true);
    assert.equal(result.model, GPT.key);
    assert.equal(result.instanceId, GPT.key);
    assert.equal(result.api, "v1");
    assertTimingsMatchSteps(result);
    assert.ok(events.some((e) => e.type === "download-progress"));
    assert.deepEqual(
      events.filter((e) => e.type === "step").map((e) => (e as { step: string }).step),
      ["check", "list", "download", "load"],
    );
    assert.deepEqual(s.state.loaded().map((i) => i.id), [GPT.key]);
  });

  it("does nothing but one request for a model that is already loaded", async () => {
    const s = await sim({ models: [GPT], loaded: [GPT.key] });
    const result = await ensureReady({ baseUrl: s.url, model: GPT.key });
    assert.deepEqual(result.actions, ["check", "list"]);
    assert.equal(result.loaded, true);
    assert.equal(result.downloaded, false);
    assert.equal(s.requests.length, 1);
    assertTimingsMatchSteps(result);
  });

  it("resolves a tolerant name to the listed model instead of downloading again", async () => {
    const s = await sim({ models: [GPT], catalog: [GPT] });
    const result = await ensureReady({ baseUrl: s.url, model: "gpt-oss-20b" });
    assert.equal(result.model, GPT.key);
    assert.deepEqual(result.actions, ["check", "list", "load"]);
    assert.equal(s.requestCount("/api/v1/models/download"), 0);
    assertTimingsMatchSteps(result);
  });

  it("with download: false, a missing model is MODEL_NOT_FOUND with suggestions", async () => {
    const s = await sim({ models: [QWEN] });
    await rejectsWith(
      ensureReady({ baseUrl: s.url, model: "qwen/qwen3-4b", download: false }),
      "MODEL_NOT_FOUND",
      { message: /Did you mean: qwen\/qwen3-4b-2507/, hint: /download it/ },
    );
    assert.equal(s.requestCount("/api/v1/models/download"), 0);
  });

  it("with load: false, stops once the model is present", async () => {
    const s = await sim({ models: [GPT] });
    const result = await ensureReady({ baseUrl: s.url, model: GPT.key, load: false });
    assert.deepEqual(result.actions, ["check", "list"]);
    assert.equal(result.loaded, false);
    assert.equal(s.state.loaded().length, 0);
    assertTimingsMatchSteps(result);
  });

  it("honours one overall deadline; its timeout names it, and says the download goes on", async () => {
    // The manual download never ends, so the deadline always comes; 1 s is far more than the few ms
    // the job takes to start (which the hint needs).
    const s = await sim({ catalog: [GPT], download: { mode: "manual" } });
    const error = await rejectsWith(
      ensureReady({ baseUrl: s.url, model: GPT.key, timeoutMs: 1000, pollIntervalMs: 20 }),
      "TIMEOUT",
      { message: /^Making openai\/gpt-oss-20b ready timed out after 1s$/, hint: /timeoutMs/ },
    );
    assert.match(error.hint!, /goes on downloading openai\/gpt-oss-20b in the background/);
  });

  it("timeoutMs governs every step: a check slower than its own default (5 s) ends within it", {
    timeout: 30_000,
  }, async () => {
    const s = await sim({ models: [GPT], loaded: [GPT.key] });
    s.inject({ match: "/api/v1/models", method: "GET", kind: "delay", ms: 5_500, times: 1 });
    const result = await ensureReady({ baseUrl: s.url, env: NO_ENV, model: GPT.key, timeoutMs: 60_000 });
    assert.deepEqual(result.actions, ["check", "list"]);
    assert.equal(result.loaded, true);
  });

  it("an aborted signal rejects at once with INTERRUPTED, before any configuration is read", async () => {
    const s = await sim({ models: [GPT] });
    const read: string[] = [];
    await rejectsWith(
      ensureReady({
        baseUrl: s.url,
        model: GPT.key,
        apiTokenEnv: "not a variable name", // configuration that would be a USAGE error
        env: (name) => void read.push(name),
        signal: AbortSignal.abort(),
      }),
      "INTERRUPTED",
    );
    assert.deepEqual(read, [], "no environment variable read");
    assert.equal(s.requests.length, 0);
  });

  it("an onEvent that throws, or returns a promise that rejects, breaks nothing", async () => {
    const s = await sim({ catalog: [GPT], download: FAST });
    let calls = 0;
    const result = await ensureReady({
      baseUrl: s.url,
      env: NO_ENV,
      model: GPT.key,
      pollIntervalMs: 20,
      onEvent: (event) => {
        calls++;
        if (event.type === "step") throw new Error("broken listener");
        return Promise.reject(new Error("broken async listener"));
      },
    });
    assert.deepEqual(result.actions, ["check", "list", "download", "load"]);
    assert.ok(calls > 4, `the listener was called for every event (${calls})`);
    assert.deepEqual(s.state.loaded().map((i) => i.id), [GPT.key]);
    await assertNoUnhandledRejections();
  });

  it("starts the server with lms when asked and the server is down", async () => {
    const s = await sim({ models: [GPT], serverRunning: false });
    const lms = await createFakeLms({ simulator: s });
    try {
      const result = await ensureReady({
        baseUrl: s.url,
        model: GPT.key,
        startServer: true,
        lmsPath: lms.path,
        env: () => undefined,
      });
      assert.deepEqual(result.actions, ["check", "start-server", "list", "load"]);
      assert.ok(lms.calls().some((argv) => argv[0] === "server" && argv[1] === "start"));
      assert.deepEqual(s.state.loaded().map((i) => i.key), [GPT.key]);
    } finally {
      await lms.cleanup();
    }
  });

  it("without startServer, a down server is SERVER_UNREACHABLE", async () => {
    await assert.rejects(ensureReady({ baseUrl: await closedPortUrl(), model: GPT.key }), {
      code: "SERVER_UNREACHABLE",
    });
  });

  it("downloads with lms get on a local LM Studio 0.3 (no REST v1)", async () => {
    const s = await sim({ version: "0.3", catalog: [QWEN] });
    const lms = await createFakeLms({ simulator: s });
    try {
      const client = new LMStudioClient({ baseUrl: s.url, lmsPath: lms.path, env: () => undefined });
      const events: EnsureEvent[] = [];
      const result = await ensureReady({ client, model: QWEN.key, onEvent: (e) => events.push(e) });
      assert.deepEqual(result.actions, ["check", "list", "download", "load"]);
      assert.equal(result.api, "v0");
      assert.ok(lms.calls().some((argv) => argv.join(" ") === `get --yes ${QWEN.key}`));
      assert.ok(events.some((e) => e.type === "download-progress"));
      assert.deepEqual(s.state.loaded().map((i) => i.key), [QWEN.key]);
    } finally {
      await lms.cleanup();
    }
  });
});

describe("ensureOssReady (the seed's semantics)", () => {
  it("defaults to openai/gpt-oss-20b, downloads it when missing, loads it in the background", async () => {
    const s = await sim({ catalog: [GPT], download: FAST });
    const handle = await ensureOssReady({ baseUrl: s.url }, { pollIntervalMs: 20 });
    assert.equal(handle.model, GPT.key);
    const loaded = await handle.load;
    assert.equal(loaded?.instanceId, GPT.key);
  });

  it("is fatal when the server is unreachable", async () => {
    await assert.rejects(ensureOssReady({ baseUrl: await closedPortUrl() }), { code: "SERVER_UNREACHABLE" });
  });

  it("only warns when the background load fails, and the load promise resolves to null", async () => {
    const s = await sim({ models: [GPT] });
    const warnings: string[] = [];
    s.failNextLoad(GPT.key, "Not enough memory");
    const handle = await ensureOssReady({ baseUrl: s.url, model: GPT.key }, {
      onWarning: (m) => warnings.push(m),
    });
    assert.equal(await handle.load, null);
    assert.ok(
      warnings.some((w) => /Failed to load model openai\/gpt-oss-20b: .*Not enough memory/.test(w)),
      warnings.join("\n"),
    );
  });

  it("warns (not fails) when the model listing is malformed, then still loads", async () => {
    const s = await sim({ models: [GPT] });
    s.inject({ match: "/api/v1/models", kind: "respond", body: { models: [{ key: 42 }] }, times: 1 });
    const warnings: string[] = [];
    // A generous deadline: the first malformed listing loads the validator (zod) inside it.
    const handle = await ensureOssReady({ baseUrl: s.url, model: GPT.key }, {
      timeoutMs: 30_000,
      onWarning: (m) => warnings.push(m),
    });
    assert.ok(
      warnings.some((w) => w.startsWith("Failed to query local models from LM Studio:")),
      warnings.join("\n"),
    );
    assert.equal((await handle.load)?.instanceId, GPT.key);
  });

  it("a failed download is fatal", async () => {
    const s = await sim({ catalog: [GPT] });
    s.failNextDownload(GPT.key, 0.5);
    await assert.rejects(ensureOssReady({ baseUrl: s.url }, { pollIntervalMs: 20 }), {
      code: "DOWNLOAD_FAILED",
    });
  });

  it(
    "timeoutMs is one deadline over the check, the listing and the download",
    { timeout: 20_000 },
    async () => {
      // The manual download never ends, so the deadline always comes; 1 s is far more than the
      // few ms the check, the listing and the download's start take.
      const s = await sim({ catalog: [GPT], download: { mode: "manual" } });
      await rejectsWith(
        ensureOssReady({ baseUrl: s.url }, { env: NO_ENV, timeoutMs: 1000, pollIntervalMs: 20 }),
        "TIMEOUT",
        { message: /timed out after 1s/, hint: /timeoutMs/ },
      );
      assert.equal(
        s.requestCount("/api/v1/models/download", "POST"),
        1,
        "it was downloading when time ran out",
      );
    },
  );

  it("the background load gets what remains of timeoutMs, then only warns", { timeout: 20_000 }, async () => {
    const s = await sim({ models: [GPT] });
    s.inject({ match: "/api/v1/models/load", kind: "hang" });
    const warnings: string[] = [];
    // The check and the listing (a few ms) must end well within the deadline; the hung load then
    // waits out the rest of it.
    const handle = await ensureOssReady({ baseUrl: s.url, model: GPT.key }, {
      env: NO_ENV,
      timeoutMs: 1000,
      onWarning: (m) => warnings.push(m),
    });
    assert.equal(await handle.load, null);
    assert.ok(
      warnings.some((w) => /Failed to load model openai\/gpt-oss-20b: .*timed out/.test(w)),
      warnings.join("\n"),
    );
    assert.deepEqual(s.state.loaded(), []);
  });

  it("an onWarning that throws changes nothing: the handle resolves, the load never rejects", async () => {
    const s = await sim({ models: [GPT] });
    s.inject({ match: "/api/v1/models", kind: "respond", body: { models: [{ key: 42 }] }, times: 1 });
    s.failNextLoad(GPT.key, "Not enough memory");
    let warned = 0;
    const handle = await ensureOssReady({ baseUrl: s.url, model: GPT.key }, {
      env: NO_ENV,
      onWarning: () => {
        warned++;
        throw new Error("broken listener");
      },
    });
    assert.equal(await handle.load, null);
    assert.equal(warned, 2, "the failed listing, then the failed load");
  });

  it("an onDownloadProgress that throws does not stop the download", async () => {
    const s = await sim({ catalog: [GPT], download: FAST });
    let calls = 0;
    const handle = await ensureOssReady({ baseUrl: s.url }, {
      env: NO_ENV,
      pollIntervalMs: 20,
      onDownloadProgress: () => {
        calls++;
        throw new Error("broken listener");
      },
    });
    assert.ok(calls > 0);
    assert.equal((await handle.load)?.instanceId, GPT.key);
  });

  it("an aborted signal rejects at once with INTERRUPTED, with no request sent", async () => {
    const s = await sim({ models: [GPT] });
    await rejectsWith(
      ensureOssReady({ baseUrl: s.url, model: GPT.key }, { env: NO_ENV, signal: AbortSignal.abort() }),
      "INTERRUPTED",
    );
    assert.equal(s.requests.length, 0);
  });
});

describe("plain-JS callers: an option of the wrong type is USAGE naming it, before anything runs", () => {
  /** What a JavaScript caller may pass where TypeScript would have refused it. */
  const wrong = <T>(value: unknown) => value as T;
  const ensureCases: [string, EnsureReadyOptions, RegExp][] = [
    ["model as a number", { model: wrong(42) }, /model/],
    ["require as a string, not an array", { require: wrong("tool-use") }, /require/],
    ["require with a number in it", { require: wrong([42]) }, /require/i],
    ["signal that is not an AbortSignal", { signal: wrong({}) }, /signal/],
    ["onEvent that is not a function", { onEvent: wrong("console.log") }, /onEvent/],
    ["contextLength as a string", { contextLength: wrong("32768") }, /contextLength/],
    ["download as a string", { download: wrong("no") }, /download/],
    ["client that is not an LMStudioClient", { client: wrong({ baseUrl: "http://x" }) }, /client/],
    ["timeoutMs as a string", { timeoutMs: wrong("5s") }, /timeoutMs/],
  ];
  for (const [name, options, option] of ensureCases) {
    it(`ensureReady: ${name}`, async () => {
      const s = await sim({ models: [GPT] });
      const given = { baseUrl: s.url, env: NO_ENV, model: GPT.key, ...options };
      await rejectsWith(ensureReady(wrong<EnsureReadyOptions>(given)), "USAGE", {
        message: option,
        hint: option,
      });
      assert.equal(s.requests.length, 0);
    });
  }

  const ossCases: [string, OssConfig, EnsureOssReadyOptions, RegExp][] = [
    ["model as a number", { model: wrong(42) }, {}, /model/],
    ["signal that is not an AbortSignal", {}, { signal: wrong({}) }, /signal/],
    ["onWarning that is not a function", {}, { onWarning: wrong("console.warn") }, /onWarning/],
    ["onDownloadProgress that is not a function", {}, { onDownloadProgress: wrong(1) }, /onDownloadProgress/],
    ["timeoutMs below 1 ms", {}, { timeoutMs: -1 }, /timeoutMs/],
  ];
  it("ensureOssReady: a blank value in the config leaves the option of the same name in force, as tryFromProvider does", async () => {
    const s = await sim({ models: [GPT], loaded: [GPT.key] });
    const oss = await ensureOssReady({ baseUrl: "", model: GPT.key }, { baseUrl: s.url });
    assert.equal(oss.client.baseUrl, s.url);
    assert.equal((await oss.load)?.instanceId, GPT.key);
  });

  it("null counts as not given, as undefined does: an options object, a config, any option", async () => {
    const s = await sim({ models: [GPT], loaded: [GPT.key] });
    const ready = await ensureReady(wrong<EnsureReadyOptions>({
      baseUrl: s.url,
      env: NO_ENV,
      model: GPT.key,
      contextLength: null,
      require: null,
      onEvent: null,
      timeoutMs: null,
      signal: null,
    }));
    assert.equal(ready.instanceId, GPT.key);
    const oss = await ensureOssReady(
      wrong<OssConfig>(null),
      wrong<EnsureOssReadyOptions>({ baseUrl: s.url }),
    );
    assert.equal(oss.model, GPT.key);
    assert.equal((await oss.load)?.instanceId, GPT.key);
  });

  for (const [name, config, options, option] of ossCases) {
    it(`ensureOssReady: ${name}`, async () => {
      const s = await sim({ models: [GPT] });
      const given = { baseUrl: s.url, ...config };
      const call = ensureOssReady(wrong<OssConfig>(given), wrong<EnsureOssReadyOptions>(options));
      await rejectsWith(call, "USAGE", { message: option, hint: option });
      assert.equal(s.requests.length, 0);
    });
  }
});
