/**
 * Specs of the simulator's 2026 LM Studio behaviours (`@vtcode/lmstudio/testing`): the
 * `model_load_failed` error, capabilities in every listing, the saved port in
 * `lms server status --json`, and the switchable bugs (`quirks`).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import type { Simulator } from "../src/testing/simulator.ts";
import { request, runFile, until, useFakeLms, useSimulators } from "./_helpers.ts";
import { GPT, NOMIC, QWEN } from "./_fixtures.ts";

const sim = useSimulators();
const fakeLms = useFakeLms();
const lms = runFile;

/** The shared GPT as LM Studio 2026 describes it: trained for tool use, reasoning off/on. */
const GPT_TOOLS_REASONING = { ...GPT, trainedForToolUse: true, reasoning: true };
const GEMMA = {
  key: "google/gemma-4-26b-a4b",
  vision: true,
  trainedForToolUse: true,
  reasoning: { allowedOptions: ["off" as const, "on" as const], default: "on" as const },
};
/** The shared QWEN with reasoning effort levels low/medium/high. */
const QWEN_EFFORT = {
  ...QWEN,
  reasoning: {
    allowedOptions: ["low" as const, "medium" as const, "high" as const],
    default: "medium" as const,
  },
};
const PLAIN = { key: "plain-model" };
const windows = process.platform === "win32";

/** A request to the simulator, its answer's status and JSON body. */
async function fetchJson<T>(
  s: { url: string },
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const reply = await request<T>(s, body === undefined ? "GET" : "POST", path, body);
  return { status: reply.status, body: reply.json };
}

interface V1Entry {
  key: string;
  type: string;
  capabilities?: unknown;
  loaded_instances: { id: string }[];
}
interface V0Entry {
  id: string;
  type: string;
  capabilities?: string[];
}

describe("simulator 2026: a failed REST v1 load", () => {
  it("answers 500 model_load_failed with LM Studio's message and loads nothing", async () => {
    const s = await sim({ models: [GPT_TOOLS_REASONING] });
    s.failNextLoad(GPT.key);
    const { status, body } = await fetchJson(s, "/api/v1/models/load", { model: GPT.key });
    assert.equal(status, 500);
    assert.deepEqual(body, {
      error: {
        type: "model_load_failed",
        message:
          `Failed to load model "${GPT.key}". Error loading model. (Exit code: 18446744072635810000). Unknown error. Try a different model and/or config.`,
      },
    });
    assert.deepEqual(s.state.instances(), []);
  });
});

describe("simulator 2026: capabilities", () => {
  it("REST v1: an object with vision, trained_for_tool_use and reasoning when the model has it; none on embeddings", async () => {
    const s = await sim({ models: [GPT_TOOLS_REASONING, GEMMA, QWEN_EFFORT, PLAIN, NOMIC] });
    const { body } = await fetchJson<{ models: V1Entry[] }>(s, "/api/v1/models");
    const capabilities = Object.fromEntries(body.models.map((m) => [m.key, m.capabilities]));
    assert.deepEqual(capabilities, {
      [GPT.key]: {
        vision: false,
        trained_for_tool_use: true,
        reasoning: { allowed_options: ["off", "on"], default: "on" },
      },
      [GEMMA.key]: {
        vision: true,
        trained_for_tool_use: true,
        reasoning: { allowed_options: ["off", "on"], default: "on" },
      },
      [QWEN.key]: {
        vision: false,
        trained_for_tool_use: false,
        reasoning: { allowed_options: ["low", "medium", "high"], default: "medium" },
      },
      [PLAIN.key]: { vision: false, trained_for_tool_use: false },
      [NOMIC.key]: undefined,
    });
    assert.equal("capabilities" in body.models.find((m) => m.key === NOMIC.key)!, false);
  });

  it("REST v0: a tool_use array, type vlm for vision models, embeddings without capabilities", async () => {
    const s = await sim({ models: [GPT_TOOLS_REASONING, GEMMA, PLAIN, NOMIC] });
    const { body } = await fetchJson<{ data: V0Entry[] }>(s, "/api/v0/models");
    assert.deepEqual(body.data.map((m) => [m.id, m.type, m.capabilities]), [
      [GPT.key, "llm", ["tool_use"]],
      [GEMMA.key, "vlm", ["tool_use"]],
      [PLAIN.key, "llm", []],
      [NOMIC.key, "embeddings", undefined],
    ]);
  });

  it(
    "lms ls --json: vision and trainedForToolUse on LLMs, neither on embedding models",
    { skip: windows },
    async () => {
      const s = await sim({ models: [GPT_TOOLS_REASONING, GEMMA, NOMIC] });
      const path = await fakeLms(s);
      const listed = JSON.parse((await lms(path, ["ls", "--json"])).stdout) as Record<string, unknown>[];
      assert.deepEqual(listed.map((m) => [m.modelKey, m.vision, m.trainedForToolUse]), [
        [GPT.key, false, true],
        [GEMMA.key, true, true],
        [NOMIC.key, undefined, undefined],
      ]);
      assert.equal("vision" in listed[2]!, false);
    },
  );

  it("sim.state.models() gives reasoning back in the shape it was given", async () => {
    const s = await sim({ models: [GPT_TOOLS_REASONING, QWEN_EFFORT, PLAIN] });
    assert.deepEqual(s.state.models().map((m) => m.reasoning), [
      { allowedOptions: ["off", "on"], default: "on" },
      QWEN_EFFORT.reasoning,
      undefined,
    ]);
  });
});

describe("simulator 2026: lms server status --json keeps the saved port", { skip: windows }, () => {
  it("prints only JSON: running with the port, then running:false with the same port once stopped", async () => {
    const s = await sim({ models: [GPT_TOOLS_REASONING] });
    const path = await fakeLms(s);
    const on = await lms(path, ["server", "status", "--json"]);
    assert.deepEqual(on, { code: 0, stdout: `{"running":true,"port":${s.port}}\n`, stderr: "" });
    assert.equal((await lms(path, ["server", "stop"])).code, 0);
    const off = await lms(path, ["server", "status", "--json"]);
    assert.deepEqual(off, { code: 0, stdout: `{"running":false,"port":${s.port}}\n`, stderr: "" });
    await s.setServerRunning(true);
    await s.setServerRunning(false); // stopped from the test side: same answer
    assert.equal(
      (await lms(path, ["server", "status", "--json"])).stdout,
      `{"running":false,"port":${s.port}}\n`,
    );
  });

  it("a simulator that never ran its server has no saved port", async () => {
    const s = await sim({ serverRunning: false });
    const path = await fakeLms(s);
    assert.equal((await lms(path, ["server", "status", "--json"])).stdout, '{"running":false}\n');
    assert.equal((await lms(path, ["server", "start"])).code, 0);
    assert.equal((await lms(path, ["server", "stop"])).code, 0);
    assert.equal(
      (await lms(path, ["server", "status", "--json"])).stdout,
      `{"running":false,"port":${s.port}}\n`,
    );
  });
});

describe("simulator 2026: quirks", () => {
  const chat = (s: Simulator, model: string) =>
    fetchJson<{ model: string }>(s, "/v1/chat/completions", { model, messages: [] });

  it("by default overlapping JIT loads of one model share one instance", async () => {
    const s = await sim({ models: [GPT_TOOLS_REASONING], loadDelayMs: 1000 });
    const answers = [chat(s, GPT.key), chat(s, GPT.key), chat(s, GPT.key)];
    await until("three requests", () => s.requestCount("/v1/chat/completions") === 3);
    const done = await Promise.all(answers);
    assert.deepEqual(done.map((a) => [a.status, a.body.model]), Array(3).fill([200, GPT.key]));
    assert.deepEqual(s.state.loaded().map((i) => i.id), [GPT.key]);
  });

  it("concurrentJitDuplicates: overlapping JIT loads create key, key:2, key:3 (#1751); listings show all", async () => {
    const s = await sim({
      models: [GPT_TOOLS_REASONING, PLAIN],
      loadDelayMs: 1000,
      quirks: { concurrentJitDuplicates: true },
    });
    const answers = [chat(s, GPT.key), chat(s, GPT.key), chat(s, GPT.key)];
    await until("three requests", () => s.requestCount("/v1/chat/completions") === 3);
    const done = await Promise.all(answers);
    assert.deepEqual(done.map((a) => a.body.model).sort(), [GPT.key, `${GPT.key}:2`, `${GPT.key}:3`]);
    assert.deepEqual(s.state.instances().map((i) => [i.id, i.loadedBy]), [
      [GPT.key, "jit"],
      [`${GPT.key}:2`, "jit"],
      [`${GPT.key}:3`, "jit"],
    ]);
    const { body } = await fetchJson<{ models: V1Entry[] }>(s, "/api/v1/models");
    assert.deepEqual(body.models[0]!.loaded_instances.map((i) => i.id), [
      GPT.key,
      `${GPT.key}:2`,
      `${GPT.key}:3`,
    ]);
    // A later request for the model reuses an instance; a JIT load of another model evicts them all.
    assert.equal((await chat(s, GPT.key)).body.model, GPT.key);
    assert.equal(s.state.instances().length, 3);
    await chat(s, PLAIN.key);
    assert.deepEqual(s.state.loaded().map((i) => i.id), [PLAIN.key]);
  });

  it(
    "autoFitIgnoresRequest: an LLM load gets the most that fits whatever was asked (#2250); embeddings as asked",
    {
      skip: windows,
    },
    async () => {
      const s = await sim({
        models: [{ key: GPT.key, maxContextLength: 131072 }, { key: "big", fitContextLength: 40192 }, NOMIC],
        quirks: { autoFitIgnoresRequest: true },
      });
      const path = await fakeLms(s);
      assert.equal((await lms(path, ["load", GPT.key, "-y", "-c", "4096"])).code, 0);
      const big = await fetchJson<{ load_config: { context_length: number } }>(
        s,
        "/api/v1/models/load",
        {
          model: "big",
          context_length: 40000,
          echo_load_config: true,
        },
      );
      assert.equal(big.body.load_config.context_length, 40192);
      await fetchJson(s, "/api/v1/models/load", { model: NOMIC.key, context_length: 512 });
      assert.deepEqual(s.state.instances().map((i) => [i.id, i.requestedContextLength, i.contextLength]), [
        [GPT.key, 4096, 131072],
        ["big", 40000, 40192],
        [NOMIC.key, 512, 512],
      ]);
    },
  );
});

describe("simulator quirk singleLoadedAnswersAnyName (#619, #366; API reference §3.4(e))", () => {
  const OTHER = "some-other-model";
  const ANY = { singleLoadedAnswersAnyName: true };
  /** LM Studio's 400 for a name it does not know, with the first downloaded keys as examples. */
  const notFound = (examples: string) => ({
    error: {
      message:
        `Invalid model identifier "${OTHER}". Please specify a valid downloaded model (e.g., ${examples}).`,
      type: "invalid_request_error",
      param: "model",
      code: "model_not_found",
    },
  });
  const chat = (s: Simulator, model: string) =>
    fetchJson<{ model: string; choices?: unknown[] }>(s, "/v1/chat/completions", {
      model,
      messages: [{ role: "user", content: "hi" }],
    });
  const responses = (s: Simulator, model: string) =>
    fetchJson<{ model: string; status?: string }>(s, "/v1/responses", { model, input: "hi" });
  const embed = (s: Simulator, model: string) =>
    fetchJson<{ model: string }>(s, "/v1/embeddings", { model, input: "hi" });

  it("one LLM loaded: chat and Responses naming another model get its answer, model = its instance id", async () => {
    const s = await sim({
      models: [QWEN, GPT],
      loaded: [{ key: QWEN.key, id: "qwen-main" }],
      reply: "from qwen",
      quirks: ANY,
    });
    const viaChat = await chat(s, OTHER);
    assert.equal(viaChat.status, 200);
    assert.equal(viaChat.body.model, "qwen-main");
    assert.deepEqual(viaChat.body.choices?.length, 1);
    const viaResponses = await responses(s, OTHER);
    assert.deepEqual([viaResponses.status, viaResponses.body.model, viaResponses.body.status], [
      200,
      "qwen-main",
      "completed",
    ]);
    assert.deepEqual(s.state.instances().map((i) => i.id), ["qwen-main"]);
  });

  it("off (the default): the same requests are the 400 model_not_found", async () => {
    const s = await sim({ models: [QWEN, GPT], loaded: [QWEN.key] });
    for (const answer of [await chat(s, OTHER), await responses(s, OTHER)]) {
      assert.equal(answer.status, 400);
      assert.deepEqual(answer.body, notFound(`${QWEN.key}, ${GPT.key}`));
    }
  });

  it("on, but two LLM instances loaded: the 400 model_not_found", async () => {
    for (const loaded of [[QWEN.key, GPT.key], [QWEN.key, { key: QWEN.key, id: `${QWEN.key}:2` }]]) {
      const s = await sim({ models: [QWEN, GPT], loaded, quirks: ANY });
      for (const answer of [await chat(s, OTHER), await responses(s, OTHER)]) {
        assert.equal(answer.status, 400, JSON.stringify(loaded));
        assert.deepEqual(answer.body, notFound(`${QWEN.key}, ${GPT.key}`));
      }
    }
  });

  it("on: a downloaded model is still JIT-loaded; JIT off, the one loaded model answers for it", async () => {
    const jit = await sim({ models: [QWEN, GPT], loaded: [QWEN.key], quirks: ANY });
    assert.deepEqual([(await chat(jit, GPT.key)).body.model], [GPT.key]);
    const noJit = await sim({ models: [QWEN, GPT], loaded: [QWEN.key], jit: false, quirks: ANY });
    const answer = await chat(noJit, GPT.key);
    assert.deepEqual([answer.status, answer.body.model], [200, QWEN.key]);
    assert.deepEqual(noJit.state.instances().map((i) => i.id), [QWEN.key]);
  });

  it("only instances of the type the endpoint needs count: embeddings go to the one embedding model", async () => {
    const both = await sim({ models: [QWEN, NOMIC], loaded: [QWEN.key, NOMIC.key], quirks: ANY });
    const embedded = await embed(both, "some-embedder");
    assert.deepEqual([embedded.status, embedded.body.model], [200, NOMIC.key]);
    const chatted = await chat(both, OTHER);
    assert.deepEqual([chatted.status, chatted.body.model], [200, QWEN.key]);
    // No embedding model loaded: the one LLM does not answer an embedding request.
    const llmOnly = await sim({ models: [QWEN, NOMIC], loaded: [QWEN.key], quirks: ANY });
    const refused = await embed(llmOnly, "some-embedder");
    assert.equal(refused.status, 400);
    assert.deepEqual(refused.body, {
      error: {
        message:
          `Invalid model identifier "some-embedder". Please specify a valid downloaded model (e.g., ${QWEN.key}, ${NOMIC.key}).`,
        type: "invalid_request_error",
        param: "model",
        code: "model_not_found",
      },
    });
  });

  it("REST v1 chat is not affected: 404 model_not_found", async () => {
    const s = await sim({ models: [QWEN], loaded: [QWEN.key], quirks: ANY });
    const answer = await fetchJson<{ error: { type: string } }>(s, "/api/v1/chat", {
      model: OTHER,
      input: "hi",
    });
    assert.equal(answer.status, 404);
    assert.equal(answer.body.error.type, "model_not_found");
  });
});
