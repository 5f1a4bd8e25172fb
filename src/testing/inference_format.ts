/**
 * Structured output in the simulated inference endpoints: which `response_format` LM Studio
 * accepts on chat completions, and the JSON a stand-in model answers when a request asks for a
 * JSON schema (chat `response_format`, Responses `text.format`). Internal to the testing kit.
 *
 * @module
 */
import { isObject } from "../json.ts";
import { stringError } from "./inference_common.ts";
import { placeholderFor, type ToolDialect } from "./inference_tools.ts";
import type { SimResponse } from "./routes.ts";
import type { World } from "./world.ts";

/**
 * LM Studio's answer to a `response_format.type` other than `json_schema` and `text` on chat
 * completions (OpenAI's `json_object` included): changelog 0.3.18 added `"text"`; the message is
 * quoted from LM Studio 0.4.20 (webai-at-home#221) and 0.4.10 (lmstudio-bug-tracker#1773). Before
 * 0.3.18 the message was `'response_format.type' must be 'json_schema'` (#307); the 0.2 profile is
 * older than structured output and keeps accepting any format.
 */
export function checkResponseFormat(world: World, body: Record<string, unknown>): SimResponse | undefined {
  if (world.version === "0.2" || body.response_format === undefined) return undefined;
  const type = isObject(body.response_format) ? body.response_format.type : undefined;
  if (type === "json_schema" || type === "text") return undefined;
  return stringError(400, "'response_format.type' must be 'json_schema' or 'text'");
}

/**
 * The JSON schema a request asks the answer to follow, if any: chat `response_format:
 * { type: "json_schema", json_schema: { schema } }`, Responses `text.format: { type:
 * "json_schema", schema }`. Anthropic messages and legacy completions have none.
 */
export function requestedSchema(
  body: Record<string, unknown>,
  dialect: ToolDialect | "completions",
): Record<string, unknown> | undefined {
  if (dialect === "chat") {
    const format = body.response_format;
    if (!isObject(format) || format.type !== "json_schema" || !isObject(format.json_schema)) return undefined;
    return isObject(format.json_schema.schema) ? format.json_schema.schema : {};
  }
  if (dialect === "responses") {
    const format = isObject(body.text) ? body.text.format : undefined;
    if (!isObject(format) || format.type !== "json_schema") return undefined;
    return isObject(format.schema) ? format.schema : {};
  }
  return undefined;
}

/**
 * What the stand-in model answers under a schema: the JSON of a value that satisfies it (the same
 * placeholders as tool call arguments), as LM Studio's grammar-constrained sampling guarantees
 * (docs `structured-output.md`: "the LLM will respond in valid JSON conforming to the schema").
 */
export function structuredText(schema: Record<string, unknown>): string {
  return JSON.stringify(placeholderFor(schema));
}
