/**
 * The simulator honours output token limits as LM Studio does: `max_tokens` (chat, legacy
 * completions, Anthropic messages) and `max_output_tokens` (Responses) cut the answer, say why
 * (`finish_reason: "length"`, `status: "incomplete"`, `stop_reason: "max_tokens"`) and count
 * what was sent. The simulator's token estimate is `ceil(characters / 4)`, so a limit of N keeps
 * the first 4N characters.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { request, useSimulators } from "./_helpers.ts";
import { collectChat, qwenLoaded } from "./_openai.ts";
import { QWEN } from "./_fixtures.ts";

const sim = useSimulators();
/** 44 characters: 11 tokens of the simulator's estimate. */
const REPLY = "Paris is the capital city of France, indeed.";

const loaded = () => qwenLoaded(sim, { reply: REPLY });

describe("output limits: chat completions max_tokens", () => {
  it("cuts the reply at max_tokens, finish_reason length, usage counts what was sent", async () => {
    const { client } = await loaded();
    const completion = await client.chat.completions.create({
      model: QWEN.key,
      messages: [{ role: "user", content: "Capital of France?" }],
      max_tokens: 2,
    });
    const choice = completion.choices[0]!;
    assert.equal(choice.finish_reason, "length");
    assert.equal(choice.message.content, REPLY.slice(0, 8));
    assert.equal(completion.usage!.completion_tokens, 2);
    assert.equal(completion.usage!.total_tokens, completion.usage!.prompt_tokens + 2);
  });

  it("a limit the reply fits in, or -1 (LM Studio's 'no limit'), changes nothing", async () => {
    const { client } = await loaded();
    for (const max_tokens of [11, 500, -1]) {
      const completion = await client.chat.completions.create({
        model: QWEN.key,
        messages: [{ role: "user", content: "Capital?" }],
        max_tokens,
      });
      assert.equal(completion.choices[0]!.finish_reason, "stop", `max_tokens ${max_tokens}`);
      assert.equal(completion.choices[0]!.message.content, REPLY);
      assert.equal(completion.usage!.completion_tokens, 11);
    }
  });

  it("streamed: the deltas add up to the cut reply, the last choice says length, usage agrees", async () => {
    const { client } = await loaded();
    const stream = await client.chat.completions.create({
      model: QWEN.key,
      messages: [{ role: "user", content: "Capital?" }],
      max_tokens: 3,
      stream: true,
      stream_options: { include_usage: true },
    });
    const { text, finish, usage } = await collectChat(stream);
    assert.equal(text, REPLY.slice(0, 12));
    assert.equal(finish, "length");
    assert.equal(usage?.completion_tokens, 3);
  });

  it("a scripted text is cut too; tool calls are not (their arguments are sent whole)", async () => {
    const { s, client } = await loaded();
    s.queueReplies({ text: "A scripted answer that is long." }, {
      toolCalls: [{ name: "f", arguments: { a: 1 } }],
    });
    const text = await client.chat.completions.create({
      model: QWEN.key,
      messages: [{ role: "user", content: "?" }],
      max_tokens: 2,
    });
    assert.equal(text.choices[0]!.message.content, "A script");
    const call = await client.chat.completions.create({
      model: QWEN.key,
      messages: [{ role: "user", content: "?" }],
      tools: [{ type: "function", function: { name: "f", parameters: { type: "object" } } }],
      max_tokens: 2,
    });
    assert.equal(call.choices[0]!.finish_reason, "tool_calls");
    assert.equal(
      call.choices[0]!.message.tool_calls![0]!.type === "function" &&
        call.choices[0]!.message.tool_calls![0]!.function.arguments,
      '{"a":1}',
    );
  });
});

describe("output limits: legacy completions and Anthropic messages", () => {
  it("/v1/completions: max_tokens cuts the text, finish_reason length, whole and streamed", async () => {
    const { s, client } = await loaded();
    const completion = await client.completions.create({
      model: QWEN.key,
      prompt: "The capital",
      max_tokens: 1,
    });
    assert.equal(completion.choices[0]!.text, REPLY.slice(0, 4));
    assert.equal(completion.choices[0]!.finish_reason, "length");
    assert.equal(completion.usage!.completion_tokens, 1);
    const streamed = await request(s, "POST", "/v1/completions", {
      model: QWEN.key,
      prompt: "The capital",
      max_tokens: 1,
      stream: true,
    });
    const finishes = [...streamed.text.matchAll(/"finish_reason":"(\w+)"/g)].map((m) => m[1]);
    assert.deepEqual(finishes, ["length"]);
  });

  it("/v1/messages: max_tokens cuts the text block, stop_reason max_tokens", async () => {
    const { s } = await loaded();
    const { status, text } = await request(s, "POST", "/v1/messages", {
      model: QWEN.key,
      max_tokens: 2,
      messages: [{ role: "user", content: "Capital?" }],
    });
    assert.equal(status, 200);
    const message = JSON.parse(text) as { content: { text: string }[]; stop_reason: string; usage: object };
    assert.equal(message.content[0]!.text, REPLY.slice(0, 8));
    assert.equal(message.stop_reason, "max_tokens");
    assert.deepEqual(message.usage, { input_tokens: 2, output_tokens: 2 });
  });
});

describe("output limits: Responses max_output_tokens", () => {
  it("a cut answer is incomplete, with incomplete_details.reason max_output_tokens", async () => {
    const { client } = await loaded();
    const response = await client.responses.create({
      model: QWEN.key,
      input: "Capital?",
      max_output_tokens: 2,
    });
    assert.equal(response.status, "incomplete");
    assert.deepEqual(response.incomplete_details, { reason: "max_output_tokens" });
    assert.equal(response.max_output_tokens, 2);
    assert.equal(response.output_text, REPLY.slice(0, 8));
    assert.equal(response.output[0]!.type === "message" && response.output[0]!.status, "incomplete");
    assert.equal(response.usage!.output_tokens, 2);
  });

  it("an answer within the limit is completed, incomplete_details null", async () => {
    const { client } = await loaded();
    const response = await client.responses.create({ model: QWEN.key, input: "?", max_output_tokens: 100 });
    assert.equal(response.status, "completed");
    assert.equal(response.incomplete_details, null);
    assert.equal(response.output_text, REPLY);
  });

  it("streamed: ends with response.incomplete, and finalResponse() has the cut text", async () => {
    const { client } = await loaded();
    const stream = client.responses.stream({ model: QWEN.key, input: "Capital?", max_output_tokens: 2 });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    assert.equal(types.at(-1), "response.incomplete");
    assert.ok(!types.includes("response.completed"));
    const response = await stream.finalResponse();
    assert.equal(response.output_text, REPLY.slice(0, 8));
  });
});

describe("output limits: -1 is no limit, and no warm-up", () => {
  it("max_tokens -1 takes the scripted reply whole, as LM Studio's own example asks", async () => {
    const s = await sim({ models: [QWEN], loaded: [QWEN.key], replies: [{ text: "SCRIPTED-1" }] });
    const reply = await request(s, "POST", "/v1/chat/completions", {
      model: QWEN.key,
      messages: [{ role: "user", content: "Hi" }],
      max_tokens: -1,
    });
    const body = reply.json as { choices: { message: { content: string }; finish_reason: string }[] };
    assert.equal(body.choices[0].message.content, "SCRIPTED-1");
    assert.equal(body.choices[0].finish_reason, "stop");
  });
});
