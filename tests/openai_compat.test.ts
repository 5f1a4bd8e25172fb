/**
 * The simulator's inference endpoints on the wire: LM Studio's 400s for malformed requests (never
 * a crash), the Anthropic-compatible `/v1/messages`, `/v1/completions`, the exact Responses event
 * stream, schema placeholders, and the reply script's validation at `startSimulator`.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { startSimulator } from "../src/testing/simulator.ts";
import type { Simulator } from "../src/testing/simulator.ts";
import { request, useSimulators } from "./_helpers.ts";
import { NOMIC, QWEN, TOKEN } from "./_fixtures.ts";

const sim = useSimulators();
const REPLY = "Hello from the test.";

async function ready(state: Parameters<typeof sim>[0] = {}): Promise<Simulator> {
  return await sim({ models: [QWEN, NOMIC], loaded: [QWEN.key], reply: REPLY, ...state });
}

/** The `data:` payloads of an SSE body, with their `event:` names when present. */
function events(text: string): { event: string | undefined; data: string }[] {
  return text.split("\n\n").filter((block) => block.trim() !== "").map((block) => {
    const event = /^event: (.*)$/m.exec(block)?.[1];
    const data = /^data: (.*)$/m.exec(block)?.[1] ?? "";
    return { event, data };
  });
}

describe("inference endpoints: malformed requests get LM Studio's 400s", () => {
  it("chat: invalid JSON, a non-object body, no model, no messages, messages not an array", async () => {
    const s = await ready();
    const invalid = await request(s, "POST", "/v1/chat/completions", '{"model": "x", "messages": [');
    assert.equal(invalid.status, 400);
    const error = (invalid.json as { error: { message: string; type: string } }).error;
    assert.equal(error.type, "invalid_request_error");
    assert.match(error.message, /^Received request with invalid JSON: /);
    assert.equal((await request(s, "POST", "/v1/chat/completions", "[1, 2]")).status, 400);
    assert.deepEqual((await request(s, "POST", "/v1/chat/completions", { messages: [] })).json, {
      error: "'model' field is required",
    });
    const noMessages = await request(s, "POST", "/v1/chat/completions", { model: QWEN.key });
    assert.equal(noMessages.status, 400);
    assert.deepEqual(noMessages.json, { error: "'messages' field is required" });
    const notArray = await request(s, "POST", "/v1/chat/completions", {
      model: QWEN.key,
      messages: { role: "user" },
    });
    assert.equal(notArray.status, 400);
    assert.deepEqual(notArray.json, { error: "'messages' must be an array" });
    // The simulator still answers.
    const fine = await request(s, "POST", "/v1/chat/completions", {
      model: QWEN.key,
      messages: [{ role: "user", content: "hi" }],
    });
    assert.equal(fine.status, 200);
  });

  it("responses, completions and embeddings name the missing field", async () => {
    const s = await ready();
    assert.deepEqual((await request(s, "POST", "/v1/responses", { model: QWEN.key })).json, {
      error: {
        message: "Required",
        type: "invalid_request_error",
        param: "input",
        code: "missing_required_parameter",
      },
    });
    assert.deepEqual((await request(s, "POST", "/v1/responses", { input: "x" })).json, {
      error: {
        message: "Required",
        type: "invalid_request_error",
        param: "model",
        code: "missing_required_parameter",
      },
    });
    assert.deepEqual((await request(s, "POST", "/v1/completions", { model: QWEN.key })).json, {
      error: "'prompt' field is required",
    });
    assert.deepEqual((await request(s, "POST", "/v1/embeddings", { model: NOMIC.key })).json, {
      error: "'input' field is required",
    });
  });

  it("a 10 MB prompt is a context overflow 400, and the simulator keeps answering", async () => {
    const s = await ready();
    const huge = "a".repeat(10 * 1024 * 1024);
    const answer = await request(s, "POST", "/v1/chat/completions", {
      model: QWEN.key,
      messages: [{ role: "user", content: huge }],
    });
    assert.equal(answer.status, 400);
    const context = s.state.loaded()[0]!.contextLength;
    assert.match(
      (answer.json as { error: string }).error,
      new RegExp(
        `^The number of tokens to keep from the initial prompt is greater than the context length \\(n_keep: ${
          Math.ceil((huge.length + 0) / 4)
        }>= n_ctx: ${context}\\)`,
      ),
    );
    const broken = await request(s, "POST", "/v1/responses", `{"model":"${QWEN.key}","input":"${huge}`);
    assert.equal(broken.status, 400);
    const fine = await request(s, "POST", "/v1/responses", { model: QWEN.key, input: "hi" });
    assert.equal(fine.status, 200);
  });

  it("a request that fails takes no reply from the script", async () => {
    const s = await ready({ replies: [{ text: "scripted" }] });
    assert.equal((await request(s, "POST", "/v1/chat/completions", { model: QWEN.key })).status, 400);
    assert.equal(
      (await request(s, "POST", "/v1/chat/completions", { model: "nope", messages: [] })).status,
      400,
    );
    const answer = await request(s, "POST", "/v1/chat/completions", { model: QWEN.key, messages: [] });
    assert.equal(
      (answer.json as { choices: { message: { content: string } }[] }).choices[0]!.message.content,
      "scripted",
    );
  });
});

describe("inference endpoints: the reply script at startSimulator and queueReplies", () => {
  it("rejects a malformed script with a message naming the entry", async () => {
    const cases: [unknown, RegExp][] = [
      [{ text: "x", toolCalls: [] }, /state\.replies\[0\] needs exactly one of "text" and "toolCalls"/],
      [{}, /state\.replies\[0\] needs exactly one of "text" and "toolCalls"/],
      [{ toolCalls: [] }, /state\.replies\[0\]\.toolCalls must be a non-empty array/],
      [{ toolCalls: [{ arguments: {} }] }, /state\.replies\[0\]\.toolCalls\[0\] needs a non-empty "name"/],
      [{ toolCalls: [{ name: "f", arguments: 3 }] }, /"arguments" must be an object, a string or absent/],
      [{ toolCalls: [{ name: "f", args: {} }] }, /unknown field "args"/],
      [{ text: 42 }, /state\.replies\[0\]\.text must be a string/],
      ["hello", /state\.replies\[0\] must be \{ text \} or \{ toolCalls \}/],
    ];
    for (const [reply, message] of cases) {
      await assert.rejects(
        startSimulator({ replies: [reply] as never }),
        (error: unknown) => error instanceof TypeError && message.test(error.message),
        JSON.stringify(reply),
      );
    }
    await assert.rejects(startSimulator({ replies: "text" as never }), /replies must be an array/);
  });

  it("queueReplies throws on a malformed reply and adds none of the batch", async () => {
    const s = await ready();
    assert.throws(() => s.queueReplies({ text: "ok" }, { toolCalls: "f" } as never), TypeError);
    const answer = await request(s, "POST", "/v1/chat/completions", { model: QWEN.key, messages: [] });
    assert.equal(
      (answer.json as { choices: { message: { content: string } }[] }).choices[0]!.message.content,
      REPLY,
    );
  });

  it("a warm-up asking for one token (Codex, this library) takes no reply from the script", async () => {
    const s = await ready({ replies: [{ text: "scripted" }] });
    const warm = await request(s, "POST", "/v1/responses", {
      model: QWEN.key,
      input: "",
      max_output_tokens: 1,
    });
    assert.equal(warm.status, 200);
    await request(s, "POST", "/v1/chat/completions", {
      model: QWEN.key,
      messages: [{ role: "user", content: "hi" }],
      max_tokens: 1,
    });
    const answer = await request(s, "POST", "/v1/responses", { model: QWEN.key, input: "go" });
    const output = (answer.json as { output: { content: { text: string }[] }[] }).output;
    assert.equal(output[0]!.content[0]!.text, "scripted");
  });

  it("a scripted string argument is sent as is (to test how an agent copes with bad JSON)", async () => {
    const s = await ready({ replies: [{ toolCalls: [{ name: "f", arguments: "{not json" }] }] });
    const answer = await request(s, "POST", "/v1/chat/completions", {
      model: QWEN.key,
      messages: [],
      tools: [{ type: "function", function: { name: "f", parameters: {} } }],
    });
    const call =
      (answer.json as { choices: { message: { tool_calls: { function: { arguments: string } }[] } }[] })
        .choices[0]!.message.tool_calls[0]!;
    assert.equal(call.function.arguments, "{not json");
  });
});

describe("inference endpoints: tool-call placeholders", () => {
  it("satisfy nested schemas: arrays with minItems, nested objects, anyOf, const, bounds", async () => {
    const s = await ready();
    const parameters = {
      type: "object",
      properties: {
        path: { type: "string", minLength: 10 },
        mode: { const: "fast" },
        lines: { type: "array", items: { type: "integer", exclusiveMinimum: 4 }, minItems: 2 },
        options: {
          type: "object",
          properties: { depth: { type: ["null", "number"], minimum: 2.5 }, skip: { type: "boolean" } },
          required: ["depth"],
        },
        target: { anyOf: [{ type: "null" }, { type: "string", enum: ["a", "b"] }] },
        ignored: { type: "string" },
      },
      required: ["path", "mode", "lines", "options", "target"],
    };
    const answer = await request(s, "POST", "/v1/chat/completions", {
      model: QWEN.key,
      messages: [],
      tools: [{ type: "function", function: { name: "edit", parameters } }],
      tool_choice: "required",
    });
    const args = JSON.parse(
      (answer.json as { choices: { message: { tool_calls: { function: { arguments: string } }[] } }[] })
        .choices[0]!.message.tool_calls[0]!.function.arguments,
    );
    assert.deepEqual(args, {
      path: "examplexxx",
      mode: "fast",
      lines: [5, 5],
      options: { depth: 2.5 },
      target: "a",
    });
  });

  it("a named tool_choice that is not among the tools is a 400", async () => {
    const s = await ready();
    const answer = await request(s, "POST", "/v1/chat/completions", {
      model: QWEN.key,
      messages: [],
      tools: [{ type: "function", function: { name: "f" } }],
      tool_choice: { type: "function", function: { name: "g" } },
    });
    assert.equal(answer.status, 400);
    assert.match(
      (answer.json as { error: { message: string } }).error.message,
      /"g", which is not in "tools"/,
    );
  });
});

describe("inference endpoints: /v1/responses stream, /v1/completions", () => {
  it("streams every Responses event with consecutive sequence_number and matching event names", async () => {
    const s = await ready({ replies: [{ toolCalls: [{ name: "a", arguments: { x: 1 } }, { name: "b" }] }] });
    const answer = await request(s, "POST", "/v1/responses", {
      model: QWEN.key,
      input: "go",
      stream: true,
      tools: [{ type: "function", name: "a" }, { type: "function", name: "b" }],
    });
    assert.equal(answer.headers.get("content-type"), "text/event-stream");
    const parsed = events(answer.text).map((e) => ({ event: e.event, data: JSON.parse(e.data) }));
    for (const [i, e] of parsed.entries()) {
      assert.equal(e.event, e.data.type);
      assert.equal(e.data.sequence_number, i);
    }
    assert.deepEqual(parsed.map((e) => `${e.data.type}${e.data.output_index ?? ""}`), [
      "response.created",
      "response.in_progress",
      "response.output_item.added0",
      "response.function_call_arguments.delta0",
      "response.function_call_arguments.done0",
      "response.output_item.done0",
      "response.output_item.added1",
      "response.function_call_arguments.delta1",
      "response.function_call_arguments.done1",
      "response.output_item.done1",
      "response.completed",
    ]);
    const completed = parsed.at(-1)!.data.response;
    assert.deepEqual(
      completed.output.map((o: { name: string; arguments: string }) => [o.name, o.arguments]),
      [["a", '{"x":1}'], ["b", "{}"]],
    );
  });

  it("/v1/completions answers text_completion, whole and streamed", async () => {
    const s = await ready();
    const whole = await request(s, "POST", "/v1/completions", { model: QWEN.key, prompt: "Say hi" });
    assert.equal(whole.status, 200);
    const body = whole.json as {
      object: string;
      model: string;
      choices: { text: string; finish_reason: string }[];
    };
    assert.equal(body.object, "text_completion");
    assert.equal(body.model, QWEN.key);
    assert.deepEqual([body.choices[0]!.text, body.choices[0]!.finish_reason], [REPLY, "stop"]);
    const streamed = await request(s, "POST", "/v1/completions", {
      model: QWEN.key,
      prompt: "Say hi",
      stream: true,
    });
    const datas = events(streamed.text).map((e) => e.data);
    assert.equal(datas.at(-1), "[DONE]");
    const text = datas.slice(0, -1).map((d) =>
      (JSON.parse(d) as { choices: { text: string }[] }).choices[0]!.text
    )
      .join("");
    assert.equal(text, REPLY);
  });
});

describe("inference endpoints: /v1/messages (Anthropic-compatible, 0.4)", () => {
  const tools = [{
    name: "get_weather",
    input_schema: { type: "object", properties: { location: { type: "string" } }, required: ["location"] },
  }];

  it("answers a text message", async () => {
    const s = await ready();
    const answer = await request(s, "POST", "/v1/messages", {
      model: QWEN.key,
      max_tokens: 256,
      messages: [{ role: "user", content: "Hello" }],
    });
    assert.equal(answer.status, 200);
    const message = answer.json as Record<string, unknown>;
    assert.equal(message.type, "message");
    assert.equal(message.role, "assistant");
    assert.equal(message.model, QWEN.key);
    assert.equal(message.stop_reason, "end_turn");
    assert.deepEqual(message.content, [{ type: "text", text: REPLY }]);
  });

  it("streams Anthropic's events; the text deltas add up to the reply", async () => {
    const s = await ready();
    const answer = await request(s, "POST", "/v1/messages", {
      model: QWEN.key,
      max_tokens: 256,
      stream: true,
      messages: [{ role: "user", content: "Hello" }],
    });
    const parsed = events(answer.text).map((e) => ({ event: e.event, data: JSON.parse(e.data) }));
    for (const e of parsed) assert.equal(e.event, e.data.type);
    const kinds = parsed.map((e) => e.data.type).filter((t, i, all) => t !== all[i - 1]);
    assert.deepEqual(kinds, [
      "message_start",
      "ping",
      "content_block_start",
      "content_block_delta",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
    const text = parsed.filter((e) => e.data.type === "content_block_delta").map((e) => e.data.delta.text)
      .join("");
    assert.equal(text, REPLY);
    assert.equal(parsed.find((e) => e.data.type === "message_delta")!.data.delta.stop_reason, "end_turn");
  });

  it("answers tool_use when tool_choice is any, whole and streamed", async () => {
    const s = await ready();
    const whole = await request(s, "POST", "/v1/messages", {
      model: QWEN.key,
      max_tokens: 64,
      tools,
      tool_choice: { type: "any" },
      messages: [{ role: "user", content: "Weather in SF?" }],
    });
    const message = whole.json as {
      stop_reason: string;
      content: { type: string; name: string; input: unknown }[];
    };
    assert.equal(message.stop_reason, "tool_use");
    assert.equal(message.content[0]!.type, "tool_use");
    assert.equal(message.content[0]!.name, "get_weather");
    assert.deepEqual(message.content[0]!.input, { location: "example" });
    s.queueReplies({ toolCalls: [{ name: "get_weather", arguments: { location: "San Francisco, CA" } }] });
    const streamed = await request(s, "POST", "/v1/messages", {
      model: QWEN.key,
      max_tokens: 64,
      stream: true,
      tools,
      messages: [{ role: "user", content: "Weather in SF?" }],
    });
    const parsed = events(streamed.text).map((e) => JSON.parse(e.data));
    const start = parsed.find((d) => d.type === "content_block_start");
    assert.equal(start.content_block.type, "tool_use");
    assert.equal(start.content_block.name, "get_weather");
    const json = parsed.filter((d) => d.type === "content_block_delta").map((d) => d.delta.partial_json).join(
      "",
    );
    assert.deepEqual(JSON.parse(json), { location: "San Francisco, CA" });
  });

  it("errors use Anthropic's shape; x-api-key is accepted as the token", async () => {
    const s = await ready({ auth: { token: TOKEN } });
    const missing = await request(s, "POST", "/v1/messages", { model: QWEN.key }, { "x-api-key": TOKEN });
    assert.equal(missing.status, 400);
    assert.deepEqual(missing.json, {
      type: "error",
      error: { type: "invalid_request_error", message: "messages: Field required" },
    });
    const denied = await request(s, "POST", "/v1/messages", { model: QWEN.key, messages: [] }, {
      "x-api-key": "wrong",
    });
    assert.equal(denied.status, 401);
    const ok = await request(s, "POST", "/v1/messages", { model: QWEN.key, messages: [] }, {
      "x-api-key": TOKEN,
    });
    assert.equal(ok.status, 200);
    // x-api-key is for /v1/messages only.
    const chat = await request(s, "POST", "/v1/chat/completions", { model: QWEN.key, messages: [] }, {
      "x-api-key": TOKEN,
    });
    assert.equal(chat.status, 401);
  });

  it("is an unknown route before 0.4", async () => {
    const s = await ready({ version: "0.3" });
    const answer = await request(s, "POST", "/v1/messages", { model: QWEN.key, messages: [] });
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.json, { error: "Unexpected endpoint or method. (POST /v1/messages)" });
  });
});

describe("inference endpoints: /v1/responses refuses tool types LM Studio refuses", () => {
  /** LM Studio 0.3.39 / 0.4.0's answer, verbatim from lmstudio-bug-tracker#1383. */
  const refusal = (index: number) => ({
    error: {
      message: "Invalid discriminator value. Expected 'function' | 'mcp'",
      type: "invalid_request_error",
      param: `tools.${index}.type`,
      code: "invalid_union_discriminator",
    },
  });
  const fn = (name: string) => ({ type: "function", name, parameters: { type: "object", properties: {} } });

  it("a Codex-shaped request: 400 naming the first tool that is neither function nor mcp; no reply used", async () => {
    const s = await ready({ replies: [{ text: "scripted" }] });
    const tools = [
      fn("exec_command"),
      { type: "mcp", server_label: "deepwiki", server_url: "https://mcp.deepwiki.com/mcp" },
      fn("update_plan"),
      {
        type: "custom",
        name: "apply_patch",
        format: { type: "grammar", syntax: "lark", definition: "start: x" },
      },
      { type: "web_search" },
      { type: "local_shell" },
      { type: "namespace", name: "mcp__x__", tools: [fn("inner")] },
    ];
    for (const stream of [false, true]) {
      const answer = await request(s, "POST", "/v1/responses", {
        model: QWEN.key,
        input: "hi",
        tools,
        stream,
      });
      assert.equal(answer.status, 400);
      assert.equal(answer.headers.get("content-type"), "application/json; charset=utf-8");
      assert.deepEqual(answer.json, refusal(3));
    }
    const fine = await request(s, "POST", "/v1/responses", { model: QWEN.key, input: "hi" });
    assert.equal(
      (fine.json as { output: { content: { text: string }[] }[] }).output[0]!.content[0]!.text,
      "scripted",
    );
  });

  it("every other type, a missing one, on 0.4 and 0.3, is named by its index", async () => {
    for (const version of ["0.4", "0.3"] as const) {
      const s = await ready({ version });
      const others: Record<string, unknown>[] = [
        { type: "custom", name: "apply_patch" },
        { type: "web_search_preview" },
        { type: "local_shell" },
        { type: "namespace", name: "mcp__x__", tools: [] },
        { type: "Function", name: "f" },
        { type: "file_search", vector_store_ids: [] },
        { name: "no_type", parameters: {} },
      ];
      for (const other of others) {
        const answer = await request(s, "POST", "/v1/responses", {
          model: QWEN.key,
          input: "hi",
          tools: [fn("a"), fn("b"), other, { type: "web_search" }],
        });
        assert.equal(answer.status, 400, `${version} ${JSON.stringify(other)}`);
        assert.deepEqual(answer.json, refusal(2), `${version} ${JSON.stringify(other)}`);
      }
    }
  });

  it("an entry that is not an object: zod's invalid_type naming the entry", async () => {
    const s = await ready();
    const cases: [unknown, string][] = [["read_file", "string"], [null, "null"], [[fn("a")], "array"], [
      7,
      "number",
    ]];
    for (const [entry, received] of cases) {
      const answer = await request(s, "POST", "/v1/responses", {
        model: QWEN.key,
        input: "hi",
        tools: [fn("a"), entry],
      });
      assert.equal(answer.status, 400);
      assert.deepEqual(answer.json, {
        error: {
          message: `Expected object, received ${received}`,
          type: "invalid_request_error",
          param: "tools.1",
          code: "invalid_type",
        },
      });
    }
  });

  it("mcp tools are accepted and ignored: function calls are answered, an MCP tool is never called", async () => {
    const s = await ready({
      replies: [{ toolCalls: [{ name: "f", arguments: { x: 1 } }] }, { toolCalls: [{ name: "deepwiki" }] }],
    });
    const tools = [
      { type: "mcp", server_label: "deepwiki", server_url: "https://mcp.deepwiki.com/mcp" },
      fn("f"),
    ];
    const answer = await request(s, "POST", "/v1/responses", { model: QWEN.key, input: "hi", tools });
    assert.equal(answer.status, 200);
    const body = answer.json as {
      output: { type: string; name: string; arguments: string }[];
      tools: unknown[];
    };
    assert.deepEqual(body.output.map((o) => [o.type, o.name, o.arguments]), [[
      "function_call",
      "f",
      '{"x":1}',
    ]]);
    assert.deepEqual(body.tools, tools);
    const mcp = await request(s, "POST", "/v1/responses", { model: QWEN.key, input: "hi", tools });
    assert.equal(mcp.status, 400);
    assert.match(
      (mcp.json as { error: { message: string } }).error.message,
      /"deepwiki" names a tool this request did not offer \(offered: "f"\)/,
    );
  });

  it("chat completions are not checked this way: tools of other types are skipped", async () => {
    const s = await ready({ replies: [{ toolCalls: [{ name: "f" }] }] });
    const answer = await request(s, "POST", "/v1/chat/completions", {
      model: QWEN.key,
      messages: [{ role: "user", content: "hi" }],
      tools: [{ type: "custom", custom: { name: "apply_patch" } }, {
        type: "function",
        function: { name: "f" },
      }],
    });
    assert.equal(answer.status, 200);
    const message =
      (answer.json as { choices: { message: { tool_calls: { function: { name: string } }[] } }[] })
        .choices[0]!.message;
    assert.deepEqual(message.tool_calls.map((c) => c.function.name), ["f"]);
  });
});
