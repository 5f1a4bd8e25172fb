/**
 * The simulated OpenAI-compatible inference endpoints: `/v1/chat/completions`, `/v1/responses`
 * and `/v1/embeddings`. Pure request → response functions over the {@linkcode World}, reached
 * through {@linkcode answerInference}, the one hook in `routes.ts` (which owns auth, the other
 * routes and the shared helpers imported here). Internal to the testing kit.
 *
 * @module
 */
import {
  type Body,
  estimateTokens,
  json,
  parseBody,
  promptText,
  randomId,
  resolveInference,
  type SimRequest,
  type SimResponse,
  sse,
  sseResponse,
  words,
} from "./routes.ts";
import type { World } from "./world.ts";

async function chatCompletions(world: World, body: Body): Promise<SimResponse> {
  const resolved = await resolveInference(world, body, "llm");
  if ("response" in resolved) return resolved.response;
  const model = resolved.instance.id;
  const id = `chatcmpl-${randomId(21)}`;
  const created = Math.floor(Date.now() / 1000);
  const promptTokens = estimateTokens(promptText(body));
  const completionTokens = estimateTokens(world.reply);
  const usage = {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
  };
  if (body.stream === true) {
    const base = { id, object: "chat.completion.chunk", created, model, system_fingerprint: model };
    const chunks = words(world.reply).map((piece, index) =>
      sse({
        ...base,
        choices: [{
          index: 0,
          delta: index === 0 ? { role: "assistant", content: piece } : { content: piece },
          logprobs: null,
          finish_reason: null,
        }],
      })
    );
    chunks.push(sse({ ...base, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: "stop" }] }));
    const options = body.stream_options as { include_usage?: boolean } | undefined;
    if (options?.include_usage) chunks.push(sse({ ...base, choices: [], usage }));
    chunks.push(sse("[DONE]"));
    return sseResponse(chunks);
  }
  return json(200, {
    id,
    object: "chat.completion",
    created,
    model,
    choices: [{
      index: 0,
      logprobs: null,
      finish_reason: "stop",
      message: { role: "assistant", content: world.reply },
    }],
    usage,
    stats: {},
    system_fingerprint: model,
  });
}

async function responses(world: World, body: Body): Promise<SimResponse> {
  const resolved = await resolveInference(world, body, "llm");
  if ("response" in resolved) return resolved.response;
  const inputTokens = estimateTokens(promptText(body));
  const outputTokens = estimateTokens(world.reply);
  const message = {
    id: `msg_${randomId(24)}`,
    type: "message",
    role: "assistant",
    status: "completed",
    content: [{ type: "output_text", text: world.reply, annotations: [] }],
  };
  const response = {
    id: `resp_${randomId(24)}`,
    object: "response",
    created_at: Math.floor(Date.now() / 1000),
    model: resolved.instance.id,
    output: [message],
    previous_response_id: typeof body.previous_response_id === "string" ? body.previous_response_id : null,
    status: "completed",
    usage: {
      input_tokens: inputTokens,
      output_tokens: outputTokens,
      total_tokens: inputTokens + outputTokens,
    },
  };
  if (body.stream === true) {
    const chunks = [
      sse(
        { type: "response.created", response: { ...response, status: "in_progress", output: [] } },
        "response.created",
      ),
      ...words(world.reply).map((delta) =>
        sse({
          type: "response.output_text.delta",
          item_id: message.id,
          output_index: 0,
          content_index: 0,
          delta,
        }, "response.output_text.delta")
      ),
      sse({ type: "response.completed", response }, "response.completed"),
    ];
    return sseResponse(chunks);
  }
  return json(200, response);
}

async function embeddings(world: World, body: Body): Promise<SimResponse> {
  const resolved = await resolveInference(world, body, "embedding");
  if ("response" in resolved) return resolved.response;
  const inputs = Array.isArray(body.input) ? body.input : [body.input ?? ""];
  const data = inputs.map((input, index) => {
    const text = String(input);
    const embedding = Array.from({ length: 8 }, (_, i) => {
      let h = i + 1;
      for (let c = 0; c < text.length; c++) h = (h * 31 + text.charCodeAt(c)) % 1000003;
      return (h / 1000003) * 2 - 1;
    });
    return { object: "embedding", embedding, index };
  });
  return json(200, {
    object: "list",
    data,
    model: resolved.instance.id,
    usage: { prompt_tokens: 0, total_tokens: 0 },
  });
}

type Handler = (world: World, body: Body) => Promise<SimResponse>;

const INFERENCE: Record<string, { versions: readonly string[]; handler: Handler }> = {
  "/v1/chat/completions": { versions: ["0.4", "0.3", "0.2"], handler: chatCompletions },
  "/v1/embeddings": { versions: ["0.4", "0.3", "0.2"], handler: embeddings },
  "/v1/responses": { versions: ["0.4", "0.3"], handler: responses },
};

/**
 * Answers an inference request (auth already checked), or `undefined` when the method and path
 * are not an inference endpoint of the world's version profile.
 */
export async function answerInference(world: World, request: SimRequest): Promise<SimResponse | undefined> {
  if (request.method !== "POST") return undefined;
  const route = Object.hasOwn(INFERENCE, request.path) ? INFERENCE[request.path] : undefined;
  if (!route || !route.versions.includes(world.version)) return undefined;
  const parsed = parseBody(request.body);
  if ("error" in parsed) return parsed.error;
  return await route.handler(world, parsed.body);
}
