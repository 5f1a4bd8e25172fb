/**
 * REST v0 inference in the simulator (`/api/v0/chat/completions`, `/api/v0/completions`,
 * `/api/v0/embeddings`, LM Studio 0.3+): the `/v1` answer with the fields the docs' v0 examples
 * add (`stats`, `model_info`, `runtime`; docs `2_rest/endpoints.mdx`).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Simulator, SimulatorState } from "../src/testing/simulator.ts";
import { request, useSimulators } from "./_helpers.ts";
import { NOMIC, QWEN } from "./_fixtures.ts";

const sim = useSimulators();
const REPLY = "Greetings, I am a helpful AI.";
const RUNTIME = {
  name: "llama.cpp-mac-arm64-apple-metal-advsimd",
  version: "1.3.0",
  supported_formats: ["gguf"],
};

/** A v0 answer as these specs read it (fields are checked one by one). */
// deno-lint-ignore no-explicit-any
type Answer = any;

function ready(state: SimulatorState = {}): Promise<Simulator> {
  return sim({
    models: [QWEN, NOMIC],
    loaded: [{ key: QWEN.key, contextLength: 8192 }],
    reply: REPLY,
    ...state,
  });
}

describe("REST v0 inference endpoints", () => {
  it("chat/completions: the chat completion plus stats, model_info and runtime, in the docs' order", async () => {
    const s = await ready();
    const { status, json } = await request<Answer>(s, "POST", "/api/v0/chat/completions", {
      model: QWEN.key,
      messages: [{ role: "user", content: "Introduce yourself." }],
      max_tokens: -1,
    });
    assert.equal(status, 200);
    assert.deepEqual(Object.keys(json), [
      "id",
      "object",
      "created",
      "model",
      "choices",
      "usage",
      "stats",
      "model_info",
      "runtime",
    ]);
    assert.equal(json.object, "chat.completion");
    assert.equal(json.choices[0].message.content, REPLY);
    assert.equal(json.choices[0].finish_reason, "stop");
    assert.deepEqual(Object.keys(json.stats), [
      "tokens_per_second",
      "time_to_first_token",
      "generation_time",
      "stop_reason",
    ]);
    assert.equal(json.stats.stop_reason, "eosFound");
    assert.deepEqual(json.model_info, {
      arch: "llama",
      quant: "Q4_K_M",
      format: "gguf",
      context_length: 8192,
    });
    assert.deepEqual(json.runtime, RUNTIME);
  });

  it("completions with max_tokens: finish_reason length, stop_reason maxPredictedTokensReached", async () => {
    const s = await ready();
    const { status, json } = await request<Answer>(s, "POST", "/api/v0/completions", {
      model: QWEN.key,
      prompt: "the meaning of life is",
      max_tokens: 2,
    });
    assert.equal(status, 200);
    assert.equal(json.object, "text_completion");
    assert.equal(json.choices[0].text, REPLY.slice(0, 8));
    assert.equal(json.choices[0].finish_reason, "length");
    assert.equal(json.stats.stop_reason, "maxPredictedTokensReached");
    assert.equal(json.usage.completion_tokens, 2);
  });

  it("embeddings: the /v1 list, as the docs' example shows it", async () => {
    const s = await ready();
    const { status, json } = await request<Answer>(s, "POST", "/api/v0/embeddings", {
      model: NOMIC.key,
      input: "Some text to embed",
    });
    assert.equal(status, 200);
    assert.deepEqual(Object.keys(json), ["object", "data", "model", "usage"]);
    assert.equal(json.data[0].object, "embedding");
  });

  it("errors are the /v1 ones; 0.3 has the endpoints, 0.2 does not", async () => {
    const s = await ready();
    const missing = await request<Answer>(s, "POST", "/api/v0/chat/completions", { model: QWEN.key });
    assert.deepEqual({ status: missing.status, json: missing.json }, {
      status: 400,
      json: { error: "'messages' field is required" },
    });
    const s3 = await ready({ version: "0.3" });
    assert.equal(
      (await request(s3, "POST", "/api/v0/chat/completions", { model: QWEN.key, messages: [] })).status,
      200,
    );
    const s2 = await ready({ version: "0.2" });
    assert.deepEqual(
      (await request(s2, "POST", "/api/v0/completions", { model: QWEN.key, prompt: "x" })).json,
      {
        error: "Unexpected endpoint or method. (POST /api/v0/completions)",
      },
    );
  });
});
