/**
 * Specs of the simulator's context lengths (`@vtcode/lmstudio/testing`): every instance has one;
 * loads honour the request up to the memory limit (LM Studio's 2026 auto-fit gives less,
 * silently); JIT loads get the default; every listing shows what was given; tests can read the
 * end state.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import type { Simulator } from "../src/testing/simulator.ts";
import { request, runFile, useFakeLms, useSimulators } from "./_helpers.ts";
import { GPT, NOMIC, QWEN } from "./_fixtures.ts";

const sim = useSimulators();
const fakeLms = useFakeLms();
const lms = runFile;

/** The shared models with the maximum context lengths these specs count on. */
const GPT_128K = { ...GPT, maxContextLength: 131072 };
const QWEN_256K = { ...QWEN, maxContextLength: 262144 };
const SMALL = { key: "small-model", maxContextLength: 2048 };
const windows = process.platform === "win32";

/** The fields of LM Studio's answers these specs read. */
interface Answer {
  load_config: { context_length: number };
  error: { type: string; message: string; param?: string };
}
interface V1Listing {
  models: {
    key: string;
    max_context_length: number;
    loaded_instances: { id: string; config: { context_length: number } }[];
  }[];
}
interface V0Listing {
  data: { id: string; state: string; loaded_context_length?: number }[];
}
interface PsEntry {
  identifier: string;
  contextLength: number;
  maxContextLength: number;
}

/** The loaded context of every instance, as REST v1, REST v0 and `lms ps --json` each show it. */
async function shown(s: Simulator, lmsPath?: string): Promise<Record<string, unknown>> {
  const v1 = (await request<V1Listing>(s, "GET", "/api/v1/models")).json;
  const v0 = (await request<V0Listing>(s, "GET", "/api/v0/models")).json;
  const out: Record<string, unknown> = {
    v1: Object.fromEntries(
      v1.models.flatMap((m) => m.loaded_instances.map((i) => [i.id, i.config.context_length])),
    ),
    v0: Object.fromEntries(
      v0.data.filter((m) => m.state === "loaded").map((m) => [m.id, m.loaded_context_length]),
    ),
  };
  if (lmsPath) {
    const ps = JSON.parse((await lms(lmsPath, ["ps", "--json"])).stdout) as PsEntry[];
    out.ps = Object.fromEntries(ps.map((i) => [i.identifier, [i.contextLength, i.maxContextLength]]));
  }
  return out;
}

describe("simulator context: loads honour the request", () => {
  it("REST v1 load with context_length: echoed in load_config, shown by REST v1, REST v0 and lms ps", {
    skip: windows,
  }, async () => {
    const s = await sim({ models: [GPT_128K, NOMIC] });
    const path = await fakeLms(s);
    const loaded = await request<Answer>(s, "POST", "/api/v1/models/load", {
      model: GPT.key,
      context_length: 16384,
      echo_load_config: true,
    });
    assert.equal(loaded.status, 200);
    assert.equal(loaded.json.load_config.context_length, 16384);
    const embedding = await request<Answer>(s, "POST", "/api/v1/models/load", {
      model: NOMIC.key,
      echo_load_config: true,
    });
    assert.deepEqual(embedding.json.load_config, { context_length: 2048 });
    assert.deepEqual(await shown(s, path), {
      v1: { [GPT.key]: 16384, [NOMIC.key]: 2048 },
      v0: { [GPT.key]: 16384, [NOMIC.key]: 2048 },
      ps: { [GPT.key]: [16384, 131072], [NOMIC.key]: [2048, 2048] },
    });
    assert.equal(s.state.contextLength(GPT.key), 16384);
  });

  it("without echo_load_config the load answer has no load_config", async () => {
    const s = await sim({ models: [GPT_128K] });
    const { json: body } = await request<Answer>(s, "POST", "/api/v1/models/load", {
      model: GPT.key,
      context_length: 8192,
    });
    assert.deepEqual(Object.keys(body), ["type", "instance_id", "load_time_seconds", "status"]);
    assert.equal(s.state.contextLength(GPT.key), 8192);
  });

  it(
    "lms load -c N, --context-length N and --context-length=N load with that context",
    { skip: windows },
    async () => {
      const s = await sim({ models: [GPT_128K] });
      const path = await fakeLms(s);
      for (const args of [["-c", "12288"], ["--context-length", "24576"], ["--context-length=32768"]]) {
        const result = await lms(path, ["load", GPT.key, "-y", ...args]);
        assert.equal(result.code, 0, result.stderr);
      }
      assert.deepEqual(await shown(s, path), {
        v1: { [GPT.key]: 12288, [`${GPT.key}:2`]: 24576, [`${GPT.key}:3`]: 32768 },
        v0: { [GPT.key]: 12288 }, // REST v0 reports the first instance
        ps: {
          [GPT.key]: [12288, 131072],
          [`${GPT.key}:2`]: [24576, 131072],
          [`${GPT.key}:3`]: [32768, 131072],
        },
      });
      assert.deepEqual(
        s.state.instances().map((i) => [i.id, i.requestedContextLength, i.contextLength, i.loadedBy]),
        [
          [GPT.key, 12288, 12288, "lms"],
          [`${GPT.key}:2`, 24576, 24576, "lms"],
          [`${GPT.key}:3`, 32768, 32768, "lms"],
        ],
      );
    },
  );

  it("a context above the model's maximum is refused (REST v1: 400 naming context_length; lms: exit 1)", {
    skip: windows,
  }, async () => {
    const s = await sim({ models: [SMALL] });
    const path = await fakeLms(s);
    const refused = await request<Answer>(s, "POST", "/api/v1/models/load", {
      model: SMALL.key,
      context_length: 4096,
    });
    assert.equal(refused.status, 400);
    assert.deepEqual(refused.json, {
      error: {
        type: "invalid_request",
        message:
          "Requested context length 4096 is greater than the maximum context length of small-model (2048).",
        param: "context_length",
      },
    });
    const cli = await lms(path, ["load", SMALL.key, "-y", "-c", "4096"]);
    assert.equal(cli.code, 1);
    assert.match(
      cli.stderr,
      /^Error: Requested context length 4096 is greater than the maximum context length/m,
    );
    assert.throws(() => s.loadModel(SMALL.key, { contextLength: 4096 }), /greater than the maximum/);
    assert.deepEqual(s.state.instances(), []);
  });

  it("REST v1 refuses a context that is not a positive integer, and loads nothing", async () => {
    const s = await sim({ models: [GPT_128K] });
    for (const bad of [0, -1, 1.5, "4096"]) {
      const { status, json: body } = await request<Answer>(s, "POST", "/api/v1/models/load", {
        model: GPT.key,
        context_length: bad,
      });
      assert.equal(status, 400);
      assert.equal(body.error.param, "context_length");
    }
    assert.deepEqual(s.state.instances(), []);
  });
});

describe("simulator context: defaults and JIT", () => {
  it("a JIT load gets the default 4096, the instance shows it everywhere", { skip: windows }, async () => {
    const s = await sim({ models: [GPT_128K] });
    const path = await fakeLms(s);
    const chat = await request<Answer>(s, "POST", "/v1/chat/completions", { model: GPT.key, messages: [] });
    assert.equal(chat.status, 200);
    assert.deepEqual(await shown(s, path), {
      v1: { [GPT.key]: 4096 },
      v0: { [GPT.key]: 4096 },
      ps: { [GPT.key]: [4096, 131072] },
    });
    const [instance] = s.state.instances();
    assert.equal(instance!.loadedBy, "jit");
    assert.equal(instance!.requestedContextLength, null);
  });

  it("defaultContextLength changes what JIT, lms load without -c and REST without context_length get", {
    skip: windows,
  }, async () => {
    const s = await sim({ models: [GPT_128K, QWEN_256K, SMALL, NOMIC], defaultContextLength: 32768 });
    const path = await fakeLms(s);
    await request(s, "POST", "/v1/chat/completions", { model: GPT.key, messages: [] });
    assert.equal((await lms(path, ["load", QWEN.key, "-y"])).code, 0);
    await request(s, "POST", "/api/v1/models/load", { model: SMALL.key });
    await request(s, "POST", "/api/v1/models/load", { model: NOMIC.key });
    assert.deepEqual(
      s.state.instances().map((i) => [i.id, i.contextLength, i.loadedBy]),
      [
        [GPT.key, 32768, "jit"],
        [QWEN.key, 32768, "lms"],
        [SMALL.key, 2048, "rest"], // never above the model's maximum
        [NOMIC.key, 2048, "rest"], // embedding models load at their maximum
      ],
    );
  });

  it("the start-up state's loaded contexts are taken as given; without one the default applies", async () => {
    const s = await sim({
      models: [GPT_128K, QWEN_256K],
      loaded: [{ key: GPT.key, contextLength: 65536 }, QWEN.key],
      memory: { maxContextLength: 8192 },
    });
    assert.deepEqual(s.state.loaded(), [
      { key: GPT.key, id: GPT.key, contextLength: 65536 },
      { key: QWEN.key, id: QWEN.key, contextLength: 4096 },
    ]);
    assert.deepEqual(s.state.instances().map((i) => i.loadedBy), ["state", "state"]);
  });
});

describe("simulator context: auto-fit to memory", () => {
  it(
    "memory.maxContextLength gives less than asked, silently, on every load path",
    { skip: windows },
    async () => {
      const s = await sim({ models: [GPT_128K, QWEN_256K], memory: { maxContextLength: 8192 } });
      const path = await fakeLms(s);
      const rest = await request<Answer>(s, "POST", "/api/v1/models/load", {
        model: GPT.key,
        context_length: 32768,
        echo_load_config: true,
      });
      assert.equal(rest.status, 200);
      assert.equal(rest.json.load_config.context_length, 8192);
      const cli = await lms(path, ["load", QWEN.key, "-y", "-c", "100000"]);
      assert.equal(cli.code, 0);
      assert.match(cli.stderr, /Model loaded successfully/);
      const direct = s.loadModel(GPT.key, { contextLength: 16384 });
      assert.equal(direct.contextLength, 8192);
      const small = s.loadModel(QWEN.key, { contextLength: 2048 });
      assert.equal(small.contextLength, 2048); // below the limit: as asked
      assert.deepEqual(
        s.state.instances().map((i) => [i.id, i.requestedContextLength, i.contextLength]),
        [
          [GPT.key, 32768, 8192],
          [QWEN.key, 100000, 8192],
          [`${GPT.key}:2`, 16384, 8192],
          [`${QWEN.key}:2`, 2048, 2048],
        ],
      );
      assert.deepEqual((await shown(s, path)).ps, {
        [GPT.key]: [8192, 131072],
        [QWEN.key]: [8192, 262144],
        [`${GPT.key}:2`]: [8192, 131072],
        [`${QWEN.key}:2`]: [2048, 262144],
      });
    },
  );

  it("a model's fitContextLength limits that model only; with memory too the smaller wins", async () => {
    const s = await sim({
      models: [{ ...GPT_128K, fitContextLength: 4864 }, { ...QWEN_256K, fitContextLength: 50000 }, SMALL],
      memory: { maxContextLength: 40000 },
    });
    await request(s, "POST", "/api/v1/models/load", { model: GPT.key, context_length: 65536 });
    await request(s, "POST", "/api/v1/models/load", { model: QWEN.key, context_length: 65536 });
    await request(s, "POST", "/api/v1/models/load", { model: SMALL.key, context_length: 2048 });
    assert.deepEqual(s.state.instances().map((i) => i.contextLength), [4864, 40000, 2048]);
    const listed = (await request<V1Listing>(s, "GET", "/api/v1/models")).json;
    assert.deepEqual(
      listed.models.map((m) => [m.key, m.max_context_length, m.loaded_instances[0]!.config.context_length]),
      [[GPT.key, 131072, 4864], [QWEN.key, 262144, 40000], [SMALL.key, 2048, 2048]],
    );
  });

  it("a JIT load is fitted too", async () => {
    const s = await sim({
      models: [GPT_128K],
      defaultContextLength: 16384,
      memory: { maxContextLength: 6144 },
    });
    await request(s, "POST", "/v1/chat/completions", { model: GPT.key, messages: [] });
    assert.equal(s.state.contextLength(GPT.key), 6144);
  });
});

describe("simulator context: reading the end state", () => {
  it("contextLength() resolves instance ids, then model keys (variants too); undefined when not loaded", async () => {
    const s = await sim({ models: [GPT_128K], loaded: [{ key: GPT.key, contextLength: 8192 }] });
    s.loadModel(GPT.key, { contextLength: 16384 });
    assert.equal(s.state.contextLength(GPT.key), 8192);
    assert.equal(s.state.contextLength(`${GPT.key}:2`), 16384);
    assert.equal(s.state.contextLength(`${GPT.key}@q4_k_m`), 8192);
    assert.equal(s.state.contextLength("other"), undefined);
  });

  it("GET /__simulator/state carries the instances with requested and given context", async () => {
    const s = await sim({ models: [GPT_128K], memory: { maxContextLength: 8192 } });
    await request(s, "POST", "/api/v1/models/load", { model: GPT.key, context_length: 12000 });
    const state = await (await fetch(`${s.controlUrl}/__simulator/state`)).json();
    assert.deepEqual(state.instances, [{
      key: GPT.key,
      id: GPT.key,
      type: "llm",
      contextLength: 8192,
      requestedContextLength: 12000,
      maxContextLength: 131072,
      loadedBy: "rest",
      ttlMs: null,
      parallel: 4,
    }]);
    assert.deepEqual(state.loaded, [{ key: GPT.key, id: GPT.key, contextLength: 8192 }]);
  });
});
