/**
 * `ensureReady` called concurrently for one model in one process: one download shared; loads one
 * at a time (calls that ask the same share one, a call that asks otherwise waits, then uses or
 * replaces what was loaded); every caller ends on its own deadline or signal, gets the shared
 * work's events until then, and none after. Each test asserts the end state: what is loaded, with
 * which context, how many instances, which requests the server received.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type EnsureEvent, ensureReady, type EnsureReadyOptions } from "../src/ensure.ts";
import type { Simulator } from "../src/testing/simulator.ts";
import { FAST, GPT } from "./_fixtures.ts";
import { rejectsWith, until, useFakeLms, useSimulators } from "./_helpers.ts";

const sim = useSimulators();
const fakeLms = useFakeLms();

const LOAD = "/api/v1/models/load";
const UNLOAD = "/api/v1/models/unload";
const DOWNLOAD = "/api/v1/models/download";

/** One caller's events, as its `onEvent` received them. */
function recorder(): { events: EnsureEvent[]; onEvent: (event: EnsureEvent) => void } {
  const events: EnsureEvent[] = [];
  return { events, onEvent: (event) => events.push(event) };
}

/** `ensureReady` of GPT on `s`, isolated from this machine's configuration. */
function ensure(s: Simulator, options: EnsureReadyOptions = {}) {
  return ensureReady({
    baseUrl: s.url,
    env: () => undefined,
    model: GPT.key,
    pollIntervalMs: 20,
    ...options,
  });
}

/** The instances of GPT the simulator has loaded, with their context. */
function instancesOf(s: Simulator): { id: string; contextLength: number }[] {
  return s.state.instances().map(({ id, contextLength }) => ({ id, contextLength }));
}

/** The POSTs that change what is loaded, in the order the server received them. */
function loadsAndUnloads(s: Simulator): string[] {
  return s.requests
    .filter((r) => r.method === "POST" && (r.path === LOAD || r.path === UNLOAD))
    .map((r) => {
      const body = JSON.parse(r.body) as { context_length?: number; instance_id?: string };
      return r.path === LOAD ? `load ${body.context_length ?? "default"}` : `unload ${body.instance_id}`;
    });
}

/** The status of the simulator's (one) download job. */
function downloadStatus(s: Simulator): unknown {
  const jobs = s.state.jobs() as { status: string }[];
  assert.equal(jobs.length, 1, "one download job");
  return jobs[0]!.status;
}

describe("ensureReady, concurrent calls for one model: one download, one load at a time", () => {
  it("shares one download and one load among concurrent calls that ask the same", async () => {
    const s = await sim({ catalog: [GPT], download: { mode: "time", bytesPerSecond: 24_000_000_000 } });
    const results = await Promise.all(Array.from({ length: 10 }, () => ensure(s)));
    assert.equal(s.requestCount(DOWNLOAD, "POST"), 1);
    assert.equal(s.requestCount(LOAD, "POST"), 1);
    assert.equal(s.state.loaded().length, 1);
    for (const result of results) assert.equal(result.loaded, true);
  });

  it("every caller waiting on the shared download and load gets their progress events", async () => {
    const s = await sim({ catalog: [GPT], download: FAST, loadDelayMs: 300 });
    const callers = [recorder(), recorder(), recorder()];
    await Promise.all(callers.map(({ onEvent }) => ensure(s, { onEvent })));
    for (const [i, { events }] of callers.entries()) {
      assert.ok(events.some((e) => e.type === "download-progress"), `caller ${i} got download progress`);
      assert.ok(events.some((e) => e.type === "downloaded"), `caller ${i} heard the download end`);
      assert.ok(events.some((e) => e.type === "load-progress"), `caller ${i} got load progress`);
    }
    assert.equal(s.requestCount(DOWNLOAD, "POST"), 1);
    assert.equal(s.requestCount(LOAD, "POST"), 1);
    assert.deepEqual(instancesOf(s).map((i) => i.id), [GPT.key]);
  });

  it("every caller sharing a replace hears what was unloaded; one unload, one load", async () => {
    const s = await sim({ models: [GPT], loaded: [{ key: GPT.key, contextLength: 4096 }] });
    // Slow listings: the second caller has joined well before the shared load lists and unloads.
    s.inject({ match: "/api/v1/models", method: "GET", kind: "delay", ms: 200 });
    const callers = [recorder(), recorder()];
    const results = await Promise.all(
      callers.map(({ onEvent }) => ensure(s, { contextLength: 32768, onEvent })),
    );
    for (const [i, { events }] of callers.entries()) {
      const unloaded = events.find((e) => e.type === "unloaded");
      assert.deepEqual(
        unloaded?.type === "unloaded" && unloaded.instances,
        [{ id: GPT.key, contextLength: 4096 }],
        `caller ${i} heard the unload`,
      );
      assert.deepEqual(results[i]!.actions, ["check", "list", "unload", "load"]);
    }
    assert.deepEqual(loadsAndUnloads(s), [`unload ${GPT.key}`, "load 32768"]);
    assert.deepEqual(instancesOf(s), [{ id: GPT.key, contextLength: 32768 }]);
  });

  it("a call asking more context waits for the load in flight, then replaces it: never two instances", async () => {
    const s = await sim({ models: [GPT], loadDelayMs: 300 });
    const small = ensure(s, { contextLength: 8192 });
    await until("the first load to be in flight", () => s.requestCount(LOAD) === 1);
    const large = ensure(s, { contextLength: 32768 });
    const [first, second] = await Promise.all([small, large]);
    assert.equal(first.contextLength, 8192);
    assert.deepEqual(second.actions, ["check", "list", "unload", "load"]);
    assert.equal(second.contextLength, 32768);
    assert.deepEqual(loadsAndUnloads(s), ["load 8192", `unload ${GPT.key}`, "load 32768"]);
    assert.deepEqual(instancesOf(s), [{ id: GPT.key, contextLength: 32768 }]);
  });

  it("a call that the load in flight serves waits for it and uses it, with no load of its own", async () => {
    const s = await sim({ models: [GPT], loadDelayMs: 300 });
    const large = ensure(s, { contextLength: 32768 });
    await until("the first load to be in flight", () => s.requestCount(LOAD) === 1);
    const any = await ensure(s);
    assert.deepEqual(any.actions, ["check", "list"]);
    assert.equal(any.instanceId, GPT.key);
    assert.equal(any.contextLength, 32768);
    assert.equal((await large).contextLength, 32768);
    assert.deepEqual(loadsAndUnloads(s), ["load 32768"]);
    assert.deepEqual(instancesOf(s), [{ id: GPT.key, contextLength: 32768 }]);
  });

  it("two calls that both must replace a small instance: both succeed, no unload fails", async () => {
    const s = await sim({ models: [GPT], loaded: [{ key: GPT.key, contextLength: 4096 }] });
    const results = await Promise.all([8192, 32768].map((contextLength) => ensure(s, { contextLength })));
    assert.ok(results[0]!.contextLength! >= 8192 && results[1]!.contextLength! >= 32768);
    assert.deepEqual(instancesOf(s), [{ id: GPT.key, contextLength: 32768 }]);
    // Each unload names the instance loaded at the time: the 4096 one, then (if the 8192 call went
    // first) the 8192 one, never one already gone.
    const unloads = loadsAndUnloads(s).filter((step) => step.startsWith("unload"));
    assert.ok(unloads.length === 1 || unloads.length === 2, loadsAndUnloads(s).join(", "));
  });

  it("an instance someone else unloads during a replace is not an error: the load goes on", async () => {
    const s = await sim({ models: [GPT], loaded: [{ key: GPT.key, contextLength: 4096 }] });
    // Another client unloads it between our listing and our unload.
    const onEvent = (e: EnsureEvent) => e.type === "unloaded" && s.unloadInstance(GPT.key);
    const result = await ensure(s, { contextLength: 32768, onEvent });
    assert.deepEqual(result.actions, ["check", "list", "unload", "load"]);
    assert.equal(result.contextLength, 32768);
    assert.equal(s.requestCount(UNLOAD, "POST"), 1);
    assert.deepEqual(instancesOf(s), [{ id: GPT.key, contextLength: 32768 }]);
  });

  it("the same through lms (LM Studio 0.3): an instance already gone is not an error", async () => {
    const s = await sim({ version: "0.3", models: [GPT], loaded: [{ key: GPT.key, contextLength: 4096 }] });
    const lmsPath = await fakeLms(s);
    const onEvent = (e: EnsureEvent) => e.type === "unloaded" && s.unloadInstance(GPT.key);
    const result = await ensure(s, { contextLength: 16384, lmsPath, onEvent });
    assert.deepEqual(result.actions, ["check", "list", "unload", "load"]);
    assert.deepEqual(instancesOf(s), [{ id: GPT.key, contextLength: 16384 }]);
  });
});

describe("ensureReady, concurrent calls: each caller ends on its own deadline or signal", () => {
  it("a caller's deadline ends it while the shared download goes on; it hears nothing after", async () => {
    // The download moves only when told: it is surely still going when the quitter's deadline comes
    // (1 s: far more than the few ms the shared job takes to start).
    const s = await sim({ catalog: [GPT], download: { mode: "manual" } });
    const quitter = recorder();
    const stayer = recorder();
    const quitting = ensure(s, { timeoutMs: 1000, onEvent: quitter.onEvent });
    const staying = ensure(s, { onEvent: stayer.onEvent });
    await rejectsWith(quitting, "TIMEOUT", { message: /timed out after 1s/, hint: /timeoutMs/ });
    assert.equal(downloadStatus(s), "downloading", "the quitter left before the shared download ended");
    const heard = quitter.events.length;
    s.advanceDownload();
    const result = await staying;
    assert.equal(result.downloaded, true);
    assert.equal(result.loaded, true);
    assert.ok(stayer.events.some((e) => e.type === "download-progress"));
    assert.equal(quitter.events.length, heard, "no event after the quitter's call settled");
    assert.equal(s.requestCount(DOWNLOAD, "POST"), 1);
    assert.deepEqual(instancesOf(s).map((i) => i.id), [GPT.key]);
  });

  it("a caller's abort ends it while the shared download goes on; it hears nothing after", async () => {
    const s = await sim({ catalog: [GPT], download: { mode: "manual" } }); // moves only when told
    const controller = new AbortController();
    const quitter = recorder();
    const quitting = ensure(s, { signal: controller.signal, onEvent: quitter.onEvent });
    const staying = ensure(s);
    await until("the download to be polled", () => s.requestCount(/\/download\/status\//) >= 1);
    controller.abort();
    await rejectsWith(quitting, "INTERRUPTED");
    assert.equal(downloadStatus(s), "downloading", "the quitter left before the shared download ended");
    const heard = quitter.events.length;
    s.advanceDownload();
    assert.equal((await staying).loaded, true);
    assert.equal(quitter.events.length, heard, "no event after the quitter's call settled");
    assert.deepEqual(instancesOf(s).map((i) => i.id), [GPT.key]);
  });

  it("a caller's deadline ends it during the shared load, which goes on for the other", async () => {
    // The quitter's deadline (1 s: far more than the few ms to the load's start) comes a second before
    // the load ends.
    const s = await sim({ models: [GPT], loadDelayMs: 2000 });
    const quitter = recorder();
    const quitting = ensure(s, { timeoutMs: 1000, onEvent: quitter.onEvent });
    const staying = ensure(s);
    await rejectsWith(quitting, "TIMEOUT", { message: /timed out after 1s/ });
    assert.deepEqual(s.state.loaded(), [], "the quitter left before the shared load ended");
    const heard = quitter.events.length;
    const result = await staying;
    assert.equal(result.loaded, true);
    assert.equal(quitter.events.length, heard, "no event after the quitter's call settled");
    assert.equal(s.requestCount(LOAD, "POST"), 1);
    assert.deepEqual(instancesOf(s).map((i) => i.id), [GPT.key]);
  });
});
