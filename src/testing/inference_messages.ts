/**
 * The simulated `POST /v1/messages`, LM Studio's Anthropic-compatible endpoint (0.4.1+): text or
 * `tool_use` blocks, whole or streamed as Anthropic's SSE events (`message_start`,
 * `content_block_start`, `content_block_delta`, `content_block_stop`, `message_delta`,
 * `message_stop`). Errors use Anthropic's shape `{"type":"error","error":{type,message}}`.
 * Internal to the testing kit.
 *
 * @module
 */
import { newId, pieces, startTurn, textTokens } from "./inference_common.ts";
import { limitText, outputLimit } from "./inference_limit.ts";
import { type Body, json, type SimResponse, sse, sseResponse, words } from "./routes.ts";
import type { World } from "./world.ts";

/** An Anthropic-shaped error. */
export function anthropicError(status: number, message: string): SimResponse {
  const type = status === 401
    ? "authentication_error"
    : status === 404
    ? "not_found_error"
    : status >= 500
    ? "api_error"
    : "invalid_request_error";
  return json(status, { type: "error", error: { type, message } });
}

/** Re-shapes an OpenAI-style error answer (from model resolution) as an Anthropic error. */
function reshape(response: SimResponse): SimResponse {
  let message = response.body;
  try {
    const parsed = JSON.parse(response.body) as { error?: unknown };
    const error = parsed.error;
    if (typeof error === "string") message = error;
    else if (
      error && typeof error === "object" && typeof (error as { message?: unknown }).message === "string"
    ) {
      message = (error as { message: string }).message;
    }
  } catch {
    // Keep the raw body as the message.
  }
  return anthropicError(response.status, message);
}

type Block =
  | { type: "text"; text: string }
  | { type: "tool_use"; id: string; name: string; input: Record<string, unknown> };

/** `POST /v1/messages`. */
export async function messages(world: World, body: Body): Promise<SimResponse> {
  if (typeof body.model !== "string" || body.model === "") {
    return anthropicError(
      400,
      body.model === undefined ? "model: Field required" : "model: Input should be a valid string",
    );
  }
  if (body.messages === undefined) return anthropicError(400, "messages: Field required");
  if (!Array.isArray(body.messages)) return anthropicError(400, "messages: Input should be a valid list");
  const started = await startTurn(world, body, "messages", {
    overflow: (message) => anthropicError(400, message),
    problem: (message) => anthropicError(400, message),
    unresolved: reshape,
  });
  if (!("turn" in started)) return started;
  const { instance, promptTokens: inputTokens, turn } = started;
  const blocks: Block[] = [];
  const limited = limitText("text" in turn ? turn.text : "", outputLimit(body.max_tokens));
  if ("text" in turn) {
    blocks.push({ type: "text", text: limited.text });
  } else {
    for (const call of turn.calls) {
      let input: unknown;
      try {
        input = JSON.parse(call.arguments);
      } catch {
        input = undefined;
      }
      if (input === null || typeof input !== "object" || Array.isArray(input)) {
        return anthropicError(
          400,
          `Simulator reply script: the arguments of "${call.name}" must be a JSON object for a tool_use block.`,
        );
      }
      blocks.push({
        type: "tool_use",
        id: newId("toolu_"),
        name: call.name,
        input: input as Record<string, unknown>,
      });
    }
  }
  // Anthropic's stop reason for an answer cut by `max_tokens`.
  const stopReason = "text" in turn ? (limited.cut ? "max_tokens" : "end_turn") : "tool_use";
  const outputTokens = "text" in turn
    ? limited.tokens
    : textTokens(turn.calls.map((c) => c.arguments).join(""));
  const message = {
    id: newId("msg_"),
    type: "message",
    role: "assistant",
    model: instance.id,
    content: blocks,
    stop_reason: stopReason,
    stop_sequence: null,
    usage: { input_tokens: inputTokens, output_tokens: outputTokens },
  };
  if (body.stream !== true) return json(200, message);
  const chunks: string[] = [];
  const emit = (type: string, fields: Record<string, unknown> = {}): void => {
    chunks.push(sse({ type, ...fields }, type));
  };
  emit("message_start", {
    message: {
      ...message,
      content: [],
      stop_reason: null,
      usage: { input_tokens: inputTokens, output_tokens: 0 },
    },
  });
  emit("ping");
  blocks.forEach((block, index) => {
    if (block.type === "text") {
      emit("content_block_start", { index, content_block: { type: "text", text: "" } });
      for (const text of words(block.text)) {
        if (text !== "") emit("content_block_delta", { index, delta: { type: "text_delta", text } });
      }
    } else {
      emit("content_block_start", {
        index,
        content_block: { type: "tool_use", id: block.id, name: block.name, input: {} },
      });
      for (const partial of pieces(JSON.stringify(block.input))) {
        emit("content_block_delta", { index, delta: { type: "input_json_delta", partial_json: partial } });
      }
    }
    emit("content_block_stop", { index });
  });
  emit("message_delta", {
    delta: { stop_reason: stopReason, stop_sequence: null },
    usage: { output_tokens: outputTokens },
  });
  emit("message_stop");
  return sseResponse(chunks);
}
