/**
 * `tool_choice` wins over the reply script, as LM Studio's constrained sampling would: `"none"`
 * never calls a tool, `"required"` and a named function always do, `parallel_tool_calls: false`
 * makes at most one call. The scripted reply is used up either way: one reply per request.
 * `"required"` binds llama.cpp (GGUF) models only, as LM Studio's api-changelog 0.3.15 says: an MLX
 * model answers as under `"auto"`. `/v1/responses` refuses tools LM Studio refuses (a type other
 * than `function` or `mcp`), as the openai SDK meets it.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import { request, useSimulators } from "./_helpers.ts";
import { qwenLoaded } from "./_openai.ts";
import { QWEN } from "./_fixtures.ts";

const sim = useSimulators();
const REPLY = "The canned answer.";

const TOOLS: OpenAI.Chat.Completions.ChatCompletionTool[] = [
  { type: "function", function: { name: "get_time", parameters: { type: "object", properties: {} } } },
  {
    type: "function",
    function: {
      name: "get_weather",
      parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
    },
  },
];

const loaded = () => qwenLoaded(sim, { reply: REPLY });

type ToolChoice = OpenAI.Chat.Completions.ChatCompletionToolChoiceOption;

async function ask(
  client: OpenAI,
  tool_choice: ToolChoice | undefined,
  extra: Partial<OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming> = {},
) {
  const completion = await client.chat.completions.create({
    model: QWEN.key,
    messages: [{ role: "user", content: "Weather and time?" }],
    tools: TOOLS,
    ...(tool_choice === undefined ? {} : { tool_choice }),
    ...extra,
  });
  const choice = completion.choices[0]!;
  const calls = (choice.message.tool_calls ?? []).map((call) =>
    call.type === "function"
      ? { name: call.function.name, arguments: JSON.parse(call.function.arguments) }
      : call
  );
  return { finish: choice.finish_reason, content: choice.message.content, calls };
}

describe("tool_choice beats the reply script", () => {
  it('"none": scripted tool calls become the canned text, and the scripted reply is used up', async () => {
    const { s, client } = await loaded();
    s.queueReplies({ toolCalls: [{ name: "get_time" }] }, { text: "next" });
    assert.deepEqual(await ask(client, "none"), { finish: "stop", content: REPLY, calls: [] });
    assert.equal((await ask(client, undefined)).content, "next");
  });

  it('"required": a scripted text becomes a call of the first tool, with placeholder arguments', async () => {
    const { s, client } = await loaded();
    s.queueReplies({ text: "plain text" });
    assert.deepEqual(await ask(client, "required"), {
      finish: "tool_calls",
      content: null,
      calls: [{ name: "get_time", arguments: {} }],
    });
  });

  it('"required": scripted calls are kept as scripted', async () => {
    const { s, client } = await loaded();
    s.queueReplies({ toolCalls: [{ name: "get_weather", arguments: { city: "Oslo" } }] });
    assert.deepEqual((await ask(client, "required")).calls, [{
      name: "get_weather",
      arguments: { city: "Oslo" },
    }]);
  });

  it("a named function: a scripted text or a call of another tool becomes a call of that one", async () => {
    const { s, client } = await loaded();
    const named: ToolChoice = { type: "function", function: { name: "get_weather" } };
    s.queueReplies({ text: "plain" }, { toolCalls: [{ name: "get_time" }] }, {
      toolCalls: [{ name: "get_time" }, { name: "get_weather", arguments: { city: "Rome" } }],
    });
    const placeholder = [{ name: "get_weather", arguments: { city: "example" } }];
    assert.deepEqual((await ask(client, named)).calls, placeholder);
    assert.deepEqual((await ask(client, named)).calls, placeholder);
    assert.deepEqual((await ask(client, named)).calls, [{
      name: "get_weather",
      arguments: { city: "Rome" },
    }]);
  });

  it("parallel_tool_calls false: only the first scripted call", async () => {
    const { s, client } = await loaded();
    const both = { toolCalls: [{ name: "get_time" }, { name: "get_weather", arguments: { city: "Oslo" } }] };
    s.queueReplies(both, both);
    assert.deepEqual((await ask(client, "auto", { parallel_tool_calls: false })).calls, [
      { name: "get_time", arguments: {} },
    ]);
    assert.equal((await ask(client, "auto")).calls.length, 2);
  });

  it("Responses: tool_choice none and required win the same way", async () => {
    const { s, client } = await loaded();
    s.queueReplies({ toolCalls: [{ name: "get_time" }] }, { text: "plain" });
    const tools: OpenAI.Responses.FunctionTool[] = [
      { type: "function", name: "get_time", parameters: { type: "object", properties: {} }, strict: false },
    ];
    const none = await client.responses.create({ model: QWEN.key, input: "?", tools, tool_choice: "none" });
    assert.equal(none.output_text, REPLY);
    const required = await client.responses.create({
      model: QWEN.key,
      input: "?",
      tools,
      tool_choice: "required",
    });
    assert.deepEqual(required.output.map((item) => item.type), ["function_call"]);
  });
});

describe('tool_choice "required" on GGUF and MLX models (llama.cpp only, api-changelog 0.3.15)', () => {
  const MLX = { ...QWEN, key: "mlx-community/qwen3-4b-2507", format: "mlx" as const };
  const GGUF = { ...QWEN, format: "gguf" as const };
  const chatRequired = (model: string) => ({
    model,
    messages: [{ role: "user", content: "Weather and time?" }],
    tools: TOOLS,
    tool_choice: "required",
  });
  interface Chat {
    choices: { finish_reason: string; message: { content: string | null; tool_calls?: unknown[] } }[];
  }

  it("chat: a GGUF model is made to call the first tool; an MLX model answers text", async () => {
    const s = await sim({ models: [GGUF, MLX], loaded: [GGUF.key, MLX.key], reply: REPLY });
    s.queueReplies({ text: "scripted text" }, { text: "scripted text" });
    const gguf = await request<Chat>(s, "POST", "/v1/chat/completions", chatRequired(GGUF.key));
    assert.equal(gguf.status, 200);
    assert.equal(gguf.json.choices[0]!.finish_reason, "tool_calls");
    assert.deepEqual(gguf.json.choices[0]!.message.tool_calls!.length, 1);
    const mlx = await request<Chat>(s, "POST", "/v1/chat/completions", chatRequired(MLX.key));
    assert.equal(mlx.status, 200);
    assert.equal(mlx.json.choices[0]!.finish_reason, "stop");
    assert.equal(mlx.json.choices[0]!.message.content, "scripted text");
    assert.deepEqual(mlx.json.choices[0]!.message.tool_calls, []);
    // Without a script: the canned text on MLX, a call on GGUF.
    const canned = await request<Chat>(s, "POST", "/v1/chat/completions", chatRequired(MLX.key));
    assert.equal(canned.json.choices[0]!.message.content, REPLY);
    const forced = await request<Chat>(s, "POST", "/v1/chat/completions", chatRequired(GGUF.key));
    assert.equal(forced.json.choices[0]!.finish_reason, "tool_calls");
  });

  it("an MLX model keeps scripted calls, and a named function still obliges a call", async () => {
    const s = await sim({ models: [MLX], loaded: [MLX.key], reply: REPLY });
    s.queueReplies({ toolCalls: [{ name: "get_weather", arguments: { city: "Oslo" } }] }, { text: "plain" });
    const scripted = await request<Chat>(s, "POST", "/v1/chat/completions", chatRequired(MLX.key));
    assert.equal(scripted.json.choices[0]!.finish_reason, "tool_calls");
    const named = await request<Chat>(s, "POST", "/v1/chat/completions", {
      ...chatRequired(MLX.key),
      tool_choice: { type: "function", function: { name: "get_time" } },
    });
    assert.equal(named.json.choices[0]!.finish_reason, "tool_calls");
  });

  it("Responses and /v1/messages: an MLX model answers text under required / any", async () => {
    const s = await sim({ models: [GGUF, MLX], loaded: [GGUF.key, MLX.key], reply: REPLY });
    const tools = [{ type: "function", name: "get_time", parameters: { type: "object", properties: {} } }];
    const types = async (model: string) => {
      const answer = await request<{ output: { type: string }[] }>(s, "POST", "/v1/responses", {
        model,
        input: "?",
        tools,
        tool_choice: "required",
      });
      assert.equal(answer.status, 200);
      return answer.json.output.map((item) => item.type);
    };
    assert.deepEqual(await types(GGUF.key), ["function_call"]);
    assert.deepEqual(await types(MLX.key), ["message"]);
    const blocks = async (model: string) => {
      const answer = await request<{ content: { type: string }[] }>(s, "POST", "/v1/messages", {
        model,
        max_tokens: 100,
        messages: [{ role: "user", content: "?" }],
        tools: [{ name: "get_time", input_schema: { type: "object", properties: {} } }],
        tool_choice: { type: "any" },
      });
      assert.equal(answer.status, 200);
      return answer.json.content.map((block) => block.type);
    };
    assert.deepEqual(await blocks(GGUF.key), ["tool_use"]);
    assert.deepEqual(await blocks(MLX.key), ["text"]);
  });
});

describe("Responses tools through the openai SDK", () => {
  it("a custom (freeform) tool makes responses.create reject with LM Studio's 400 (#1383)", async () => {
    const { s, client } = await loaded();
    s.queueReplies({ text: "kept" });
    const tools: OpenAI.Responses.Tool[] = [
      { type: "function", name: "get_time", parameters: { type: "object", properties: {} }, strict: false },
      { type: "custom", name: "apply_patch" },
    ];
    const error = await client.responses.create({ model: QWEN.key, input: "?", tools }).then(
      () => assert.fail("expected a rejection"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof OpenAI.BadRequestError, String(error));
    assert.equal(error.status, 400);
    assert.deepEqual(error.error, {
      message: "Invalid discriminator value. Expected 'function' | 'mcp'",
      type: "invalid_request_error",
      param: "tools.1.type",
      code: "invalid_union_discriminator",
    });
    const fine = await client.responses.create({ model: QWEN.key, input: "?", tools: tools.slice(0, 1) });
    assert.equal(fine.output_text, "kept");
  });
});
