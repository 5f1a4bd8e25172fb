import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LMStudioClient } from "../src/client.ts";
import { type EnsureEvent, ensureOssReady, ensureReady, type EnsureResult } from "../src/ensure.ts";
import { createFakeLms } from "../src/testing/fake_lms.ts";
import { FAST, GPT, QWEN } from "./_fixtures.ts";
import { closedPortUrl, rejectsWith, useSimulators } from "./_helpers.ts";

const sim = useSimulators();

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

  it("shares one download and one load among concurrent calls for the same model", async () => {
    const s = await sim({ catalog: [GPT], download: { mode: "time", bytesPerSecond: 24_000_000_000 } });
    const results = await Promise.all(
      Array.from({ length: 10 }, () => ensureReady({ baseUrl: s.url, model: GPT.key, pollIntervalMs: 20 })),
    );
    assert.equal(s.requestCount("/api/v1/models/download", "POST"), 1);
    assert.equal(s.requestCount("/api/v1/models/load", "POST"), 1);
    assert.equal(s.state.loaded().length, 1);
    for (const result of results) assert.equal(result.loaded, true);
  });

  it("keeps the shared download going while one caller aborts", async () => {
    const s = await sim({ catalog: [GPT], download: { mode: "time", bytesPerSecond: 24_000_000_000 } });
    const controller = new AbortController();
    const quitter = ensureReady({
      baseUrl: s.url,
      model: GPT.key,
      pollIntervalMs: 20,
      signal: controller.signal,
    });
    const stayer = ensureReady({ baseUrl: s.url, model: GPT.key, pollIntervalMs: 20 });
    setTimeout(() => controller.abort(), 100);
    await assert.rejects(quitter, { code: "INTERRUPTED" });
    assert.equal((await stayer).loaded, true);
  });

  it("honours one overall deadline", async () => {
    const s = await sim({ catalog: [GPT], download: { mode: "manual" } });
    await assert.rejects(
      ensureReady({ baseUrl: s.url, model: GPT.key, timeoutMs: 300, pollIntervalMs: 20 }),
      {
        code: "TIMEOUT",
      },
    );
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
    const handle = await ensureOssReady({ baseUrl: s.url, model: GPT.key }, {
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
});
