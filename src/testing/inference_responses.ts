/**
 * The simulated `POST /v1/responses` (LM Studio 0.3.29+): the Responses object, and its stream as
 * OpenAI's Responses API reference lays it out (every event with `sequence_number`; each output
 * item opened with `response.output_item.added` and closed with `response.output_item.done`; the
 * last event `response.completed`, or `response.incomplete` when `max_output_tokens` cut it), so
 * the openai SDK's `responses.stream()` and Codex follow it. Internal to the testing kit.
 *
 * `tools` entries are checked as LM Studio checks them: a `type` other than `function` or `mcp`
 * (OpenAI's `custom`, `web_search`, `local_shell`, Codex's `namespace`, a missing one) is refused
 * with LM Studio's 400 before the model runs (`checkTools`), so the model only ever
 * answers `message` and `function_call` items. `mcp` tools (LM Studio's opt-in "Remote MCP") are
 * accepted and ignored: MCP servers, their `mcp_*` items and events are not modelled.
 *
 * @module
 */
import { newId, openAiError, pieces, startTurn, textTokens, type TurnCall } from "./inference_common.ts";
import { isObject } from "../json.ts";
import { limitText, outputLimit } from "./inference_limit.ts";
import { type Body, json, type SimResponse, sse, sseResponse, words } from "./routes.ts";
import type { World } from "./world.ts";

type Item = Record<string, unknown> & { id: string; type: string };

/** A message output item; `status` is `completed`, or `incomplete` when the token limit cut it. */
function messageItem(text: string, status: string): Item {
  return {
    id: newId("msg_"),
    type: "message",
    status,
    role: "assistant",
    content: [{ type: "output_text", text, annotations: [] }],
  };
}

function callItem(call: TurnCall, status: string): Item {
  return {
    id: newId("fc_"),
    type: "function_call",
    status,
    arguments: call.arguments,
    call_id: newId("call_"),
    name: call.name,
  };
}

function invalid(param: string, message: string, code: string): SimResponse {
  return openAiError(400, message, param, code);
}

/** The tool types LM Studio's `/v1/responses` accepts. */
const TOOL_TYPES: readonly unknown[] = ["function", "mcp"];

/** What zod calls the type of a JSON value that is not an object (`received` in its messages). */
function zodType(value: unknown): string {
  if (value === null) return "null";
  return Array.isArray(value) ? "array" : typeof value;
}

/**
 * LM Studio's answer to the first entry of `tools` it refuses, if any. A `type` other than
 * `function` or `mcp` (or none) gets the zod union error LM Studio 0.3.39 and 0.4.0 send to Codex
 * 0.87/0.92, verbatim from lmstudio-bug-tracker#1383:
 * `{"message":"Invalid discriminator value. Expected 'function' | 'mcp'","param":"tools.<i>.type",
 * "code":"invalid_union_discriminator"}`. LM Studio 0.4.11+ words the same refusal
 * `{"message":"Invalid","code":"invalid_string"}` (#1810: Codex's `namespace` tools; #1812); the
 * simulator keeps the first wording on every profile. An entry that is not an object gets zod's
 * `invalid_type` ("Expected object, received string", `param: "tools.<i>"`) [inference]. A `tools`
 * that is not an array is ignored, as are the other fields of an entry.
 */
function checkTools(tools: unknown): SimResponse | undefined {
  if (!Array.isArray(tools)) return undefined;
  for (const [index, entry] of tools.entries()) {
    if (!isObject(entry)) {
      return invalid(`tools.${index}`, `Expected object, received ${zodType(entry)}`, "invalid_type");
    }
    if (!TOOL_TYPES.includes(entry.type)) {
      return invalid(
        `tools.${index}.type`,
        "Invalid discriminator value. Expected 'function' | 'mcp'",
        "invalid_union_discriminator",
      );
    }
  }
  return undefined;
}

/** `POST /v1/responses`. */
export async function responses(world: World, body: Body): Promise<SimResponse> {
  if (body.model === undefined) return invalid("model", "Required", "missing_required_parameter");
  if (typeof body.model !== "string" || body.model === "") {
    return invalid("model", "Expected a non-empty string", "invalid_type");
  }
  if (body.input === undefined) return invalid("input", "Required", "missing_required_parameter");
  if (typeof body.input !== "string" && !Array.isArray(body.input)) {
    return invalid("input", "Expected string or array", "invalid_type");
  }
  const refused = checkTools(body.tools);
  if (refused) return refused;
  const started = await startTurn(world, body, "responses", {
    overflow: (message) => openAiError(400, message),
    problem: (message, param) => openAiError(400, message, param),
  });
  if (!("turn" in started)) return started;
  const { instance, promptTokens: inputTokens, turn } = started;

  // `max_output_tokens` cuts a text answer: the response is then `incomplete` with
  // `incomplete_details.reason: "max_output_tokens"` and ends with `response.incomplete`
  // (OpenAI's Responses API reference, which LM Studio's `/v1/responses` follows).
  const limited = limitText("text" in turn ? turn.text : "", outputLimit(body.max_output_tokens));
  const status = limited.cut ? "incomplete" : "completed";
  const finalItems: Item[] = "text" in turn
    ? [messageItem(limited.text, status)]
    : turn.calls.map((call) => callItem(call, "completed"));
  const outputTokens = "text" in turn
    ? limited.tokens
    : textTokens(turn.calls.map((c) => c.arguments).join(""));
  const base = {
    id: newId("resp_"),
    object: "response",
    created_at: Math.floor(Date.now() / 1000),
    error: null,
    incomplete_details: limited.cut ? { reason: "max_output_tokens" } : null,
    instructions: typeof body.instructions === "string" ? body.instructions : null,
    max_output_tokens: typeof body.max_output_tokens === "number" ? body.max_output_tokens : null,
    metadata: {},
    model: instance.id,
    parallel_tool_calls: body.parallel_tool_calls !== false,
    previous_response_id: typeof body.previous_response_id === "string" ? body.previous_response_id : null,
    temperature: typeof body.temperature === "number" ? body.temperature : 1,
    // The requested format is echoed (a json_schema format too), as OpenAI's Responses object does.
    text: { format: isObject(body.text) && isObject(body.text.format) ? body.text.format : { type: "text" } },
    tool_choice: body.tool_choice ?? "auto",
    tools: Array.isArray(body.tools) ? body.tools : [],
    top_p: typeof body.top_p === "number" ? body.top_p : 1,
    truncation: "disabled",
  };
  const finished = {
    ...base,
    status,
    output: finalItems,
    usage: {
      input_tokens: inputTokens,
      output_tokens: outputTokens,
      total_tokens: inputTokens + outputTokens,
    },
  };
  if (body.stream !== true) return json(200, finished);

  let sequence = 0;
  const chunks: string[] = [];
  const emit = (type: string, fields: Record<string, unknown>): void => {
    chunks.push(sse({ type, sequence_number: sequence++, ...fields }, type));
  };
  const pending = { ...base, status: "in_progress", output: [], usage: null };
  emit("response.created", { response: pending });
  emit("response.in_progress", { response: pending });
  finalItems.forEach((item, outputIndex) => {
    const at = { item_id: item.id, output_index: outputIndex };
    if (item.type === "message") {
      const text = limited.text;
      emit("response.output_item.added", {
        output_index: outputIndex,
        item: { ...item, status: "in_progress", content: [] },
      });
      emit("response.content_part.added", {
        ...at,
        content_index: 0,
        part: { type: "output_text", text: "", annotations: [] },
      });
      for (const delta of words(text)) {
        if (delta !== "") {
          emit("response.output_text.delta", { ...at, content_index: 0, delta, logprobs: [] });
        }
      }
      emit("response.output_text.done", { ...at, content_index: 0, text, logprobs: [] });
      emit("response.content_part.done", {
        ...at,
        content_index: 0,
        part: { type: "output_text", text, annotations: [] },
      });
    } else {
      const args = item.arguments as string;
      emit("response.output_item.added", {
        output_index: outputIndex,
        item: { ...item, status: "in_progress", arguments: "" },
      });
      for (const delta of pieces(args)) {
        if (delta !== "") emit("response.function_call_arguments.delta", { ...at, delta });
      }
      emit("response.function_call_arguments.done", { ...at, name: item.name, arguments: args });
    }
    emit("response.output_item.done", { output_index: outputIndex, item });
  });
  emit(`response.${status}`, { response: finished });
  return sseResponse(chunks);
}
