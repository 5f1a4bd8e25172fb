/**
 * Specs of the LM Studio simulator (`@vtcode/lmstudio/testing`): each version profile answers with
 * the payload shapes of the shared API reference, and the test hooks (faults, recording, download
 * and load control) do what they say.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { startSimulator } from "../src/testing/simulator.ts";
import { GPT, NOMIC, QWEN, TOKEN } from "./_fixtures.ts";
import { request, until, useSimulators } from "./_helpers.ts";

const sim = useSimulators();

/** The shared GPT, trained for tool use, with the maximum context length the listings show. */
const GPT_TOOLS = { ...GPT, maxContextLength: 131072, trainedForToolUse: true };
const GEMMA = { key: "google/gemma-3-12b", vision: true, architecture: "gemma3", quantization: "Q8_0" };

describe("simulator 0.4: discovery", () => {
  it("greets like LM Studio and answers JSON with charset", async () => {
    const s = await sim();
    assert.match(s.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const greeting = await request(s, "GET", "/lmstudio-greeting");
    assert.equal(greeting.status, 200);
    assert.equal(greeting.headers.get("content-type"), "application/json; charset=utf-8");
    assert.deepEqual(greeting.json, { lmstudio: true });
  });

  it("GET /v1/models lists every downloaded model while JIT is on", async () => {
    const s = await sim({ models: [GPT_TOOLS, NOMIC], loaded: [] });
    const { status, json: body } = await request(s, "GET", "/v1/models");
    assert.equal(status, 200);
    assert.deepEqual(body, {
      data: [
        { id: GPT.key, object: "model", owned_by: "organization_owner" },
        { id: NOMIC.key, object: "model", owned_by: "organization_owner" },
      ],
      object: "list",
    });
  });

  it("GET /v1/models lists only loaded instances while JIT is off", async () => {
    const s = await sim({ models: [GPT_TOOLS, QWEN], loaded: [GPT.key, GPT.key], jit: false });
    const { json: body } = await request(s, "GET", "/v1/models");
    assert.deepEqual((body as { data: { id: string }[] }).data.map((m) => m.id), [GPT.key, `${GPT.key}:2`]);
    s.setJit(true);
    const after = await request(s, "GET", "/v1/models");
    assert.deepEqual((after.json as { data: { id: string }[] }).data.map((m) => m.id), [
      GPT.key,
      QWEN.key,
      `${GPT.key}:2`,
    ]);
  });

  it("GET /api/v0/models uses v0 names: vlm/embeddings types, state, loaded_context_length only when loaded", async () => {
    const s = await sim({
      models: [GEMMA, NOMIC, GPT_TOOLS],
      loaded: [{ key: GEMMA.key, contextLength: 8192 }],
    });
    const { status, json: body } = await request(s, "GET", "/api/v0/models");
    assert.equal(status, 200);
    assert.deepEqual(body, {
      data: [
        {
          id: GEMMA.key,
          object: "model",
          type: "vlm",
          publisher: "google",
          arch: "gemma3",
          compatibility_type: "gguf",
          quantization: "Q8_0",
          state: "loaded",
          max_context_length: 131072,
          loaded_context_length: 8192,
          capabilities: [],
        },
        {
          id: NOMIC.key,
          object: "model",
          type: "embeddings",
          publisher: "nomic-ai",
          arch: "nomic-bert",
          compatibility_type: "gguf",
          quantization: "Q4_K_M",
          state: "not-loaded",
          max_context_length: 2048,
        },
        {
          id: GPT.key,
          object: "model",
          type: "llm",
          publisher: "openai",
          arch: "llama",
          compatibility_type: "gguf",
          quantization: "Q4_K_M",
          state: "not-loaded",
          max_context_length: 131072,
          capabilities: ["tool_use"],
        },
      ],
      object: "list",
    });
  });

  it("GET /api/v0/models shows only loaded models while JIT is off, and an empty list when none", async () => {
    const s = await sim({ models: [GPT_TOOLS, QWEN], loaded: [QWEN.key], jit: false });
    const list = (await request(s, "GET", "/api/v0/models")).json as { data: { id: string }[] };
    assert.deepEqual(list.data.map((m) => m.id), [QWEN.key]);
    s.unloadInstance(QWEN.key);
    assert.deepEqual((await request(s, "GET", "/api/v0/models")).json, { data: [], object: "list" });
  });

  it("GET /api/v0/models/:id takes keys with a slash; an unknown id is a 404 model_not_found", async () => {
    const s = await sim({ models: [GPT_TOOLS] });
    const one = await request(s, "GET", `/api/v0/models/${GPT.key}`);
    assert.equal(one.status, 200);
    assert.equal((one.json as { id: string; state: string }).id, GPT.key);
    assert.equal((one.json as { state: string }).state, "not-loaded");
    const missing = await request(s, "GET", "/api/v0/models/nope");
    assert.equal(missing.status, 404);
    assert.equal((missing.json as { error: { code: string } }).error.code, "model_not_found");
  });

  it("GET /api/v1/models matches the documented v1 shape for LLMs and embedding models", async () => {
    const s = await sim({
      models: [{ ...GPT_TOOLS, variants: [`${GPT.key}@mxfp4`] }, NOMIC],
      loaded: [{ key: GPT.key, contextLength: 16384 }],
    });
    const { status, json: body } = await request(s, "GET", "/api/v1/models");
    assert.equal(status, 200);
    assert.deepEqual(body, {
      models: [
        {
          type: "llm",
          publisher: "openai",
          key: GPT.key,
          display_name: "Gpt Oss 20b",
          architecture: "llama",
          quantization: { name: "Q4_K_M", bits_per_weight: 4 },
          size_bytes: GPT.sizeBytes,
          params_string: "20B",
          loaded_instances: [{
            id: GPT.key,
            config: {
              context_length: 16384,
              eval_batch_size: 512,
              parallel: 4,
              flash_attention: true,
              num_experts: 0,
              offload_kv_cache_to_gpu: true,
            },
          }],
          max_context_length: 131072,
          format: "gguf",
          capabilities: { vision: false, trained_for_tool_use: true },
          description: null,
          variants: [`${GPT.key}@mxfp4`],
          selected_variant: `${GPT.key}@mxfp4`,
        },
        {
          type: "embedding",
          publisher: "nomic-ai",
          key: NOMIC.key,
          display_name: "Text Embedding Nomic Embed Text V1.5",
          quantization: { name: "Q4_K_M", bits_per_weight: 4 },
          size_bytes: NOMIC.sizeBytes,
          params_string: null,
          loaded_instances: [],
          max_context_length: 2048,
          format: "gguf",
        },
      ],
    });
  });

  it("MLX instances report only context_length and parallel in their v1 config", async () => {
    const s = await sim({
      models: [{ key: "mlx-community/qwen3-8b", format: "mlx" }],
      loaded: ["mlx-community/qwen3-8b"],
    });
    const { json: body } = await request(s, "GET", "/api/v1/models");
    const [model] =
      (body as { models: { quantization: unknown; loaded_instances: { config: unknown }[] }[] }).models;
    assert.deepEqual(model!.loaded_instances[0]!.config, { context_length: 4096, parallel: 4 });
    assert.deepEqual(model!.quantization, { name: "4bit", bits_per_weight: 4 });
  });
});

describe("simulator 0.4: load and unload", () => {
  it("POST /api/v1/models/load answers {type, instance_id, load_time_seconds, status} after the load", async () => {
    const s = await sim({ models: [GPT_TOOLS, NOMIC] });
    const llm = await request(s, "POST", "/api/v1/models/load", { model: GPT.key });
    assert.equal(llm.status, 200);
    const body = llm.json as Record<string, unknown>;
    assert.deepEqual(Object.keys(body), ["type", "instance_id", "load_time_seconds", "status"]);
    assert.equal(body.type, "llm");
    assert.equal(body.instance_id, GPT.key);
    assert.equal(typeof body.load_time_seconds, "number");
    assert.equal(body.status, "loaded");
    const embedding = await request(s, "POST", "/api/v1/models/load", {
      model: NOMIC.key,
      echo_load_config: true,
    });
    assert.deepEqual((embedding.json as { load_config: unknown }).load_config, { context_length: 2048 });
    assert.deepEqual(s.state.loaded().map((i) => i.id), [GPT.key, NOMIC.key]);
  });

  it("echoes the load config with context_length and flash_attention when asked", async () => {
    const s = await sim({ models: [GPT_TOOLS] });
    const { json: body } = await request(s, "POST", "/api/v1/models/load", {
      model: GPT.key,
      context_length: 16384,
      flash_attention: false,
      echo_load_config: true,
    });
    assert.deepEqual((body as { load_config: unknown }).load_config, {
      context_length: 16384,
      eval_batch_size: 512,
      flash_attention: false,
      offload_kv_cache_to_gpu: true,
      num_experts: 0,
    });
    assert.equal(s.state.loaded()[0]!.contextLength, 16384);
  });

  it("loading a loaded model creates a second instance key:2, then key:3", async () => {
    const s = await sim({ models: [GPT_TOOLS], loaded: [GPT.key] });
    const second = await request(s, "POST", "/api/v1/models/load", { model: GPT.key });
    const third = await request(s, "POST", "/api/v1/models/load", { model: GPT.key });
    assert.equal((second.json as { instance_id: string }).instance_id, `${GPT.key}:2`);
    assert.equal((third.json as { instance_id: string }).instance_id, `${GPT.key}:3`);
    const { json: body } = await request(s, "GET", "/api/v1/models");
    const ids = (body as { models: { loaded_instances: { id: string }[] }[] }).models[0]!.loaded_instances
      .map((i) => i.id);
    assert.deepEqual(ids, [GPT.key, `${GPT.key}:2`, `${GPT.key}:3`]);
  });

  it("a model appears in loaded_instances only once its load has finished", async () => {
    const s = await sim({ models: [GPT_TOOLS], loadDelayMs: 300 });
    const loading = request(s, "POST", "/api/v1/models/load", { model: GPT.key });
    await until("the load request to arrive", () => s.requestCount("/api/v1/models/load") === 1);
    assert.deepEqual(s.state.loaded(), []);
    await loading;
    assert.deepEqual(s.state.loaded(), [{ key: GPT.key, id: GPT.key, contextLength: 4096 }]);
  });

  it("rejects unknown models and variant keys with model_not_found, missing fields with invalid_request", async () => {
    const s = await sim({ models: [GPT_TOOLS] });
    const unknown = await request(s, "POST", "/api/v1/models/load", { model: "nope/nope" });
    assert.equal(unknown.status, 404);
    assert.deepEqual(unknown.json, {
      error: { type: "model_not_found", message: "Model nope/nope not found in downloaded models" },
    });
    const variant = await request(s, "POST", "/api/v1/models/load", { model: `${GPT.key}@q4_k_m` });
    assert.equal((variant.json as { error: { type: string } }).error.type, "model_not_found");
    const missing = await request(s, "POST", "/api/v1/models/load", {});
    assert.equal(missing.status, 400);
    assert.deepEqual(missing.json, {
      error: {
        type: "invalid_request",
        message: '"model" is required',
        code: "missing_required_parameter",
        param: "model",
      },
    });
    const badJson = await request(s, "POST", "/api/v1/models/load", "{not json");
    assert.equal(badJson.status, 400);
    assert.equal((badJson.json as { error: { type: string } }).error.type, "invalid_request");
    assert.deepEqual(s.state.loaded(), []);
  });

  it("failNextLoad makes the next load answer 500 model_load_failed; the one after succeeds", async () => {
    const s = await sim({ models: [GPT_TOOLS] });
    s.failNextLoad(GPT.key, "Not enough memory to load the model.");
    const failed = await request(s, "POST", "/api/v1/models/load", { model: GPT.key });
    assert.equal(failed.status, 500);
    assert.deepEqual(failed.json, {
      error: { type: "model_load_failed", message: "Not enough memory to load the model." },
    });
    assert.deepEqual(s.state.loaded(), []);
    const ok = await request(s, "POST", "/api/v1/models/load", { model: GPT.key });
    assert.equal(ok.status, 200);
  });

  it("POST /api/v1/models/unload takes instance_id and answers it back; unknown ids are 404", async () => {
    const s = await sim({ models: [GPT_TOOLS], loaded: [GPT.key, GPT.key] });
    const done = await request(s, "POST", "/api/v1/models/unload", { instance_id: `${GPT.key}:2` });
    assert.equal(done.status, 200);
    assert.deepEqual(done.json, { instance_id: `${GPT.key}:2` });
    assert.deepEqual(s.state.loaded().map((i) => i.id), [GPT.key]);
    const unknown = await request(s, "POST", "/api/v1/models/unload", { instance_id: "ghost" });
    assert.equal(unknown.status, 404);
    assert.equal((unknown.json as { error: { type: string } }).error.type, "model_not_found");
    const wrongField = await request(s, "POST", "/api/v1/models/unload", { model: GPT.key });
    assert.equal(wrongField.status, 400);
    assert.equal((wrongField.json as { error: { param: string } }).error.param, "instance_id");
  });
});

describe("simulator 0.4: downloads", () => {
  it("starts a job and reports documented status objects until completion; the model then appears", async () => {
    const s = await sim({ catalog: [QWEN], download: { mode: "manual", bytesPerSecond: 45_670_000 } });
    const started = await request(s, "POST", "/api/v1/models/download", { model: QWEN.key });
    assert.equal(started.status, 200);
    const job = started.json as Record<string, unknown>;
    assert.deepEqual(Object.keys(job), ["job_id", "status", "total_size_bytes", "started_at"]);
    assert.match(job.job_id as string, /^job_[0-9a-f]{10}$/);
    assert.equal(job.status, "downloading");
    assert.equal(job.total_size_bytes, QWEN.sizeBytes);
    assert.ok(!Number.isNaN(Date.parse(job.started_at as string)));

    s.advanceDownload(job.job_id as string, 1_000_000_000);
    const mid = (await request(s, "GET", `/api/v1/models/download/status/${job.job_id}`)).json as Record<
      string,
      unknown
    >;
    assert.equal(mid.status, "downloading");
    assert.equal(mid.downloaded_bytes, 1_000_000_000);
    assert.equal(mid.bytes_per_second, 45_670_000);
    assert.ok(Date.parse(mid.estimated_completion as string) > Date.parse(job.started_at as string));
    assert.equal(mid.completed_at, undefined);
    assert.equal((await request(s, "GET", "/api/v1/models")).text, '{"models":[]}');

    s.advanceDownload();
    const done = (await request(s, "GET", `/api/v1/models/download/status/${job.job_id}`)).json as Record<
      string,
      unknown
    >;
    assert.deepEqual(Object.keys(done).sort(), [
      "completed_at",
      "downloaded_bytes",
      "job_id",
      "started_at",
      "status",
      "total_size_bytes",
    ]);
    assert.equal(done.status, "completed");
    assert.equal(done.downloaded_bytes, QWEN.sizeBytes);
    const models = (await request(s, "GET", "/api/v1/models")).json as { models: { key: string }[] };
    assert.deepEqual(models.models.map((m) => m.key), [QWEN.key]);
    assert.deepEqual(
      ((await request(s, "GET", "/v1/models")).json as { data: { id: string }[] }).data.map((m) => m.id),
      [QWEN.key],
    );
  });

  it("in time mode progress follows the clock and completes on its own", async () => {
    const s = await sim({ catalog: [QWEN], download: { bytesPerSecond: 10 * QWEN.sizeBytes } });
    const job = (await request(s, "POST", "/api/v1/models/download", { model: QWEN.key })).json as {
      job_id: string;
    };
    let status = "";
    await until("the download to complete", async () => {
      const body = (await request(s, "GET", `/api/v1/models/download/status/${job.job_id}`)).json as {
        status: string;
      };
      status = body.status;
      return status !== "downloading";
    });
    assert.equal(status, "completed");
    assert.ok(s.state.models().some((m) => m.key === QWEN.key));
  });

  it("answers already_downloaded, the running job for a second request, and errors for unknown models and jobs", async () => {
    const s = await sim({ models: [GPT_TOOLS], catalog: [GPT_TOOLS, QWEN], download: { mode: "manual" } });
    assert.deepEqual((await request(s, "POST", "/api/v1/models/download", { model: GPT.key })).json, {
      status: "already_downloaded",
    });
    const first = (await request(s, "POST", "/api/v1/models/download", { model: QWEN.key })).json as {
      job_id: string;
    };
    const again = (await request(s, "POST", "/api/v1/models/download", { model: QWEN.key })).json as {
      job_id: string;
      status: string;
    };
    assert.equal(again.job_id, first.job_id);
    assert.equal(again.status, "downloading");
    const unknown = await request(s, "POST", "/api/v1/models/download", { model: "nobody/nothing" });
    assert.equal(unknown.status, 404);
    assert.equal((unknown.json as { error: { type: string } }).error.type, "model_not_found");
    const noJob = await request(s, "GET", "/api/v1/models/download/status/job_0000000000");
    assert.equal(noJob.status, 404);
    assert.equal((noJob.json as { error: { type: string } }).error.type, "job_not_found");
    assert.equal(s.state.jobs().length, 1);
  });

  it("failNextDownload sends the job to failed at the given fraction; the model never appears", async () => {
    const s = await sim({ catalog: [QWEN], download: { mode: "manual" } });
    s.failNextDownload(QWEN.key, 0.25);
    const job = (await request(s, "POST", "/api/v1/models/download", { model: QWEN.key })).json as {
      job_id: string;
    };
    s.advanceDownload(job.job_id, 100);
    assert.equal(
      ((await request(s, "GET", `/api/v1/models/download/status/${job.job_id}`)).json as { status: string })
        .status,
      "downloading",
    );
    s.advanceDownload(job.job_id, "complete");
    const failed = (await request(s, "GET", `/api/v1/models/download/status/${job.job_id}`)).json as Record<
      string,
      unknown
    >;
    assert.equal(failed.status, "failed");
    assert.equal(failed.downloaded_bytes, Math.floor(QWEN.sizeBytes * 0.25));
    assert.deepEqual(s.state.models(), []);
  });

  it("pauseDownload freezes a time-based job as paused until resumed", async () => {
    const s = await sim({ catalog: [QWEN], download: { bytesPerSecond: 1000 } });
    const job = (await request(s, "POST", "/api/v1/models/download", { model: QWEN.key })).json as {
      job_id: string;
    };
    s.pauseDownload();
    const paused = (await request(s, "GET", `/api/v1/models/download/status/${job.job_id}`)).json as Record<
      string,
      unknown
    >;
    assert.equal(paused.status, "paused");
    assert.equal(paused.bytes_per_second, undefined);
    s.resumeDownload(job.job_id);
    s.advanceDownload(job.job_id);
    assert.equal(
      ((await request(s, "GET", `/api/v1/models/download/status/${job.job_id}`)).json as { status: string })
        .status,
      "completed",
    );
  });
});

describe("simulator 0.4: inference and JIT", () => {
  it("JIT-loads a downloaded model on its first chat request and names the instance in `model`", async () => {
    const s = await sim({ models: [GPT_TOOLS], reply: "hi there" });
    const { status, json: body } = await request(s, "POST", "/v1/chat/completions", {
      model: GPT.key,
      messages: [{ role: "user", content: "hello" }],
    });
    assert.equal(status, 200);
    const completion = body as Record<string, unknown> & {
      choices: { message: { role: string; content: string } }[];
    };
    assert.match(completion.id as string, /^chatcmpl-/);
    assert.equal(completion.object, "chat.completion");
    assert.equal(completion.model, GPT.key);
    // LM Studio always sends `tool_calls`, empty on a text answer (lmstudio-bug-tracker#1318).
    assert.deepEqual(completion.choices[0]!.message, {
      role: "assistant",
      content: "hi there",
      tool_calls: [],
    });
    assert.deepEqual(Object.keys(completion.usage as object), [
      "prompt_tokens",
      "completion_tokens",
      "total_tokens",
    ]);
    assert.deepEqual(s.state.loaded().map((i) => i.id), [GPT.key]);
  });

  it("answers on the existing instance, and `model` echoes an explicit instance id like key:2", async () => {
    const s = await sim({ models: [GPT_TOOLS], loaded: [GPT.key, GPT.key] });
    const { json: body } = await request(s, "POST", "/v1/chat/completions", {
      model: `${GPT.key}:2`,
      messages: [],
    });
    assert.equal((body as { model: string }).model, `${GPT.key}:2`);
    assert.equal(s.state.loaded().length, 2);
  });

  it("with JIT off and nothing loaded answers the documented 'No models loaded' error", async () => {
    const s = await sim({ models: [GPT_TOOLS], jit: false });
    const { status, json: body } = await request(s, "POST", "/v1/chat/completions", {
      model: GPT.key,
      messages: [],
    });
    assert.equal(status, 400);
    assert.deepEqual(body, {
      error: {
        message: "No models loaded. Please load a model in the developer page or use the 'lms load' command.",
        type: "invalid_request_error",
        param: "model",
        code: null,
      },
    });
    assert.deepEqual(s.state.loaded(), []);
  });

  it("rejects a model that is not downloaded with an OpenAI-style model_not_found", async () => {
    const s = await sim({ models: [GPT_TOOLS] });
    const { status, json: body } = await request(s, "POST", "/v1/chat/completions", {
      model: "o4-mini",
      messages: [],
    });
    assert.equal(status, 400);
    const error = (body as { error: Record<string, unknown> }).error;
    assert.equal(error.type, "invalid_request_error");
    assert.equal(error.code, "model_not_found");
    assert.match(error.message as string, /Invalid model identifier "o4-mini"/);
  });

  it("auto-evicts the previous JIT model but keeps models loaded on purpose", async () => {
    const s = await sim({ models: [GPT_TOOLS, QWEN, GEMMA], loaded: [GEMMA.key] });
    await request(s, "POST", "/v1/chat/completions", { model: GPT.key, messages: [] });
    await request(s, "POST", "/v1/chat/completions", { model: QWEN.key, messages: [] });
    assert.deepEqual(s.state.loaded().map((i) => i.id), [GEMMA.key, QWEN.key]);
  });

  it("a JIT load honours the request's ttl (seconds) and the model unloads when idle that long", async () => {
    // 1 s: read right after the reply, the instance is surely still there, and its TTL is the value asked.
    const s = await sim({ models: [GPT_TOOLS] });
    await request(s, "POST", "/v1/chat/completions", { model: GPT.key, messages: [], ttl: 1 });
    assert.equal(s.state.loaded().length, 1);
    assert.deepEqual(s.state.instances().map((i) => [i.id, i.ttlMs]), [[GPT.key, 1000]]);
    await until("the TTL to expire", () => s.state.loaded().length === 0);
  });

  it("a failed JIT load answers 500 and loads nothing", async () => {
    const s = await sim({ models: [GPT_TOOLS] });
    s.failNextLoad();
    const { status } = await request(s, "POST", "/v1/chat/completions", { model: GPT.key, messages: [] });
    assert.equal(status, 500);
    assert.deepEqual(s.state.loaded(), []);
  });

  it("POST /v1/responses answers the Responses shape", async () => {
    const s = await sim({ models: [GPT_TOOLS], reply: "ok" });
    const { status, json: body } = await request(s, "POST", "/v1/responses", { model: GPT.key, input: "hi" });
    assert.equal(status, 200);
    const response = body as Record<string, unknown>;
    assert.match(response.id as string, /^resp_/);
    assert.equal(response.object, "response");
    assert.equal(response.model, GPT.key);
    assert.equal(response.status, "completed");
    const [message] = response.output as { type: string; role: string; content: unknown[] }[];
    assert.equal(message!.type, "message");
    assert.equal(message!.role, "assistant");
    assert.deepEqual(message!.content, [{ type: "output_text", text: "ok", annotations: [] }]);
    assert.deepEqual(Object.keys(response.usage as object), [
      "input_tokens",
      "output_tokens",
      "total_tokens",
    ]);
  });

  it("streams chat completions as SSE chunks ending with [DONE]", async () => {
    const s = await sim({ models: [GPT_TOOLS], loaded: [GPT.key], reply: "one two" });
    const { headers, text } = await request(s, "POST", "/v1/chat/completions", {
      model: GPT.key,
      messages: [],
      stream: true,
    });
    assert.equal(headers.get("content-type"), "text/event-stream");
    const events = text.split("\n\n").filter(Boolean).map((e) => e.replace(/^data: /, ""));
    assert.equal(events.at(-1), "[DONE]");
    const chunks = events.slice(0, -1).map((e) =>
      JSON.parse(e) as { choices: { delta: { content?: string } }[] }
    );
    assert.equal(chunks.map((c) => c.choices[0]?.delta.content ?? "").join(""), "one two");
  });

  it("answers embeddings only with embedding models", async () => {
    const s = await sim({ models: [GPT_TOOLS, NOMIC] });
    const { status, json: body } = await request(s, "POST", "/v1/embeddings", {
      model: NOMIC.key,
      input: ["a", "b"],
    });
    assert.equal(status, 200);
    const result = body as { object: string; data: { embedding: number[]; index: number }[]; model: string };
    assert.equal(result.object, "list");
    assert.deepEqual(result.data.map((d) => d.index), [0, 1]);
    assert.equal(result.data[0]!.embedding.length, 8);
    assert.equal(result.model, NOMIC.key);
    const wrong = await request(s, "POST", "/v1/chat/completions", { model: NOMIC.key, messages: [] });
    assert.equal(wrong.status, 400);
  });
});

describe("simulator: version profiles and unknown routes", () => {
  it("answers unknown routes and methods with HTTP 200 and a string error", async () => {
    const s = await sim();
    for (
      const [method, path] of [
        ["GET", "/x"],
        ["POST", "/v1/models"],
        ["GET", "/api/v1/models/download-status"],
        ["POST", "/v1/models/unload"],
        ["OPTIONS", "/v1/models"],
      ] as const
    ) {
      const answer = await request(s, method, path);
      assert.equal(answer.status, 200, `${method} ${path}`);
      assert.equal(answer.headers.get("content-type"), "application/json; charset=utf-8");
      assert.deepEqual(answer.json, { error: `Unexpected endpoint or method. (${method} ${path})` });
    }
  });

  it("0.3 has the greeting, /v1/*, /v1/responses and REST v0, but /api/v1/* are unknown routes", async () => {
    const s = await sim({ version: "0.3", models: [GPT_TOOLS], catalog: [QWEN] });
    assert.deepEqual((await request(s, "GET", "/lmstudio-greeting")).json, { lmstudio: true });
    assert.equal(((await request(s, "GET", "/api/v0/models")).json as { data: unknown[] }).data.length, 1);
    assert.equal((await request(s, "POST", "/v1/responses", { model: GPT.key, input: "x" })).status, 200);
    for (
      const [method, path, body] of [
        ["GET", "/api/v1/models", undefined],
        ["POST", "/api/v1/models/load", { model: GPT.key }],
        ["POST", "/api/v1/models/download", { model: QWEN.key }],
      ] as const
    ) {
      const answer = await request(s, method, path, body);
      assert.equal(answer.status, 200);
      assert.deepEqual(answer.json, { error: `Unexpected endpoint or method. (${method} ${path})` });
    }
    assert.deepEqual(s.state.jobs(), []);
  });

  it("0.3 reports 'No models loaded' in the older string form", async () => {
    const s = await sim({ version: "0.3", models: [GPT_TOOLS], jit: false });
    const { status, json: body } = await request(s, "POST", "/v1/chat/completions", {
      model: GPT.key,
      messages: [],
    });
    assert.equal(status, 400);
    assert.deepEqual(body, {
      error: "No models loaded. Please load a model in the developer page or use the 'lms load' command.",
    });
  });

  it("0.2 only has /v1/models and /v1/chat/completions; greeting, /v1/responses and /api/* are unknown", async () => {
    const s = await sim({ version: "0.2", models: [GPT_TOOLS] });
    assert.equal(((await request(s, "GET", "/v1/models")).json as { data: unknown[] }).data.length, 1);
    assert.equal(
      (await request(s, "POST", "/v1/chat/completions", { model: GPT.key, messages: [] })).status,
      200,
    );
    for (
      const [method, path] of [["GET", "/lmstudio-greeting"], ["POST", "/v1/responses"], [
        "GET",
        "/api/v0/models",
      ], [
        "GET",
        "/api/v1/models",
      ]] as const
    ) {
      assert.deepEqual((await request(s, method, path, method === "POST" ? {} : undefined)).json, {
        error: `Unexpected endpoint or method. (${method} ${path})`,
      });
    }
  });
});

describe("simulator: authentication", () => {
  const MISSING =
    "An LM Studio API token is required to make requests to this server, but none was provided using the Authorization header using the 'Bearer' scheme (i.e., 'Authorization: Bearer $LM_API_TOKEN'). Learn more at: https://lmstudio.ai/docs/developer/core/authentication.";

  it("keeps the greeting open and answers 401 invalid_api_key without a token, everywhere else", async () => {
    const s = await sim({ auth: { token: TOKEN }, models: [GPT_TOOLS] });
    assert.equal((await request(s, "GET", "/lmstudio-greeting")).status, 200);
    for (const path of ["/v1/models", "/api/v0/models", "/api/v1/models", "/nope"]) {
      const answer = await request(s, "GET", path);
      assert.equal(answer.status, 401, path);
      assert.deepEqual(answer.json, {
        error: { type: "invalid_request", code: "invalid_api_key", message: MISSING },
      });
    }
  });

  it("a wrong token gets 401 showing only its first 10 characters; the right one passes", async () => {
    const s = await sim({ auth: { token: TOKEN }, models: [GPT_TOOLS] });
    const wrongToken = "22aac52a71b0c9d8e7f6";
    const wrong = await request(s, "GET", "/api/v1/models", undefined, {
      authorization: `Bearer ${wrongToken}`,
    });
    assert.equal(wrong.status, 401);
    assert.deepEqual(wrong.json, {
      error: {
        type: "invalid_request",
        code: "invalid_api_key",
        message: "Malformed LM Studio API token provided: 22aac52a71... Ensure you are using a valid token.",
      },
    });
    assert.ok(!wrong.text.includes(wrongToken));
    const otherValid = await request(s, "GET", "/api/v1/models", undefined, {
      authorization: "Bearer sk-lm-zzzzzzzz:01234567890123456789",
    });
    assert.equal(otherValid.status, 401);
    assert.match(
      (otherValid.json as { error: { message: string } }).error.message,
      /^Invalid LM Studio API token provided: sk-lm-zzzz\.\.\./,
    );
    const right = await request(s, "GET", "/api/v1/models", undefined, { authorization: `Bearer ${TOKEN}` });
    assert.equal(right.status, 200);
  });

  it("setAuth turns authentication on and off at run time", async () => {
    const s = await sim();
    assert.equal((await request(s, "GET", "/v1/models")).status, 200);
    s.setAuth("secret-token");
    assert.equal((await request(s, "GET", "/v1/models")).status, 401);
    assert.equal(
      (await request(s, "GET", "/v1/models", undefined, { authorization: "Bearer secret-token" })).status,
      200,
    );
    s.setAuth(undefined);
    assert.equal((await request(s, "GET", "/v1/models")).status, 200);
  });
});

describe("simulator: request recording", () => {
  it("records method, path, query, headers (credentials redacted) and body", async () => {
    const s = await sim({ auth: { token: TOKEN }, models: [GPT_TOOLS] });
    await request(s, "POST", "/api/v1/models/load?x=1", { model: GPT.key }, {
      authorization: `Bearer ${TOKEN}`,
      "x-trace": "abc",
    });
    assert.equal(s.requests.length, 1);
    const [recorded] = s.requests;
    assert.equal(recorded!.method, "POST");
    assert.equal(recorded!.path, "/api/v1/models/load");
    assert.equal(recorded!.query, "x=1");
    assert.equal(recorded!.body, JSON.stringify({ model: GPT.key }));
    assert.equal(recorded!.headers["authorization"], "[redacted]");
    assert.equal(recorded!.headers["x-trace"], "abc");
    assert.equal(typeof recorded!.time, "number");
    assert.ok(!JSON.stringify(s.requests).includes(TOKEN), "no token anywhere in the records");
  });

  it("counts by exact path, RegExp and method; control routes are never recorded", async () => {
    const s = await sim({ models: [GPT_TOOLS] });
    await request(s, "GET", "/v1/models");
    await request(s, "GET", "/v1/models");
    await request(s, "GET", "/api/v0/models");
    await request(s, "POST", "/v1/models", {});
    await fetch(`${s.controlUrl}/__simulator/state`).then((r) => r.text());
    await fetch(`${s.url}/__simulator/state`).then((r) => r.text());
    assert.equal(s.requestCount(), 4);
    assert.equal(s.requestCount("/v1/models"), 3);
    assert.equal(s.requestCount("/v1/models", "get"), 2);
    assert.equal(s.requestCount(/models$/), 4);
    s.clearRequests();
    assert.equal(s.requestCount(), 0);
  });
});

describe("simulator: faults", () => {
  it("delay answers normally after the delay; a client with a shorter deadline gives up", async () => {
    const s = await sim({ models: [GPT_TOOLS] });
    s.inject({ match: "/v1/models", kind: "delay", ms: 3000, times: 1 });
    await assert.rejects(
      fetch(`${s.url}/v1/models`, { signal: AbortSignal.timeout(100) }),
      (error: Error) => error.name === "TimeoutError",
    );
    s.inject({ match: "/v1/models", kind: "delay", ms: 30, times: 1 });
    assert.equal(((await request(s, "GET", "/v1/models")).json as { data: unknown[] }).data.length, 1);
  });

  it("hang never answers; the client aborts and close() still returns promptly", async () => {
    const s = await sim();
    s.inject({ match: /^\/api\//, kind: "hang" });
    const controller = new AbortController();
    const pending = fetch(`${s.url}/api/v1/models`, { signal: controller.signal });
    await until("the hung request to arrive", () => s.requestCount("/api/v1/models") === 1);
    controller.abort();
    await assert.rejects(pending, (error: Error) => error.name === "AbortError");
    const stillHanging = fetch(`${s.url}/api/v0/models`).then(() => "answered", () => "failed");
    await until("the second hung request", () => s.requestCount() === 2);
    await s.close();
    assert.equal(await stillHanging, "failed");
  });

  it("close drops the connection without an answer", async () => {
    const s = await sim();
    s.inject({ match: "/lmstudio-greeting", kind: "close", times: 1 });
    await assert.rejects(fetch(`${s.url}/lmstudio-greeting`), TypeError);
    assert.equal((await request(s, "GET", "/lmstudio-greeting")).status, 200, "times: 1 means only once");
  });

  it("close-mid-body sends headers and part of the real body, then drops the connection", async () => {
    const s = await sim({ models: [GPT_TOOLS] });
    s.inject({ match: "/api/v1/models", kind: "close-mid-body" });
    const response = await fetch(`${s.url}/api/v1/models`);
    assert.equal(response.status, 200);
    await assert.rejects(response.text());
  });

  it("respond serves any status, content type and body (here an HTML error page)", async () => {
    const s = await sim();
    s.inject({
      match: "/v1/models",
      method: "GET",
      kind: "respond",
      status: 502,
      contentType: "text/html",
      body: "<html>Bad Gateway</html>",
    });
    s.inject({
      match: "/api/v0/models",
      kind: "respond",
      body: { data: "not a list" },
      headers: { "x-extra": "1" },
    });
    const html = await request(s, "GET", "/v1/models");
    assert.equal(html.status, 502);
    assert.equal(html.headers.get("content-type"), "text/html");
    assert.equal(html.text, "<html>Bad Gateway</html>");
    const object = await fetch(`${s.url}/api/v0/models`);
    assert.equal(object.headers.get("x-extra"), "1");
    assert.deepEqual(await object.json(), { data: "not a list" });
    assert.equal(
      (await request(s, "POST", "/v1/models", {})).status,
      200,
      "method filter: POST is not faulted",
    );
  });

  it("size streams a JSON body of exactly that many bytes, and stops when the client goes away", async () => {
    const s = await sim();
    s.inject({ match: "/v1/models", kind: "size", bytes: 100_000, times: 1 });
    const small = await fetch(`${s.url}/v1/models`);
    const bytes = new Uint8Array(await small.arrayBuffer());
    assert.equal(bytes.length, 100_000);
    assert.equal(JSON.parse(new TextDecoder().decode(bytes)).data.length, 100_000 - 11);
    s.inject({ match: "/v1/models", kind: "size", bytes: 10_000_000_000, times: 1 });
    const huge = await fetch(`${s.url}/v1/models`);
    const reader = huge.body!.getReader();
    let received = 0;
    while (received < 500_000) {
      const { value, done } = await reader.read();
      if (done) break;
      received += value.length;
    }
    await reader.cancel();
    assert.ok(received >= 500_000);
  });

  it("drip sends bytes slowly until the client gives up", async () => {
    const s = await sim();
    s.inject({ match: "/v1/models", kind: "drip", intervalMs: 10, chunk: "." });
    const controller = new AbortController();
    const response = await fetch(`${s.url}/v1/models`, { signal: controller.signal });
    const reader = response.body!.getReader();
    const { value } = await reader.read();
    assert.ok(value && value.length > 0 && value.length < 100);
    controller.abort();
    await assert.rejects(reader.read());
  });

  it("redirect answers 302 with a Location", async () => {
    const s = await sim();
    s.inject({ match: "/v1/models", kind: "redirect", location: "http://example.invalid/" });
    const response = await fetch(`${s.url}/v1/models`, { redirect: "manual" });
    assert.equal(response.status, 302);
    assert.equal(response.headers.get("location"), "http://example.invalid/");
    await response.body?.cancel();
  });

  it("faults apply in order, `times` runs out, and clearFaults removes the rest", async () => {
    const s = await sim();
    s.inject({ match: "/v1/models", kind: "respond", status: 500, body: "first", times: 1 });
    s.inject({ match: "/v1/models", kind: "respond", status: 503, body: "second" });
    assert.equal((await request(s, "GET", "/v1/models")).text, "first");
    assert.equal((await request(s, "GET", "/v1/models")).text, "second");
    assert.equal((await request(s, "GET", "/v1/models")).text, "second");
    s.clearFaults();
    assert.equal((await request(s, "GET", "/v1/models")).status, 200);
    assert.equal(s.requestCount("/v1/models"), 4, "faulted requests are recorded too");
  });
});

describe("simulator: state control", () => {
  it("addModel, loadModel (key:2), unloadInstance and removeModel change what the API reports", async () => {
    const s = await sim();
    s.addModel(GPT_TOOLS);
    assert.deepEqual(s.loadModel(GPT.key), { key: GPT.key, id: GPT.key, contextLength: 4096 });
    assert.deepEqual(s.loadModel(GPT.key, { contextLength: 8192 }), {
      key: GPT.key,
      id: `${GPT.key}:2`,
      contextLength: 8192,
    });
    assert.equal(s.loadModel(GPT.key, { identifier: "mine" }).id, "mine");
    assert.throws(() => s.loadModel(GPT.key, { identifier: "mine" }), /already exists/);
    assert.throws(() => s.loadModel("nope"), /not found/);
    assert.equal(s.unloadInstance(GPT.key), true);
    assert.equal(s.unloadInstance(GPT.key), false);
    assert.deepEqual(s.state.loaded().map((i) => i.id), [`${GPT.key}:2`, "mine"]);
    assert.equal(s.loadModel(GPT.key).id, GPT.key, "a freed identifier is reused");
    assert.equal(s.removeModel(GPT.key), true);
    assert.deepEqual(s.state.loaded(), []);
    assert.deepEqual((await request(s, "GET", "/api/v1/models")).json, { models: [] });
  });

  it("state.models() fills in the documented defaults", async () => {
    const s = await sim({ models: [{ key: "llama-3.2-1b-instruct" }] });
    assert.deepEqual(s.state.models(), [{
      key: "llama-3.2-1b-instruct",
      type: "llm",
      publisher: "lmstudio-community",
      displayName: "Llama 3.2 1b Instruct",
      architecture: "llama",
      quantization: "Q4_K_M",
      bitsPerWeight: 4,
      sizeBytes: 1e9,
      maxContextLength: 131072,
      format: "gguf",
      vision: false,
      trainedForToolUse: false,
      paramsString: "1B",
    }]);
  });

  it("refuses an inconsistent start state", async () => {
    await assert.rejects(startSimulator({ loaded: ["not-downloaded"] }), /loaded\[0\] .*not downloaded/);
    await assert.rejects(startSimulator({ version: "9.9" as "0.4" }), /Unknown simulator version/);
    await assert.rejects(
      startSimulator({ models: [{ key: "" }] }),
      /models\[0\]\.key must be a non-empty string/,
    );
  });

  it("a stopped server refuses connections on its port; starting it again serves the same port", async () => {
    const s = await sim({ serverRunning: false });
    const port = s.port;
    await assert.rejects(fetch(`${s.url}/lmstudio-greeting`), TypeError);
    const state = await fetch(`${s.controlUrl}/__simulator/state`).then((r) => r.json()) as {
      serverRunning: boolean;
    };
    assert.equal(state.serverRunning, false, "the control listener stays up");
    await s.setServerRunning(true);
    assert.equal(s.port, port);
    assert.equal((await request(s, "GET", "/lmstudio-greeting")).status, 200);
    await s.setServerRunning(false);
    await assert.rejects(fetch(`${s.url}/lmstudio-greeting`), TypeError);
  });

  it("close() is idempotent and ends open connections", async () => {
    const s = await startSimulator();
    s.inject({ match: "/v1/models", kind: "drip", intervalMs: 20 });
    const response = await fetch(`${s.url}/v1/models`);
    const reading = response.text().then(() => "ended", () => "cut");
    await Promise.all([s.close(), s.close()]);
    assert.ok(["ended", "cut"].includes(await reading));
    await assert.rejects(fetch(`${s.url}/v1/models`), TypeError);
  });
});
