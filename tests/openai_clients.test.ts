/**
 * A real client nobody here wrote, the `openai` npm SDK, against the LM Studio simulator: model
 * list, chat (plain and streamed), Responses (`create` and `stream().finalResponse()`), tool calls
 * in both APIs, a scripted tool loop, embeddings and the context overflow. Runs on Node, Deno and
 * Bun like the rest of the suite.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import type { SimulatorState } from "../src/testing/simulator.ts";
import { useSimulators } from "./_helpers.ts";
import { collectChat, qwenLoaded } from "./_openai.ts";
import { NOMIC, QWEN } from "./_fixtures.ts";

const sim = useSimulators();
const REPLY = "Paris is the capital of France.";

const loaded = (state: SimulatorState = {}) =>
  qwenLoaded(sim, { models: [QWEN, NOMIC], reply: REPLY, ...state });

const WEATHER_SCHEMA = {
  type: "object",
  properties: {
    city: { type: "string", description: "City name" },
    unit: { type: "string", enum: ["celsius", "fahrenheit"] },
    days: { type: "integer", minimum: 1, maximum: 7 },
    detailed: { type: "boolean" },
    note: { type: "string" },
  },
  required: ["city", "unit", "days", "detailed"],
} as const;

const CHAT_TOOLS: OpenAI.Chat.Completions.ChatCompletionTool[] = [
  { type: "function", function: { name: "get_time", parameters: { type: "object", properties: {} } } },
  { type: "function", function: { name: "get_weather", parameters: WEATHER_SCHEMA } },
];

const RESPONSE_TOOLS: OpenAI.Responses.FunctionTool[] = [
  { type: "function", name: "get_time", parameters: { type: "object", properties: {} }, strict: false },
  { type: "function", name: "get_weather", parameters: WEATHER_SCHEMA, strict: false },
];

/** What the placeholders of WEATHER_SCHEMA must be: required properties only, type-correct. */
const PLACEHOLDER_ARGS = { city: "example", unit: "celsius", days: 1, detailed: false };

describe("openai SDK against the simulator: text", () => {
  it("models.list lists the downloaded models", async () => {
    const { client } = await loaded();
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    assert.deepEqual(ids.sort(), [QWEN.key, NOMIC.key].sort());
  });

  it("chat.completions.create answers the reply, on the loaded instance", async () => {
    const { client } = await loaded();
    const completion = await client.chat.completions.create({
      model: QWEN.key,
      messages: [{ role: "user", content: "What is the capital of France?" }],
    });
    assert.equal(completion.model, QWEN.key);
    assert.equal(completion.choices[0]!.finish_reason, "stop");
    assert.equal(completion.choices[0]!.message.content, REPLY);
    assert.ok(completion.usage!.prompt_tokens > 0);
  });

  it("chat streamed: the deltas add up to the reply, and stream().finalChatCompletion() has it whole", async () => {
    const { client } = await loaded();
    const stream = await client.chat.completions.create({
      model: QWEN.key,
      messages: [{ role: "user", content: "Capital?" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const { text, finish, usage } = await collectChat(stream);
    assert.equal(text, REPLY);
    assert.equal(finish, "stop");
    assert.ok(usage && usage.total_tokens === usage.prompt_tokens + usage.completion_tokens);
    const final = await client.chat.completions
      .stream({ model: QWEN.key, messages: [{ role: "user", content: "Capital?" }] })
      .finalChatCompletion();
    assert.equal(final.choices[0]!.message.content, REPLY);
  });

  it("responses.create answers the reply as output_text", async () => {
    const { client } = await loaded();
    const response = await client.responses.create({ model: QWEN.key, input: "Capital of France?" });
    assert.equal(response.status, "completed");
    assert.equal(response.model, QWEN.key);
    assert.equal(response.output_text, REPLY);
  });

  it("responses.stream(...).finalResponse() has the text, from the full event sequence", async () => {
    const { client } = await loaded();
    const stream = client.responses.stream({ model: QWEN.key, input: "Capital of France?" });
    const events: { type: string; sequence_number: number }[] = [];
    let deltas = "";
    for await (const event of stream) {
      events.push({ type: event.type, sequence_number: event.sequence_number });
      if (event.type === "response.output_text.delta") deltas += event.delta;
    }
    const response = await stream.finalResponse();
    assert.equal(response.output_text, REPLY);
    assert.equal(deltas, REPLY);
    assert.deepEqual(events.map((e) => e.sequence_number), events.map((_, i) => i));
    const kinds = events.map((e) => e.type).filter((t, i, all) => t !== all[i - 1]);
    assert.deepEqual(kinds, [
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ]);
  });
});

describe("openai SDK against the simulator: tool calls", () => {
  it("chat with tool_choice 'required' calls the first tool; arguments satisfy its schema", async () => {
    const { client } = await loaded();
    const completion = await client.chat.completions.create({
      model: QWEN.key,
      messages: [{ role: "user", content: "Weather?" }],
      tools: [CHAT_TOOLS[1]!, CHAT_TOOLS[0]!],
      tool_choice: "required",
    });
    const choice = completion.choices[0]!;
    assert.equal(choice.finish_reason, "tool_calls");
    const [call] = choice.message.tool_calls ?? [];
    assert.ok(call && call.type === "function");
    assert.match(call.id, /\S/);
    assert.equal(call.function.name, "get_weather");
    assert.deepEqual(JSON.parse(call.function.arguments), PLACEHOLDER_ARGS);
  });

  it("chat streamed with a named tool_choice: finalChatCompletion() puts the delta.tool_calls together", async () => {
    const { client } = await loaded();
    const final = await client.chat.completions
      .stream({
        model: QWEN.key,
        messages: [{ role: "user", content: "Weather?" }],
        tools: CHAT_TOOLS,
        tool_choice: { type: "function", function: { name: "get_weather" } },
      })
      .finalChatCompletion();
    const choice = final.choices[0]!;
    assert.equal(choice.finish_reason, "tool_calls");
    const calls = choice.message.tool_calls ?? [];
    assert.equal(calls.length, 1);
    const call = calls[0]!;
    assert.ok(call.type === "function");
    assert.equal(call.function.name, "get_weather");
    assert.deepEqual(JSON.parse(call.function.arguments), PLACEHOLDER_ARGS);
  });

  it("chat with tool_choice 'auto' and no script answers text", async () => {
    const { client } = await loaded();
    const completion = await client.chat.completions.create({
      model: QWEN.key,
      messages: [{ role: "user", content: "Hi" }],
      tools: CHAT_TOOLS,
    });
    assert.equal(completion.choices[0]!.finish_reason, "stop");
    assert.equal(completion.choices[0]!.message.content, REPLY);
  });

  it("responses.create with a named tool answers a function_call item", async () => {
    const { client } = await loaded();
    const response = await client.responses.create({
      model: QWEN.key,
      input: "Weather?",
      tools: RESPONSE_TOOLS,
      tool_choice: { type: "function", name: "get_weather" },
    });
    const [item] = response.output;
    assert.ok(item && item.type === "function_call");
    assert.equal(item.name, "get_weather");
    assert.equal(item.status, "completed");
    assert.match(item.call_id, /\S/);
    assert.deepEqual(JSON.parse(item.arguments), PLACEHOLDER_ARGS);
  });

  it("responses.stream with tool_choice 'required': finalResponse() has the call, arguments streamed", async () => {
    const { client } = await loaded();
    const stream = client.responses.stream({
      model: QWEN.key,
      input: "Weather?",
      tools: [RESPONSE_TOOLS[1]!],
      tool_choice: "required",
    });
    let streamed = "";
    let done: string | undefined;
    for await (const event of stream) {
      if (event.type === "response.function_call_arguments.delta") streamed += event.delta;
      if (event.type === "response.function_call_arguments.done") done = event.arguments;
    }
    const response = await stream.finalResponse();
    const [item] = response.output;
    assert.ok(item && item.type === "function_call");
    assert.equal(item.name, "get_weather");
    assert.deepEqual(JSON.parse(item.arguments), PLACEHOLDER_ARGS);
    assert.equal(streamed, item.arguments);
    assert.equal(done, item.arguments);
  });

  it("a scripted chat tool loop: call → tool result → final text", async () => {
    const { s, client } = await loaded({
      replies: [
        { toolCalls: [{ name: "get_weather", arguments: { city: "Paris", unit: "celsius", days: 2 } }] },
        { text: "It is 21 °C and sunny in Paris." },
      ],
    });
    const messages: OpenAI.Chat.Completions.ChatCompletionMessageParam[] = [
      { role: "user", content: "What is the weather in Paris?" },
    ];
    const tools = {
      get_weather: (args: { city: string }) => ({ city: args.city, celsius: 21, sky: "sunny" }),
    };
    let final: string | null = null;
    for (let turn = 0; turn < 5 && final === null; turn++) {
      const completion = await client.chat.completions.create({
        model: QWEN.key,
        messages,
        tools: CHAT_TOOLS,
      });
      const message = completion.choices[0]!.message;
      messages.push(message);
      if (!message.tool_calls?.length) {
        final = message.content;
        break;
      }
      for (const call of message.tool_calls) {
        assert.ok(call.type === "function");
        assert.equal(call.function.name, "get_weather");
        const args = JSON.parse(call.function.arguments) as { city: string; unit: string; days: number };
        assert.deepEqual(args, { city: "Paris", unit: "celsius", days: 2 });
        messages.push({
          role: "tool",
          tool_call_id: call.id,
          content: JSON.stringify(tools.get_weather(args)),
        });
      }
    }
    assert.equal(final, "It is 21 °C and sunny in Paris.");
    assert.equal(s.requestCount("/v1/chat/completions", "POST"), 2);
    const second = JSON.parse(s.requests.at(-1)!.body) as { messages: { role: string; content: string }[] };
    assert.deepEqual(second.messages.map((m) => m.role), ["user", "assistant", "tool"]);
    assert.match(second.messages[2]!.content, /sunny/);
    // The script is used up: the model falls back to the canned reply.
    const after = await client.chat.completions.create({
      model: QWEN.key,
      messages: [{ role: "user", content: "?" }],
    });
    assert.equal(after.choices[0]!.message.content, REPLY);
  });

  it("a scripted Responses tool loop: function_call → function_call_output → final text (queueReplies)", async () => {
    const { s, client } = await loaded();
    s.queueReplies({ toolCalls: [{ name: "get_time", arguments: {} }] }, { text: "It is noon." });
    const first = await client.responses.stream({ model: QWEN.key, input: "Time?", tools: RESPONSE_TOOLS })
      .finalResponse();
    const [call] = first.output;
    assert.ok(call && call.type === "function_call");
    assert.equal(call.name, "get_time");
    assert.deepEqual(JSON.parse(call.arguments), {});
    const second = await client.responses.create({
      model: QWEN.key,
      tools: RESPONSE_TOOLS,
      input: [
        { role: "user", content: "Time?" },
        { type: "function_call", call_id: call.call_id, name: call.name, arguments: call.arguments },
        { type: "function_call_output", call_id: call.call_id, output: "12:00" },
      ],
    });
    assert.equal(second.output_text, "It is noon.");
  });

  it("a scripted call of a tool the request did not offer is a 400 naming the tool", async () => {
    const { client } = await loaded({ replies: [{ toolCalls: [{ name: "delete_everything" }] }] });
    await assert.rejects(
      client.chat.completions.create({
        model: QWEN.key,
        messages: [{ role: "user", content: "x" }],
        tools: CHAT_TOOLS,
      }),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.BadRequestError);
        assert.match(error.message, /"delete_everything" names a tool this request did not offer/);
        assert.match(error.message, /"get_time", "get_weather"/);
        return true;
      },
    );
  });
});

describe("openai SDK against the simulator: embeddings and limits", () => {
  it("embeddings with encoding_format 'float' answer one vector per input, the same for the same text", async () => {
    const { client } = await loaded();
    const result = await client.embeddings.create({
      model: NOMIC.key,
      input: ["alpha", "beta", "alpha"],
      encoding_format: "float",
    });
    assert.equal(result.model, NOMIC.key);
    assert.deepEqual(result.data.map((d) => d.index), [0, 1, 2]);
    for (const item of result.data) {
      assert.equal(item.embedding.length, 8);
      assert.ok(item.embedding.every((x) => typeof x === "number" && x >= -1 && x <= 1));
    }
    assert.deepEqual(result.data[0]!.embedding, result.data[2]!.embedding);
    assert.notDeepEqual(result.data[0]!.embedding, result.data[1]!.embedding);
  });

  it("embeddings without encoding_format: LM Studio answers floats where the SDK asked for base64 (#756)", async () => {
    const { s, client } = await loaded();
    const result = await client.embeddings.create({ model: NOMIC.key, input: "alpha" });
    const sent = JSON.parse(s.requests.at(-1)!.body) as { encoding_format?: string };
    assert.equal(sent.encoding_format, "base64");
    // The SDK decodes the float array as if it were base64: the vector it returns is not the one sent.
    assert.notEqual(result.data[0]!.embedding.length, 8);
  });

  it("a prompt beyond the loaded context is LM Studio's 400 n_keep >= n_ctx (chat and Responses)", async () => {
    const { s, client } = await loaded({ loaded: [{ key: QWEN.key, contextLength: 2048 }] });
    const context = s.state.loaded()[0]!.contextLength;
    const content = "x".repeat(context * 4 + 400); // ceil(chars / 4) tokens: context + 100
    await assert.rejects(
      client.chat.completions.create({ model: QWEN.key, messages: [{ role: "user", content }] }),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.BadRequestError);
        assert.equal(error.status, 400);
        assert.match(
          error.message,
          new RegExp(
            `The number of tokens to keep from the initial prompt is greater than the context length \\(n_keep: ${
              context + 100
            }>= n_ctx: ${context}\\)\\. Try to load the model with a larger context length, or provide a shorter input\\.`,
          ),
        );
        return true;
      },
    );
    await assert.rejects(client.responses.create({ model: QWEN.key, input: content }), (error: unknown) => {
      assert.ok(error instanceof OpenAI.BadRequestError);
      assert.match(error.message, new RegExp(`n_keep: ${context + 100}>= n_ctx: ${context}`));
      return true;
    });
    // Just under the context is answered.
    const fits = await client.chat.completions.create({
      model: QWEN.key,
      messages: [{ role: "user", content: "x".repeat((context - 1) * 4) }],
    });
    assert.equal(fits.choices[0]!.message.content, REPLY);
  });
});
