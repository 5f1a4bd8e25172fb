/**
 * "Ready" means ready for the agent's job: enough loaded context, the capabilities it needs.
 * Library side (ensureReady, loadModel, listModels) against the simulator; the CLI side is in
 * cli.test.ts. Every test asserts the end state: what is loaded, with which context, how many.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LMStudioClient } from "../src/client.ts";
import { type EnsureEvent, ensureReady } from "../src/ensure.ts";
import { createFakeLms } from "../src/testing/fake_lms.ts";
import type { Simulator, SimulatorState } from "../src/testing/simulator.ts";
import { rejectsWith, useSimulators } from "./_helpers.ts";
import { CHAT, CODER, TOKEN } from "./_fixtures.ts";

const sim = useSimulators();

/** A vision model. */
const SEER = { key: "qwen/qwen2.5-vl-7b", vision: true, trainedForToolUse: true, maxContextLength: 131072 };

function loadedOf(s: Simulator, key: string): { id: string; contextLength: number }[] {
  return s.state.instances().filter((i) => i.key === key).map(({ id, contextLength }) => ({
    id,
    contextLength,
  }));
}

async function ensure(s: Simulator, options: Parameters<typeof ensureReady>[0] = {}) {
  const events: EnsureEvent[] = [];
  const result = await ensureReady({
    baseUrl: s.url,
    env: () => undefined,
    model: CODER.key,
    onEvent: (e) => events.push(e),
    ...options,
  });
  return { result, events, warnings: events.filter((e) => e.type === "warning").map((e) => e.message) };
}

describe("ensure: context length", () => {
  it("always reports the loaded context, with or without contextLength", async () => {
    const s = await sim({ models: [CODER], loaded: [{ key: CODER.key, contextLength: 8192 }] });
    const { result } = await ensure(s);
    assert.equal(result.contextLength, 8192);
    assert.equal(result.instanceId, CODER.key);
    assert.deepEqual(result.actions, ["check", "list"]);
  });

  it("a fresh load reports the context LM Studio gave (the default when none is asked)", async () => {
    const s = await sim({ models: [CODER], defaultContextLength: 4096 });
    const { result } = await ensure(s);
    assert.deepEqual(result.actions, ["check", "list", "load"]);
    assert.equal(result.contextLength, 4096);
    assert.deepEqual(loadedOf(s, CODER.key), [{ id: CODER.key, contextLength: 4096 }]);
  });

  it("uses an instance that has enough, with no load request", async () => {
    const s = await sim({ models: [CODER], loaded: [{ key: CODER.key, contextLength: 65536 }] });
    const { result } = await ensure(s, { contextLength: 32768 });
    assert.deepEqual(result.actions, ["check", "list"]);
    assert.equal(result.contextLength, 65536);
    assert.equal(s.requestCount("/api/v1/models/load"), 0);
    assert.deepEqual(loadedOf(s, CODER.key), [{ id: CODER.key, contextLength: 65536 }]);
  });

  it("of several instances, picks the one with enough and names it", async () => {
    const s = await sim({
      models: [CODER],
      loaded: [{ key: CODER.key, contextLength: 4096 }, {
        key: CODER.key,
        id: `${CODER.key}:2`,
        contextLength: 40960,
      }],
    });
    const { result } = await ensure(s, { contextLength: 32768 });
    assert.equal(result.instanceId, `${CODER.key}:2`);
    assert.equal(result.contextLength, 40960);
    assert.equal(s.requestCount("/api/v1/models/load"), 0);
    assert.equal(loadedOf(s, CODER.key).length, 2);
  });

  it("replaces an instance with too little: unload, then load with n, never two instances", async () => {
    const s = await sim({ models: [CODER], loaded: [{ key: CODER.key, contextLength: 4096 }] });
    const { result, events } = await ensure(s, { contextLength: 32768 });
    assert.deepEqual(result.actions, ["check", "list", "unload", "load"]);
    assert.equal(result.contextLength, 32768);
    assert.equal(result.instanceId, CODER.key);
    assert.deepEqual(loadedOf(s, CODER.key), [{ id: CODER.key, contextLength: 32768 }]);
    const unloaded = events.find((e) => e.type === "unloaded");
    assert.deepEqual(unloaded?.type === "unloaded" && unloaded.instances, [{
      id: CODER.key,
      contextLength: 4096,
    }]);
    const load = s.requests.find((r) => r.path === "/api/v1/models/load");
    const body = JSON.parse(load?.body ?? "{}") as Record<string, unknown>;
    assert.deepEqual([body.context_length, body.echo_load_config], [32768, true]);
  });

  it("LM Studio fitting the context to memory (less than asked) is MODEL_UNSUITABLE naming both numbers", async () => {
    const s = await sim({ models: [CODER], memory: { maxContextLength: 12288 } });
    await rejectsWith(ensure(s, { contextLength: 32768 }), "MODEL_UNSUITABLE", {
      message: /context of 12288 tokens, less than the 32768 asked/,
      hint: /free memory|smaller quantization|smaller contextLength/i,
    });
    // What LM Studio gave stays loaded (the agent may accept it); nothing beside it.
    assert.deepEqual(loadedOf(s, CODER.key), [{ id: CODER.key, contextLength: 12288 }]);
  });

  it("more than the model's maximum is refused before anything loads", async () => {
    const s = await sim({ models: [CHAT] });
    await rejectsWith(ensure(s, { model: CHAT.key, contextLength: 65536 }), "MODEL_UNSUITABLE", {
      message: /at most 32768 tokens/,
    });
    assert.equal(s.requestCount("/api/v1/models/load"), 0);
    assert.deepEqual(loadedOf(s, CHAT.key), []);
  });

  it("a reload that fails after the unload says nothing of the model is loaded now", async () => {
    const s = await sim({ models: [CODER], loaded: [{ key: CODER.key, contextLength: 4096 }] });
    s.failNextLoad(CODER.key, "Failed to load model: not enough memory");
    await rejectsWith(ensure(s, { contextLength: 32768 }), "LOAD_FAILED", {
      message: /not enough memory.*unloaded first.*no instance of qwen\/qwen3-4b-2507 is loaded now/s,
    });
    assert.deepEqual(loadedOf(s, CODER.key), []);
  });

  it("a server that reports a context as a string: unknown, used as it is, with a warning", async () => {
    const s = await sim({ models: [CODER], loaded: [{ key: CODER.key, contextLength: 4096 }] });
    const listing = await (await fetch(`${s.url}/api/v1/models`)).json() as {
      models: Record<string, unknown>[];
    };
    const entry = listing.models[0] as { loaded_instances: { config: Record<string, unknown> }[] };
    entry.loaded_instances[0].config.context_length = "4096";
    s.inject({ match: "/api/v1/models", method: "GET", kind: "respond", status: 200, body: listing });
    const { result, warnings } = await ensure(s, { contextLength: 32768 });
    assert.equal(result.contextLength, null);
    assert.deepEqual(result.actions, ["check", "list"]);
    assert.ok(
      warnings.some((w) => /does not say what context .* is loaded with/.test(w)),
      warnings.join("\n"),
    );
    assert.deepEqual(loadedOf(s, CODER.key), [{ id: CODER.key, contextLength: 4096 }]);
  });

  it("a load answer without load_config falls back to the listing", async () => {
    const s = await sim({ models: [CODER] });
    const client = new LMStudioClient({ baseUrl: s.url, env: () => undefined });
    s.inject({
      match: "/api/v1/models/load",
      kind: "respond",
      status: 200,
      body: { type: "llm", instance_id: CODER.key, status: "loaded", load_time_seconds: 1 },
      times: 1,
    });
    s.loadModel(CODER.key, { contextLength: 16384 }); // what LM Studio did behind the bare answer
    s.clearRequests();
    const result = await client.loadModel(CODER.key, { contextLength: 8192, route: "rest" }).catch((e) => e);
    // The model was already loaded with enough: no load at all.
    assert.equal(result.alreadyLoaded, true);
    assert.equal(result.contextLength, 16384);
    s.unloadInstance(CODER.key);
    s.inject({
      match: "/api/v1/models/load",
      kind: "respond",
      status: 200,
      body: { type: "llm", instance_id: CODER.key, status: "loaded" },
      times: 1,
    });
    const bare = await client.loadModel(CODER.key, { contextLength: 8192 });
    // Nothing was really loaded behind that answer: the listing says so, and the context is unknown.
    assert.equal(bare.contextLength, null);
    assert.ok(bare.warnings.some((w) => /does not say what context/.test(w)), bare.warnings.join("\n"));
    assert.ok(s.requestCount("/api/v1/models", "GET") >= 2, "the listing was read after the load");
  });

  it("accepts model_instance_id (docs before 2025-12-19) where instance_id is missing", async () => {
    const s = await sim({ models: [CODER] });
    s.inject({
      match: "/api/v1/models/load",
      kind: "respond",
      status: 200,
      body: {
        type: "llm",
        model_instance_id: "qwen/qwen3-4b-2507",
        status: "loaded",
        load_config: { context_length: 8192 },
      },
      times: 1,
    });
    const result = await new LMStudioClient({ baseUrl: s.url, env: () => undefined }).loadModel(CODER.key);
    assert.equal(result.instanceId, CODER.key);
    assert.equal(result.contextLength, 8192);
  });

  it("a failed REST load is LOAD_FAILED with LM Studio's own message", async () => {
    const s = await sim({ models: [CODER] });
    s.failNextLoad(CODER.key, "Error loading model. (Exit code: 18446744072635812000). Unknown error.");
    await rejectsWith(
      new LMStudioClient({ baseUrl: s.url, env: () => undefined }).loadModel(CODER.key),
      "LOAD_FAILED",
      /Error loading model\. \(Exit code: 18446744072635812000\)/,
    );
  });

  for (const bad of [0, -1, 1.5, Number.NaN, 2 ** 31, Number.POSITIVE_INFINITY]) {
    it(`contextLength ${bad} is a USAGE error before any request`, async () => {
      const s = await sim({ models: [CODER] });
      await rejectsWith(ensure(s, { contextLength: bad }), "USAGE", {
        message: /The contextLength option must be a whole number/,
      });
      assert.equal(s.requests.length, 0);
    });
  }
});

describe("ensure: context through lms (LM Studio 0.3, no REST v1)", () => {
  it("replaces a small instance with lms unload + lms load -c, and reads the context back from lms ps", async () => {
    const state: SimulatorState = {
      version: "0.3",
      models: [CODER],
      loaded: [{ key: CODER.key, contextLength: 4096 }],
    };
    const s = await sim(state);
    const lms = await createFakeLms({ simulator: s });
    try {
      const { result } = await ensure(s, { contextLength: 16384, lmsPath: lms.path });
      assert.deepEqual(result.actions, ["check", "list", "unload", "load"]);
      assert.equal(result.contextLength, 16384);
      assert.deepEqual(loadedOf(s, CODER.key), [{ id: CODER.key, contextLength: 16384 }]);
      const argv = lms.calls().map((c) => c.join(" "));
      assert.ok(
        argv.some((a) => /^load .*qwen\/qwen3-4b-2507.*--context-length 16384/.test(a)),
        argv.join("\n"),
      );
      assert.ok(argv.some((a) => a.startsWith("ps --json")), argv.join("\n"));
    } finally {
      await lms.cleanup();
    }
  });

  it("of several instances (REST v0 names one, with one context), lms ps finds the one with enough: no load", async () => {
    const s = await sim({
      version: "0.3",
      models: [CODER],
      loaded: [{ key: CODER.key, contextLength: 4096 }, { key: CODER.key, contextLength: 32768 }],
    });
    const lms = await createFakeLms({ simulator: s });
    try {
      const { result } = await ensure(s, { contextLength: 16384, lmsPath: lms.path });
      assert.deepEqual(result.actions, ["check", "list"]);
      assert.deepEqual([result.instanceId, result.contextLength], [`${CODER.key}:2`, 32768]);
      assert.deepEqual(loadedOf(s, CODER.key), [
        { id: CODER.key, contextLength: 4096 },
        { id: `${CODER.key}:2`, contextLength: 32768 },
      ]);
      assert.deepEqual(lms.calls(), [["ps", "--json"]]);
    } finally {
      await lms.cleanup();
    }
  });
});

describe("ensure: capabilities", () => {
  it("a model LM Studio says lacks tool use is refused before anything loads", async () => {
    const s = await sim({ models: [CHAT] });
    await rejectsWith(ensure(s, { model: CHAT.key, require: ["tool-use"] }), "MODEL_UNSUITABLE", {
      message: /lacks tool-use/,
      hint: /tool use/,
    });
    assert.equal(s.requestCount("/api/v1/models/load"), 0);
    assert.deepEqual(loadedOf(s, CHAT.key), []);
  });

  it("a model with the capabilities asked loads", async () => {
    const s = await sim({ models: [SEER] });
    const { result, warnings } = await ensure(s, { model: SEER.key, require: ["tool-use", "vision"] });
    assert.equal(result.loaded, true);
    assert.deepEqual(warnings, []);
    assert.equal(loadedOf(s, SEER.key).length, 1);
  });

  it("REST v0 says it too (capabilities array, type vlm)", async () => {
    const s = await sim({ version: "0.3", models: [CHAT, SEER] });
    const models = await new LMStudioClient({ baseUrl: s.url, env: () => undefined }).listModels();
    const byId = Object.fromEntries(models.map((m) => [m.id, m.capabilities]));
    assert.deepEqual(byId[CHAT.key], []);
    assert.deepEqual(byId[SEER.key], ["tool-use", "vision"]);
  });

  it("where the server does not say (OpenAI-only), a warning, not a refusal", async () => {
    const s = await sim({ version: "0.2", models: [CODER], loaded: [CODER.key] });
    const { result, warnings } = await ensure(s, { require: ["tool-use"] });
    assert.equal(result.loaded, true);
    assert.ok(warnings.some((w) => /does not say whether .* has tool-use/.test(w)), warnings.join("\n"));
  });

  it("an unknown capability is a USAGE error", async () => {
    const s = await sim({ models: [CODER] });
    await rejectsWith(
      ensure(s, { require: ["telepathy"] as unknown as "tool-use"[] }),
      "USAGE",
      /Unknown capability "telepathy"/,
    );
    assert.equal(s.requests.length, 0);
  });
});

describe("listModels: what an agent needs to choose", () => {
  it("per-instance context, the ceiling and capabilities (REST v1)", async () => {
    const s = await sim({
      models: [CODER, CHAT],
      loaded: [{ key: CODER.key, contextLength: 4096 }, {
        key: CODER.key,
        id: `${CODER.key}:2`,
        contextLength: 32768,
      }],
    });
    const models = await new LMStudioClient({ baseUrl: s.url, env: () => undefined }).listModels();
    const coder = models.find((m) => m.id === CODER.key)!;
    assert.deepEqual(coder.instances, [
      { id: CODER.key, contextLength: 4096 },
      { id: `${CODER.key}:2`, contextLength: 32768 },
    ]);
    assert.equal(coder.maxContextLength, 131072);
    assert.ok(coder.capabilities?.includes("tool-use"));
    const chat = models.find((m) => m.id === CHAT.key)!;
    assert.deepEqual(chat.instances, []);
    assert.equal(chat.capabilities?.includes("tool-use"), false);
  });
});

describe("check: honest verdicts", () => {
  it("authenticated only when the server required the token and accepted it", async () => {
    const open = await sim({ models: [CODER] });
    const sent = await new LMStudioClient({ baseUrl: open.url, apiToken: TOKEN, env: () => undefined })
      .check();
    assert.equal(sent.authenticated, false, "a server without auth never looked at the token");
    const locked = await sim({ models: [CODER], auth: { token: TOKEN } });
    const ok = await new LMStudioClient({ baseUrl: locked.url, apiToken: TOKEN, env: () => undefined })
      .check();
    assert.equal(ok.authenticated, true);
    const none = await new LMStudioClient({ baseUrl: open.url, env: () => undefined }).check();
    assert.equal(none.authenticated, false);
  });

  for (
    const [what, models] of [
      ["an entry that is null", [null]],
      ["an entry without a key", [{ type: "llm", display_name: "x" }]],
    ] as const
  ) {
    it(`a listing with ${what} is INVALID_RESPONSE for check, not ready`, async () => {
      const s = await sim({ models: [CODER] });
      s.inject({ match: "/api/v1/models", method: "GET", kind: "respond", status: 200, body: { models } });
      // A generous deadline: the first malformed listing loads the validator (zod) inside it.
      await rejectsWith(
        new LMStudioClient({ baseUrl: s.url, env: () => undefined }).check({ timeoutMs: 30_000 }),
        "INVALID_RESPONSE",
        /models/,
      );
    });
  }
});

describe("ensure: load false with too little context", () => {
  it("reports the instance that is there and its context, with a warning, and loads nothing", async () => {
    const s = await sim({ models: [CODER], loaded: [{ key: CODER.key, contextLength: 4096 }] });
    const { result, warnings } = await ensure(s, { contextLength: 32768, load: false });
    assert.deepEqual([result.instanceId, result.contextLength, result.loaded], [CODER.key, 4096, true]);
    assert.ok(warnings.some((w) => /less than the 32768 asked; not replaced/.test(w)), warnings.join("\n"));
    assert.equal(s.requestCount("/api/v1/models/load"), 0);
    assert.deepEqual(loadedOf(s, CODER.key), [{ id: CODER.key, contextLength: 4096 }]);
  });
});
