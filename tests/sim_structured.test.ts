/**
 * Structured output in the simulator, as LM Studio does it: `response_format` json_schema on chat
 * completions (and `text.format` on Responses) gets JSON that satisfies the schema, so the openai
 * SDK's `parse()` works; OpenAI's `json_object` gets LM Studio's 400.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import type { SimulatorState } from "../src/testing/simulator.ts";
import { chatCompletions, useSimulators } from "./_helpers.ts";
import { collectChat, qwenLoaded } from "./_openai.ts";
import { QWEN } from "./_fixtures.ts";

const sim = useSimulators();

const CITY_SCHEMA = {
  type: "object",
  properties: {
    city: { type: "string" },
    population: { type: "integer", minimum: 1 },
    tags: { type: "array", items: { type: "string" }, minItems: 1 },
    kind: { type: "string", enum: ["capital", "town"] },
  },
  required: ["city", "population", "tags", "kind"],
  additionalProperties: false,
} as const;

/** What the simulator's placeholders for CITY_SCHEMA are. */
const CITY_PLACEHOLDER = { city: "example", population: 1, tags: ["example"], kind: "capital" };

const loaded = (state: SimulatorState = {}) => qwenLoaded(sim, state);

describe("structured output: chat completions response_format", () => {
  it("json_schema: the content is JSON satisfying the schema, and chat.completions.parse() reads it", async () => {
    const { client } = await loaded();
    const completion = await client.chat.completions.parse({
      model: QWEN.key,
      messages: [{ role: "user", content: "A city?" }],
      response_format: {
        type: "json_schema",
        json_schema: { name: "city", schema: CITY_SCHEMA, strict: true },
      },
    });
    const message = completion.choices[0]!.message;
    assert.deepEqual(message.parsed, CITY_PLACEHOLDER);
    assert.deepEqual(JSON.parse(message.content!), CITY_PLACEHOLDER);
    assert.equal(completion.choices[0]!.finish_reason, "stop");
  });

  it("json_schema streamed: the deltas add up to the JSON", async () => {
    const { client } = await loaded();
    const stream = await client.chat.completions.create({
      model: QWEN.key,
      messages: [{ role: "user", content: "A city?" }],
      response_format: { type: "json_schema", json_schema: { name: "city", schema: CITY_SCHEMA } },
      stream: true,
    });
    const { text } = await collectChat(stream);
    assert.deepEqual(JSON.parse(text), CITY_PLACEHOLDER);
  });

  it("a scripted text is sent as is under a schema (to feed a client a chosen object, or bad JSON)", async () => {
    const { s, client } = await loaded();
    s.queueReplies({ text: '{"city":"Paris","population":2100000,"tags":["fr"],"kind":"capital"}' });
    const completion = await client.chat.completions.parse({
      model: QWEN.key,
      messages: [{ role: "user", content: "A city?" }],
      response_format: { type: "json_schema", json_schema: { name: "city", schema: CITY_SCHEMA } },
    });
    assert.deepEqual(completion.choices[0]!.message.parsed, {
      city: "Paris",
      population: 2100000,
      tags: ["fr"],
      kind: "capital",
    });
  });

  it("type text is accepted and answers the plain reply", async () => {
    const { s } = await loaded({ reply: "plain" });
    const response = await chatCompletions(s, { response_format: { type: "text" } }, "A city?");
    assert.equal(response.status, 200);
    const body = response.json as { choices: { message: { content: string } }[] };
    assert.equal(body.choices[0]!.message.content, "plain");
  });

  it("json_object gets LM Studio's 400 (0.3.18+), and the openai SDK a BadRequestError", async () => {
    const { s, client } = await loaded();
    const response = await chatCompletions(s, { response_format: { type: "json_object" } }, "A city?");
    assert.equal(response.status, 400);
    assert.deepEqual(response.json, {
      error: "'response_format.type' must be 'json_schema' or 'text'",
    });
    await assert.rejects(
      client.chat.completions.create({
        model: QWEN.key,
        messages: [{ role: "user", content: "?" }],
        response_format: { type: "json_object" },
      }),
      (error: unknown) =>
        error instanceof OpenAI.BadRequestError && /json_schema' or 'text'/.test(error.message),
    );
  });

  it("the 0.2 profile predates structured output and accepts any response_format", async () => {
    const { s } = await loaded({ version: "0.2", reply: "plain" });
    assert.equal(
      (await chatCompletions(s, { response_format: { type: "json_object" } }, "A city?")).status,
      200,
    );
  });
});

describe("structured output: Responses text.format", () => {
  it("json_schema: output_text is JSON of the schema, text.format is echoed, responses.parse() reads it", async () => {
    const { client } = await loaded();
    const format = { type: "json_schema" as const, name: "city", schema: CITY_SCHEMA, strict: true };
    const response = await client.responses.parse({ model: QWEN.key, input: "A city?", text: { format } });
    assert.deepEqual(response.output_parsed, CITY_PLACEHOLDER);
    assert.deepEqual(response.text?.format, format);
  });

  it("without a format the response says text", async () => {
    const { client } = await loaded();
    const response = await client.responses.create({ model: QWEN.key, input: "?" });
    assert.deepEqual(response.text?.format, { type: "text" });
  });
});

describe("structured output: schemas as clients write them", () => {
  it("string formats, a local $ref, distinct items, exclusive bounds: the answer satisfies them", async () => {
    const { s } = await loaded();
    const schema = {
      type: "object",
      $defs: {
        step: {
          type: "object",
          properties: { at: { type: "string", format: "date-time" } },
          required: ["at"],
        },
      },
      properties: {
        email: { type: "string", format: "email" },
        id: { type: "string", format: "uuid" },
        first: { $ref: "#/$defs/step" },
        tags: { type: "array", items: { type: "string" }, minItems: 3, uniqueItems: true },
        below: { type: "integer", exclusiveMaximum: 0 },
      },
      required: ["email", "id", "first", "tags", "below"],
    };
    const reply = await chatCompletions(
      s,
      { response_format: { type: "json_schema", json_schema: { name: "plan", schema } } },
      "A city?",
    );
    const answer = JSON.parse(
      (reply.json as { choices: { message: { content: string } }[] }).choices[0].message.content,
    );
    assert.match(answer.email, /^[^@\s]+@[^@\s]+\.[a-z]+$/);
    assert.match(answer.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.ok(!Number.isNaN(Date.parse(answer.first.at)), answer.first.at);
    assert.equal(new Set(answer.tags).size, 3);
    assert.ok(answer.below < 0);
  });
});
