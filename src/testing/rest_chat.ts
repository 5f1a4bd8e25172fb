/**
 * The simulated `POST /api/v1/chat` (REST v1, LM Studio 0.4): checks the body as the docs and
 * observed answers allow, JIT-loads with the request's `context_length`, refuses a prompt that
 * does not fit the loaded context, and answers the world's reply (cut at `max_output_tokens`,
 * after the model's reasoning when it has any), whole or as the documented stream of named
 * events (docs `2_rest/chat.md`, `streaming-events.md`). It does not take replies from the reply
 * script: that serves the OpenAI- and Anthropic-compatible endpoints. Internal to the testing kit.
 *
 * @module
 */
import { isObject } from "../json.ts";
import {
  overflowOf,
  promptTokens,
  textTokens,
  TIME_TO_FIRST_TOKEN_SECONDS,
  TOKENS_PER_SECOND,
} from "./inference_common.ts";
import { limitText, outputLimit } from "./inference_limit.ts";
import { reasoningOf } from "./inference_reasoning.ts";
import {
  type Body,
  json,
  missing,
  randomId,
  resolveInference,
  type SimResponse,
  sse,
  sseResponse,
  v1Error,
  words,
} from "./routes.ts";
import { aboveMaximum, type World } from "./world.ts";

/** The fields of each documented input item type; `"text"` is what the docs' image example sends. */
const INPUT_ITEMS: Readonly<Record<string, readonly string[]>> = {
  message: ["content"],
  text: ["content"],
  image: ["data_url"],
};

/**
 * Checks the items of an `input` array. The only answer LM Studio is known to give is for an item
 * of a known type that lacks its field or has others, e.g. `[{"type":"text","text":"hi"}]` →
 * `'input.0.content' is required, Unrecognized key(s) in object: 'text'`, code `invalid_union`
 * (server log quoted in vrgamegirl19/comfyui-vrgamedevgirl#119, 2026-08); the simulator words
 * every such item that way. Items of an unknown type, or that are not objects, pass as before:
 * what LM Studio answers for them is not known.
 */
function checkInput(input: unknown): SimResponse | undefined {
  if (!Array.isArray(input)) return undefined;
  for (const [index, item] of input.entries()) {
    if (!isObject(item) || typeof item.type !== "string" || !Object.hasOwn(INPUT_ITEMS, item.type)) continue;
    const fields = INPUT_ITEMS[item.type]!;
    const problems = fields.filter((field) => item[field] === undefined)
      .map((field) => `'input.${index}.${field}' is required`);
    const unknown = Object.keys(item).filter((key) => key !== "type" && !fields.includes(key));
    if (unknown.length > 0) {
      problems.push(`Unrecognized key(s) in object: ${unknown.map((key) => `'${key}'`).join(", ")}`);
    }
    if (problems.length > 0) {
      return v1Error(400, "invalid_request", problems.join(", "), { code: "invalid_union", param: "input" });
    }
  }
  return undefined;
}

/** `POST /api/v1/chat`. */
export async function chatV1(world: World, body: Body): Promise<SimResponse> {
  if (typeof body.model !== "string" || body.model === "") return missing("model");
  if (body.input === undefined) return missing("input");
  const badInput = checkInput(body.input);
  if (badInput) return badInput;
  // `context_length` as the load endpoint takes it (a JIT load is a load): a positive integer, at
  // most the model's maximum; refused the same way, naming the parameter.
  const asked = body.context_length;
  if (asked !== undefined && (typeof asked !== "number" || !Number.isInteger(asked) || asked < 1)) {
    return v1Error(400, "invalid_request", `"context_length" must be a positive integer`, {
      param: "context_length",
    });
  }
  const record = world.models.get(body.model);
  const above = record ? aboveMaximum(record, asked) : undefined;
  if (above) return v1Error(400, "invalid_request", above, { param: "context_length" });
  const resolved = await resolveInference(world, body, "llm", {
    jitContextLength: asked,
    anyNameQuirk: false,
  });
  if ("response" in resolved) {
    const parsed = JSON.parse(resolved.response.body) as { error: unknown };
    const message = typeof parsed.error === "string"
      ? parsed.error
      : (parsed.error as { message?: string }).message ?? "error";
    const type = resolved.response.status === 500 ? "internal_error" : "model_not_found";
    return v1Error(resolved.response.status === 500 ? 500 : 404, type, message);
  }
  const instance = resolved.instance;
  const instanceId = instance.id;
  const inputTokens = promptTokens(body);
  // The same overflow as on /v1 (llama.cpp's message); the REST v1 envelope and type are the
  // documented ones for a bad request, the wording here is not documented for this endpoint.
  const overflow = overflowOf(instance, inputTokens);
  if (overflow) return v1Error(400, "invalid_request", overflow);
  const reasoning = reasoningOf(world, instance, body);
  const reasoningTokens = reasoning ? textTokens(reasoning) : 0;
  const answer = limitText(world.reply, outputLimit(body.max_output_tokens));
  const stats: Record<string, unknown> = {
    input_tokens: inputTokens,
    total_output_tokens: answer.tokens + reasoningTokens, // reasoning included (docs mcp.mdx example)
    reasoning_output_tokens: reasoningTokens,
    tokens_per_second: TOKENS_PER_SECOND,
    time_to_first_token_seconds: TIME_TO_FIRST_TOKEN_SECONDS,
  };
  if (resolved.loadSeconds !== undefined) stats.model_load_time_seconds = resolved.loadSeconds;
  const output: Record<string, unknown>[] = [];
  if (reasoning) output.push({ type: "reasoning", content: reasoning });
  output.push({ type: "message", content: answer.text });
  const result: Record<string, unknown> = { model_instance_id: instanceId, output, stats };
  if (body.store !== false) result.response_id = `resp_${randomId(48)}`;
  if (body.stream !== true) return json(200, result);

  const chunks: string[] = [];
  const emit = (type: string, fields: Record<string, unknown> = {}): void => {
    chunks.push(sse({ type, ...fields }, type));
  };
  emit("chat.start", { model_instance_id: instanceId });
  if (resolved.loadSeconds !== undefined) {
    emit("model_load.start", { model_instance_id: instanceId });
    emit("model_load.progress", { model_instance_id: instanceId, progress: 1 });
    emit("model_load.end", { model_instance_id: instanceId, load_time_seconds: resolved.loadSeconds });
  }
  emit("prompt_processing.start");
  emit("prompt_processing.progress", { progress: 1 });
  emit("prompt_processing.end");
  if (reasoning) {
    emit("reasoning.start");
    for (const content of words(reasoning)) emit("reasoning.delta", { content });
    emit("reasoning.end");
  }
  emit("message.start");
  for (const content of words(answer.text)) emit("message.delta", { content });
  emit("message.end");
  emit("chat.end", { result });
  return sseResponse(chunks);
}
