/**
 * `tool_choice` wins over the reply script, as LM Studio's constrained sampling would: `"none"`
 * never calls a tool, `"required"` and a named function always do, `parallel_tool_calls: false`
 * makes at most one call. The scripted reply is used up either way: one reply per request.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type OpenAI from "openai";
import { useSimulators } from "./_helpers.ts";
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
