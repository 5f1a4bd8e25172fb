/**
 * `POST /api/v1/chat` in the simulator (REST v1, docs `2_rest/chat.md`): `context_length` sets
 * the JIT load's context, a prompt beyond the loaded context is refused as on `/v1`, malformed
 * input items get LM Studio's observed 400, `max_output_tokens` cuts the answer, and a reasoning
 * model's thinking comes as a `reasoning` output item and `reasoning.*` events.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { SimModel, Simulator } from "../src/testing/simulator.ts";
import { type Reply, request, useSimulators } from "./_helpers.ts";
import { GPT, QWEN } from "./_fixtures.ts";

const sim = useSimulators();
const REPLY = "Hello from the REST chat.";
const REASONER: SimModel = { ...GPT, reasoning: true };

function chat(s: Simulator, body: Record<string, unknown>): Promise<Reply> {
  return request(s, "POST", "/api/v1/chat", body);
}

function eventTypes(text: string): string[] {
  return [...text.matchAll(/^event: (.*)$/gm)].map((m) => m[1]!);
}

describe("REST v1 chat: loading and context", () => {
  it("context_length is the context of the JIT load", async () => {
    const s = await sim({ models: [QWEN], reply: REPLY });
    const { status } = await chat(s, { model: QWEN.key, input: "hi", context_length: 8000 });
    assert.equal(status, 200);
    const [instance] = s.state.instances();
    assert.equal(instance?.contextLength, 8000);
    assert.equal(instance?.requestedContextLength, 8000);
    assert.equal(instance?.loadedBy, "jit");
  });

  it("context_length above the model's maximum, or not a positive integer, is the load endpoint's 400", async () => {
    const s = await sim({ models: [{ ...GPT, maxContextLength: 8192 }] });
    for (
      const [context_length, message] of [[16384, /greater than the maximum context length/], [
        "big",
        /positive integer/,
      ]]
    ) {
      const reply = await chat(s, { model: GPT.key, input: "hi", context_length });
      assert.equal(reply.status, 400);
      const error = (reply.json as { error: { type: string; param: string; message: string } }).error;
      assert.equal(error.type, "invalid_request");
      assert.equal(error.param, "context_length");
      assert.match(error.message, message as RegExp);
    }
    assert.deepEqual(s.state.loaded(), [], "nothing was loaded");
  });

  it("a prompt that does not fit the loaded context is a 400 with llama.cpp's message", async () => {
    const s = await sim({ models: [QWEN], loaded: [QWEN.key], reply: REPLY });
    const { status, text } = await chat(s, { model: QWEN.key, input: "x".repeat(4 * 5000) });
    assert.equal(status, 400);
    const { error } = JSON.parse(text) as { error: { type: string; message: string } };
    assert.equal(error.type, "invalid_request");
    assert.match(
      error.message,
      /^The number of tokens to keep from the initial prompt .*n_keep: 5000>= n_ctx: 4096/,
    );
  });
});

describe("REST v1 chat: input items", () => {
  it("an item with the wrong field gets LM Studio's invalid_union 400", async () => {
    const s = await sim({ models: [QWEN], loaded: [QWEN.key] });
    const { status, text } = await chat(s, { model: QWEN.key, input: [{ type: "text", text: "hi" }] });
    assert.equal(status, 400);
    assert.deepEqual(JSON.parse(text), {
      error: {
        message: "'input.0.content' is required, Unrecognized key(s) in object: 'text'",
        type: "invalid_request",
        code: "invalid_union",
        param: "input",
      },
    });
  });

  it("the documented items pass: message and text with content, image with data_url", async () => {
    const s = await sim({ models: [QWEN], loaded: [QWEN.key] });
    const { status } = await chat(s, {
      model: QWEN.key,
      input: [
        { type: "message", content: "a" },
        { type: "text", content: "b" },
        { type: "image", data_url: "data:image/png;base64,AAAA" },
      ],
    });
    assert.equal(status, 200);
  });
});

describe("REST v1 chat: the answer", () => {
  it("max_output_tokens cuts the message and total_output_tokens counts what was sent", async () => {
    const s = await sim({ models: [QWEN], loaded: [QWEN.key], reply: REPLY });
    const { text } = await chat(s, { model: QWEN.key, input: "hi", max_output_tokens: 2 });
    const result = JSON.parse(text) as {
      output: { type: string; content: string }[];
      stats: Record<string, number>;
    };
    assert.deepEqual(result.output, [{ type: "message", content: REPLY.slice(0, 8) }]);
    assert.equal(result.stats.total_output_tokens, 2);
  });

  it("a reasoning model: a reasoning item first, reasoning_output_tokens within total_output_tokens", async () => {
    const s = await sim({ models: [REASONER], loaded: [REASONER.key], reply: REPLY });
    const { text } = await chat(s, { model: REASONER.key, input: "hi" });
    const result = JSON.parse(text) as {
      output: { type: string; content: string }[];
      stats: Record<string, number>;
    };
    assert.deepEqual(result.output.map((item) => item.type), ["reasoning", "message"]);
    const reasoningTokens = Math.ceil(result.output[0]!.content.length / 4);
    assert.equal(result.stats.reasoning_output_tokens, reasoningTokens);
    assert.equal(result.stats.total_output_tokens, reasoningTokens + Math.ceil(REPLY.length / 4));
    const off = JSON.parse((await chat(s, { model: REASONER.key, input: "hi", reasoning: "off" })).text) as {
      output: { type: string }[];
      stats: Record<string, number>;
    };
    assert.deepEqual(off.output.map((item) => item.type), ["message"]);
    assert.equal(off.stats.reasoning_output_tokens, 0);
  });

  it("streamed: the documented events in order, prompt processing and reasoning included", async () => {
    const s = await sim({ models: [REASONER], loaded: [REASONER.key], reply: "Hi." });
    const { text } = await chat(s, { model: REASONER.key, input: "hi", stream: true });
    const kinds = eventTypes(text).filter((t, i, all) => t !== all[i - 1]);
    assert.deepEqual(kinds, [
      "chat.start",
      "prompt_processing.start",
      "prompt_processing.progress",
      "prompt_processing.end",
      "reasoning.start",
      "reasoning.delta",
      "reasoning.end",
      "message.start",
      "message.delta",
      "message.end",
      "chat.end",
    ]);
  });
});
