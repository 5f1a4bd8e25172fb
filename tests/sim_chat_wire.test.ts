/**
 * Chat completions on the wire as LM Studio sends them, where it differs from OpenAI: the empty
 * `tool_calls: []` on text answers (lmstudio-bug-tracker#1318), a streamed context overflow as
 * HTTP 200 with an `event: error` frame (0.4.21, goose#11318 / #2322), and reasoning in
 * `message.reasoning` / `delta.reasoning` (changelog 0.3.23).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import type { SimModel, SimulatorVersion } from "../src/testing/simulator.ts";
import { chatCompletions, useSimulators } from "./_helpers.ts";
import { collectChat, openaiClient } from "./_openai.ts";
import { GPT, QWEN } from "./_fixtures.ts";

const sim = useSimulators();
const REPLY = "Hello there.";
const REASONER: SimModel = {
  ...GPT,
  reasoning: { allowedOptions: ["low", "medium", "high"], default: "medium" },
};

describe("chat wire: tool_calls on text answers", () => {
  for (const [version, expected] of [["0.4", []], ["0.3", []], ["0.2", undefined]] as const) {
    it(`${version}: a text answer's message ${expected ? "has tool_calls: []" : "has no tool_calls"}`, async () => {
      const s = await sim({
        version: version as SimulatorVersion,
        models: [QWEN],
        loaded: [QWEN.key],
        reply: REPLY,
      });
      const body = (await chatCompletions(s)).json as { choices: { message: Record<string, unknown> }[] };
      assert.deepEqual(body.choices[0]!.message.tool_calls, expected);
      assert.equal(body.choices[0]!.message.content, REPLY);
    });
  }
});

describe("chat wire: a streamed request whose prompt does not fit", () => {
  const big = "x".repeat(4 * 5000); // 5000 tokens of the estimate, above the 4096 default context

  it("0.4: HTTP 200, an event stream with one `event: error` frame in LM Studio 0.4.21's words", async () => {
    const s = await sim({ models: [QWEN], loaded: [QWEN.key] });
    const response = await chatCompletions(s, { messages: [{ role: "user", content: big }], stream: true });
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /^text\/event-stream/);
    const message =
      "Input does not fit in context length. The input has 5000 tokens, but the context length only supports 4096 tokens.";
    assert.equal(
      response.text,
      `event: error\ndata: ${JSON.stringify({ error: { message }, message })}\n\n`,
    );
  });

  it("0.4: the openai SDK's create() resolves and the error is thrown while iterating", async () => {
    const s = await sim({ models: [QWEN], loaded: [QWEN.key] });
    const stream = await openaiClient(s).chat.completions.create({
      model: QWEN.key,
      messages: [{ role: "user", content: big }],
      stream: true,
    });
    await assert.rejects(
      collectChat(stream),
      (error: unknown) =>
        error instanceof OpenAI.APIError && /does not fit in context length/.test(error.message),
    );
  });

  it("0.4 without stream, and 0.3 streamed, keep the plain 400 with llama.cpp's message", async () => {
    const s4 = await sim({ models: [QWEN], loaded: [QWEN.key] });
    const whole = await chatCompletions(s4, { messages: [{ role: "user", content: big }] });
    assert.equal(whole.status, 400);
    assert.match((whole.json as { error: string }).error, /n_keep: 5000>= n_ctx: 4096/);
    const s3 = await sim({ version: "0.3", models: [QWEN], loaded: [QWEN.key] });
    const streamed = await chatCompletions(s3, { messages: [{ role: "user", content: big }], stream: true });
    assert.equal(streamed.status, 400);
  });
});

describe("chat wire: reasoning of a model declared with reasoning", () => {
  it("message.reasoning holds the thinking, content the answer; usage counts both", async () => {
    const s = await sim({ models: [REASONER], loaded: [REASONER.key], reply: REPLY });
    const completion = await openaiClient(s).chat.completions.create({
      model: REASONER.key,
      messages: [{ role: "user", content: "hi" }],
    });
    const message = completion.choices[0]!.message as typeof completion.choices[0]["message"] & {
      reasoning?: string;
    };
    assert.equal(message.content, REPLY);
    assert.equal(typeof message.reasoning, "string");
    const reasoningTokens = Math.ceil(message.reasoning!.length / 4);
    assert.equal(completion.usage!.completion_tokens, Math.ceil(REPLY.length / 4) + reasoningTokens);
    assert.equal(completion.usage!.completion_tokens_details?.reasoning_tokens, reasoningTokens);
  });

  it("streamed: delta.reasoning chunks come first, then delta.content", async () => {
    const s = await sim({ models: [REASONER], loaded: [REASONER.key], reply: REPLY });
    const stream = await openaiClient(s).chat.completions.create({
      model: REASONER.key,
      messages: [{ role: "user", content: "hi" }],
      stream: true,
    });
    const kinds: string[] = [];
    let content = "";
    for await (const chunk of stream) {
      const delta = (chunk.choices[0]?.delta ?? {}) as { content?: string; reasoning?: string };
      if (delta.reasoning) kinds.push("reasoning");
      if (delta.content) kinds.push("content");
      content += delta.content ?? "";
    }
    assert.equal(content, REPLY);
    assert.equal(kinds[0], "reasoning");
    assert.equal(kinds.at(-1), "content");
    assert.equal(kinds.lastIndexOf("reasoning") < kinds.indexOf("content"), true);
  });

  it("reasoning_effort none turns it off; a model without reasoning never has it", async () => {
    const s = await sim({ models: [REASONER, QWEN], loaded: [REASONER.key, QWEN.key] });
    const off = (await chatCompletions(s, { model: REASONER.key, reasoning_effort: "none" })).json as {
      choices: { message: Record<string, unknown> }[];
    };
    assert.equal(off.choices[0]!.message.reasoning, undefined);
    const plain = (await chatCompletions(s)).json as { choices: { message: Record<string, unknown> }[] };
    assert.equal(plain.choices[0]!.message.reasoning, undefined);
  });
});
