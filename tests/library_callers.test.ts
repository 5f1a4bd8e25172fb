/**
 * The library as plain-JavaScript callers use it: values of the wrong type are `USAGE` errors that
 * name the option (never a `TypeError` from deep inside, never a request sent with them), only
 * `{ all: true }` unloads everything, and a listener that throws or rejects never breaks the job
 * it watches.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LMStudioClient } from "../src/client.ts";
import { resolveConfig } from "../src/config.ts";
import { Lms } from "../src/lms.ts";
import { findLms } from "../src/lms_find.ts";
import { startSimulator } from "../src/testing/simulator.ts";
import { GPT, QWEN } from "./_fixtures.ts";
import { rejectsWith } from "./_helpers.ts";
import { assertNoUnhandledRejections, collectUnhandledRejections } from "./_reliability.ts";

collectUnhandledRejections();

/** What a plain-JS caller can pass where the types say otherwise. */
// deno-lint-ignore no-explicit-any
type Loose = any;

function throwsUsage(build: () => unknown, option: RegExp): void {
  assert.throws(build, (error: Error & { code?: string; hint?: string }) => {
    assert.equal(error.code, "USAGE", error.message);
    assert.match(error.message, option);
    assert.ok(error.hint && error.hint.trim() !== "", "a hint");
    return true;
  });
}

describe("plain-JS callers: wrong types are USAGE naming the option", () => {
  it("client options: a non-string baseUrl, apiToken, lmsPath, or a non-object is refused", () => {
    throwsUsage(() => new LMStudioClient({ baseUrl: 1234 as Loose }), /baseUrl/);
    throwsUsage(() => new LMStudioClient({ apiToken: 42 as Loose }), /apiToken/);
    throwsUsage(() => new LMStudioClient({ lmsPath: ["lms"] as Loose }), /lmsPath: an array/);
    throwsUsage(() => new LMStudioClient("http://localhost:1234" as Loose), /options/);
    // `null` is "no options", as `undefined` is.
    assert.equal(new LMStudioClient(null as Loose).baseUrl.startsWith("http"), true);
  });

  it("the token's value is never echoed when its type is wrong", () => {
    const token = { secret: "sk-lm-TypeWron:abcdefghij0123456789" };
    throwsUsage(() => new LMStudioClient({ apiToken: token as Loose }), /apiToken: an object/);
  });

  it("an env reader that throws or gives a non-string is refused, naming the variable", () => {
    throwsUsage(
      () =>
        new LMStudioClient({
          env: () => {
            throw new Error("no env here");
          },
        }),
      /env option's reader failed for/,
    );
    throwsUsage(
      () => new LMStudioClient({ env: () => 1234 as Loose }),
      /Invalid env\("LM_API_TOKEN"\): a number/,
    );
  });

  it("call options: a signal that is not an AbortSignal, or options that are not an object, send nothing", async () => {
    const sim = await startSimulator({ models: [GPT] });
    try {
      const client = new LMStudioClient({ baseUrl: sim.url });
      await rejectsWith(client.check({ signal: {} as Loose }), "USAGE", { message: /signal: an object/ });
      await rejectsWith(client.listModels("fast" as Loose), "USAGE", { message: /options: a string/ });
      await rejectsWith(client.downloadModel(GPT.key, { signal: "stop" as Loose }), "USAGE");
      assert.equal(sim.requests.length, 0, "nothing was asked of the server");
      // `null` options are no options.
      assert.equal((await client.check(null as Loose)).api, "v1");
    } finally {
      await sim.close();
    }
  });

  it("tryFromProvider: a blank value in the config leaves the option of the same name in force", async () => {
    const sim = await startSimulator({ models: [GPT] });
    try {
      const client = await LMStudioClient.tryFromProvider({ baseUrl: "  " }, { baseUrl: sim.url });
      assert.equal(client.baseUrl, sim.url);
    } finally {
      await sim.close();
    }
  });
});

describe("loadModel: settings of the wrong kind are USAGE, before any request to load", () => {
  it("an unknown route, a NaN batch size, a string require, a numeric flag", async () => {
    const sim = await startSimulator({ models: [GPT] });
    try {
      const client = new LMStudioClient({ baseUrl: sim.url });
      await rejectsWith(client.loadModel(GPT.key, { route: "fast" as Loose }), "USAGE", {
        message: /route: a string \(expected one of auto, rest, lms, jit\)/,
      });
      await rejectsWith(client.loadModel(GPT.key, { evalBatchSize: NaN }), "USAGE", {
        message: /evalBatchSize/,
      });
      await rejectsWith(client.loadModel(GPT.key, { ttlSeconds: 1.5 }), "USAGE", { message: /ttlSeconds/ });
      await rejectsWith(client.loadModel(GPT.key, { flashAttention: 1 as Loose }), "USAGE", {
        message: /flashAttention/,
      });
      await rejectsWith(client.loadModel(GPT.key, { require: "tool-use" as Loose }), "USAGE", {
        message: /must be an array/,
        hint: /\["tool-use"\]/,
      });
      assert.ok(!sim.requests.some((q) => q.method === "POST"), "no load was asked for");
      assert.deepEqual(sim.state.loaded(), []);
    } finally {
      await sim.close();
    }
  });

  it("a warm-up answer whose model is not a string is INVALID_RESPONSE, not a load", async () => {
    const sim = await startSimulator({ models: [GPT] });
    try {
      sim.inject({ match: "/v1/responses", kind: "respond", body: { model: 5, output: [] } });
      await rejectsWith(
        new LMStudioClient({ baseUrl: sim.url }).loadModel(GPT.key, { route: "jit" }),
        "INVALID_RESPONSE",
        { message: /"model" is number/ },
      );
    } finally {
      await sim.close();
    }
  });
});

describe("one rule for every options object: null is not given, a listener must be a function", () => {
  it("loadModel with null settings loads; listeners and routes of the wrong type are USAGE before a request", async () => {
    const sim = await startSimulator({ models: [GPT], catalog: [QWEN] });
    try {
      const client = new LMStudioClient({ baseUrl: sim.url });
      const loose = { contextLength: null, require: null, route: null, ttlSeconds: null } as Loose;
      assert.equal((await client.loadModel(GPT.key, loose)).instanceId, GPT.key);
      const before = sim.requests.length;
      await rejectsWith(client.loadModel(GPT.key, { onProgress: "x" as Loose }), "USAGE", {
        message: /onProgress/,
      });
      await rejectsWith(client.loadModel(GPT.key, { onReplace: 5 as Loose }), "USAGE", {
        message: /onReplace/,
      });
      await rejectsWith(client.downloadModel(QWEN.key, { onProgress: 5 as Loose }), "USAGE", {
        message: /onProgress/,
      });
      await rejectsWith(client.downloadModel(QWEN.key, { route: "bogus" as Loose }), "USAGE", {
        message: /route/,
      });
      await rejectsWith(client.waitForServer({ onRetry: 5 as Loose }), "USAGE", { message: /onRetry/ });
      assert.equal(sim.requests.length, before, "nothing was asked of the server");
    } finally {
      await sim.close();
    }
  });

  it("resolveConfig: null options are none; a cwd or configFile of the wrong type is USAGE", async () => {
    const config = await resolveConfig(null as Loose);
    assert.equal(typeof config.baseUrl, "string");
    await rejectsWith(resolveConfig({ cwd: 5 as Loose }), "USAGE", { message: /cwd/ });
    await rejectsWith(resolveConfig({ configFile: 5 as Loose }), "USAGE", { message: /configFile/ });
  });
});

describe("the lms subpath follows the same rule", () => {
  it("new Lms(null | 5) and findLms({ path: 5 }) are USAGE; findLms(null) is findLms()", () => {
    throwsUsage(() => new Lms(null as Loose), /location/);
    throwsUsage(() => new Lms(5 as Loose), /location/);
    throwsUsage(() => new Lms("/usr/bin/lms", { env: "PATH=/x" as Loose }), /env/);
    throwsUsage(() => findLms({ path: 5 as Loose }), /path/);
    // Found or not on this machine, but never a TypeError.
    let outcome: string | undefined;
    try {
      outcome = findLms(null as Loose).source;
    } catch (error) {
      outcome = (error as { code?: string }).code;
    }
    assert.ok(
      outcome === "LMS_NOT_FOUND" || (outcome !== undefined && !outcome.includes("Error")),
      String(outcome),
    );
  });
});

describe("unloadModel: only { all: true } unloads everything", () => {
  it("undefined, null, { all: false } and a number are USAGE, and every instance stays loaded", async () => {
    const sim = await startSimulator({ models: [GPT, QWEN], loaded: [GPT.key, QWEN.key] });
    try {
      const client = new LMStudioClient({ baseUrl: sim.url });
      for (const target of [undefined, null, { all: false }, {}, 7]) {
        await rejectsWith(client.unloadModel(target as Loose), "USAGE", {
          message: /model id or \{ all: true \}/,
        });
      }
      assert.deepEqual(sim.state.loaded().map((i) => i.id).sort(), [GPT.key, QWEN.key].sort());
      const { unloaded } = await client.unloadModel({ all: true });
      assert.deepEqual([...unloaded].sort(), [GPT.key, QWEN.key].sort());
      assert.deepEqual(sim.state.loaded(), []);
    } finally {
      await sim.close();
    }
  });
});

describe("listeners that fail never break the job", () => {
  it("a throwing or rejecting onProgress: the download and the load still finish", async () => {
    const sim = await startSimulator({
      models: [QWEN],
      catalog: [GPT],
      download: { bytesPerSecond: 40 * GPT.sizeBytes },
    });
    try {
      const client = new LMStudioClient({ baseUrl: sim.url, pollIntervalMs: 20 });
      let calls = 0;
      const downloaded = await client.downloadModel(GPT.key, {
        onProgress: () => {
          calls++;
          throw new Error("listener bug");
        },
      });
      assert.equal(downloaded.alreadyDownloaded, false);
      assert.ok(calls > 0, "the listener was called");
      const loaded = await client.loadModel(GPT.key, {
        onProgress: () => Promise.reject(new Error("async listener bug")),
      });
      assert.equal(loaded.instanceId, GPT.key);
      assert.ok(sim.state.loaded().some((i) => i.id === GPT.key));
      await assertNoUnhandledRejections();
    } finally {
      await sim.close();
    }
  });

  it("a throwing onRetry: waitForServer still waits for the server", async () => {
    const sim = await startSimulator({ models: [GPT], serverRunning: false });
    try {
      const client = new LMStudioClient({ baseUrl: sim.url });
      let retries = 0;
      setTimeout(() => void sim.setServerRunning(true), 300);
      const status = await client.waitForServer({
        timeoutMs: 10_000,
        onRetry: () => {
          retries++;
          throw new Error("listener bug");
        },
      });
      assert.equal(status.api, "v1");
      assert.ok(retries > 0, "the listener was called");
    } finally {
      await sim.close();
    }
  });
});
