/**
 * The simulated inference endpoints: OpenAI-compatible `/v1/chat/completions`, `/v1/completions`,
 * `/v1/embeddings`, `/v1/responses` (0.3+), their REST v0 twins `/api/v0/chat/completions`,
 * `/api/v0/completions`, `/api/v0/embeddings` (0.3+, `inference_v0.ts`) and the
 * Anthropic-compatible `/v1/messages` (0.4).
 * Pure request → response functions over the {@linkcode World}, reached through
 * {@linkcode answerInference}, the one hook in `routes.ts` (which owns auth, the other routes
 * and the shared helpers imported here). Internal to the testing kit.
 *
 * Every endpoint that generates text checks, in LM Studio's order: the body (malformed requests
 * get LM Studio's 400 shapes), the model (JIT load), the context (a prompt whose estimate —
 * `ceil(characters / 4)`, `promptTokens` in inference_common.ts — reaches the instance's loaded
 * context gets llama.cpp's `n_keep >= n_ctx` 400), then takes the model's turn (reply script,
 * required tool call or canned text); all but the body check are `startTurn`, shared by every one.
 *
 * @module
 */
import {
  newId,
  openAiError,
  parseJsonBody,
  pieces,
  startTurn,
  stringError,
  textTokens,
  type TurnFailures,
} from "./inference_common.ts";
import { checkResponseFormat } from "./inference_format.ts";
import { limitText, outputLimit } from "./inference_limit.ts";
import { anthropicError, messages } from "./inference_messages.ts";
import { withV0Fields } from "./inference_v0.ts";
import { reasoningOf } from "./inference_reasoning.ts";
import { responses } from "./inference_responses.ts";
import {
  type Body,
  json,
  resolveInference,
  type SimRequest,
  type SimResponse,
  sse,
  sseResponse,
  words,
} from "./routes.ts";
import type { World } from "./world.ts";

/** The `'<field>' field is required` family LM Studio answers on `/v1/*` (a bare string `error`). */
function checkModel(body: Body): SimResponse | undefined {
  if (body.model === undefined) return stringError(400, "'model' field is required");
  if (typeof body.model !== "string" || body.model === "") {
    return stringError(400, "'model' must be a non-empty string");
  }
  return undefined;
}

function isTextOrList(value: unknown): boolean {
  return typeof value === "string" || Array.isArray(value);
}

/**
 * OpenAI's `usage`. Reasoning tokens count as completion tokens and are also reported apart, in
 * `completion_tokens_details.reasoning_tokens` (the field LM Studio 0.4.22 sends,
 * lmstudio-bug-tracker#2335), only when the model reasoned.
 */
function usageOf(promptCount: number, answerCount: number, reasoningCount = 0): Record<string, unknown> {
  const completion = answerCount + reasoningCount;
  const usage: Record<string, unknown> = {
    prompt_tokens: promptCount,
    completion_tokens: completion,
    total_tokens: promptCount + completion,
  };
  if (reasoningCount > 0) usage.completion_tokens_details = { reasoning_tokens: reasoningCount };
  return usage;
}

/** Chat and legacy completions: the overflow as LM Studio's bare string, script problems OpenAI-shaped. */
const OPENAI_FAILURES: TurnFailures = {
  overflow: (message) => stringError(400, message),
  problem: (message, param) => openAiError(400, message, param),
};

/**
 * A streamed chat request whose prompt does not fit, as LM Studio 0.4 answers it: HTTP 200, an
 * event stream, and one `event: error` frame, verbatim in shape and wording from LM Studio
 * 0.4.21 (aaif-goose/goose#11318, the capture behind lmstudio-bug-tracker#2322; thane-ai-agent
 * PR #1395 describes the same 200-then-error-frame in 2026-08). The openai SDK then throws while
 * iterating, not from `create()`. Only the context overflow on `/v1/chat/completions` is
 * evidenced: other errors, other endpoints and the 0.3/0.2 profiles keep the plain 400.
 */
function streamedOverflow(promptTokenCount: number, contextLength: number): SimResponse {
  const message =
    `Input does not fit in context length. The input has ${promptTokenCount} tokens, but the context length only supports ${contextLength} tokens.`;
  return sseResponse([sse({ error: { message }, message }, "error")]);
}

/**
 * `POST /v1/chat/completions`. `version` is the profile whose answer it gives: text replies carry
 * `tool_calls: []` on 0.3 and 0.4 (lmstudio-bug-tracker#1318, seen on 0.3.35 and still open).
 */
async function chatCompletions(world: World, body: Body): Promise<SimResponse> {
  const bad = checkModel(body);
  if (bad) return bad;
  if (body.messages === undefined) return stringError(400, "'messages' field is required");
  if (!Array.isArray(body.messages)) return stringError(400, "'messages' must be an array");
  const format = checkResponseFormat(world, body);
  if (format) return format;
  const streamsErrors = body.stream === true && world.version === "0.4";
  const started = await startTurn(world, body, "chat", {
    ...OPENAI_FAILURES,
    overflow: (message, tokens, context) =>
      streamsErrors ? streamedOverflow(tokens, context) : stringError(400, message),
  });
  if (!("turn" in started)) return started;
  const { instance, promptTokens: promptCount, turn } = started;

  const model = instance.id;
  const id = newId("chatcmpl-", 21);
  const created = Math.floor(Date.now() / 1000);
  const calls = "calls" in turn
    ? turn.calls.map((call) => ({
      id: newId("call_"),
      type: "function" as const,
      function: { name: call.name, arguments: call.arguments },
    }))
    : [];
  const limited = limitText("text" in turn ? turn.text : "", outputLimit(body.max_tokens));
  const text = limited.text;
  const finishReason = calls.length > 0 ? "tool_calls" : limited.cut ? "length" : "stop";
  const reasoning = reasoningOf(world, instance, body);
  const reasoningTokens = reasoning ? textTokens(reasoning) : 0;
  const usage = usageOf(
    promptCount,
    calls.length > 0 ? textTokens(calls.map((c) => c.function.arguments).join("")) : limited.tokens,
    reasoningTokens,
  );
  if (body.stream === true) {
    const base = { id, object: "chat.completion.chunk", created, model, system_fingerprint: model };
    const chunk = (delta: Record<string, unknown>, finish: string | null = null): string =>
      sse({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] });
    const chunks: string[] = [];
    if (reasoning) {
      words(reasoning).forEach((piece, index) => {
        chunks.push(chunk(index === 0 ? { role: "assistant", reasoning: piece } : { reasoning: piece }));
      });
    }
    const opening = reasoning ? {} : { role: "assistant" };
    if (calls.length === 0) {
      words(text).forEach((piece, index) => {
        chunks.push(chunk(index === 0 ? { ...opening, content: piece } : { content: piece }));
      });
    } else {
      calls.forEach((call, index) => {
        const first = {
          tool_calls: [{
            index,
            id: call.id,
            type: "function",
            function: { name: call.function.name, arguments: "" },
          }],
        };
        chunks.push(chunk(index === 0 ? { ...opening, content: null, ...first } : first));
        for (const part of pieces(call.function.arguments)) {
          if (part !== "") chunks.push(chunk({ tool_calls: [{ index, function: { arguments: part } }] }));
        }
      });
    }
    chunks.push(chunk({}, finishReason));
    const options = body.stream_options as { include_usage?: boolean } | undefined;
    if (options?.include_usage) chunks.push(sse({ ...base, choices: [], usage }));
    chunks.push(sse("[DONE]"));
    return sseResponse(chunks);
  }
  const message: Record<string, unknown> = { role: "assistant", content: calls.length > 0 ? null : text };
  if (reasoning) message.reasoning = reasoning;
  if (calls.length > 0) message.tool_calls = calls;
  else if (world.version !== "0.2") message.tool_calls = [];
  return json(200, {
    id,
    object: "chat.completion",
    created,
    model,
    choices: [{ index: 0, logprobs: null, finish_reason: finishReason, message }],
    usage,
    stats: {},
    system_fingerprint: model,
  });
}

/** `POST /v1/completions` ("Completions (Legacy)": the prompt goes in as is). */
async function completions(world: World, body: Body): Promise<SimResponse> {
  const bad = checkModel(body);
  if (bad) return bad;
  if (body.prompt === undefined) return stringError(400, "'prompt' field is required");
  if (!isTextOrList(body.prompt)) return stringError(400, "'prompt' must be a string or an array of strings");
  const started = await startTurn(world, body, "completions", OPENAI_FAILURES);
  if (!("turn" in started)) return started;
  const { instance, promptTokens: promptCount, turn } = started;
  const limited = limitText("text" in turn ? turn.text : "", outputLimit(body.max_tokens));
  const text = limited.text;
  const finishReason = limited.cut ? "length" : "stop";
  const model = instance.id;
  const id = newId("cmpl-", 21);
  const created = Math.floor(Date.now() / 1000);
  const usage = usageOf(promptCount, limited.tokens);
  const base = { id, object: "text_completion", created, model, system_fingerprint: model };
  if (body.stream === true) {
    const chunks = words(text).map((piece) =>
      sse({ ...base, choices: [{ index: 0, text: piece, logprobs: null, finish_reason: null }] })
    );
    chunks.push(
      sse({ ...base, choices: [{ index: 0, text: "", logprobs: null, finish_reason: finishReason }] }),
    );
    chunks.push(sse("[DONE]"));
    return sseResponse(chunks);
  }
  return json(200, {
    ...base,
    choices: [{ index: 0, text, logprobs: null, finish_reason: finishReason }],
    usage,
    stats: {},
  });
}

async function embeddings(world: World, body: Body): Promise<SimResponse> {
  const bad = checkModel(body);
  if (bad) return bad;
  if (body.input === undefined) return stringError(400, "'input' field is required");
  if (!isTextOrList(body.input)) return stringError(400, "'input' must be a string or an array of strings");
  const resolved = await resolveInference(world, body, "embedding");
  if ("response" in resolved) return resolved.response;
  const inputs = Array.isArray(body.input) ? body.input : [body.input];
  let total = 0;
  for (const input of inputs) total += textTokens(typeof input === "string" ? input : JSON.stringify(input));
  // LM Studio ignores `encoding_format` and always answers floats (#756).
  const data = inputs.map((input, index) => {
    const text = typeof input === "string" ? input : JSON.stringify(input);
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
    usage: { prompt_tokens: total, total_tokens: total },
  });
}

type Handler = (world: World, body: Body) => Promise<SimResponse>;

interface InferenceRoute {
  versions: readonly string[];
  handler: Handler;
  /** How this endpoint answers a body that is not a JSON object. */
  malformed: (message: string) => SimResponse;
}

const ALL = ["0.4", "0.3", "0.2"] as const;

const V03 = ["0.4", "0.3"] as const;

/** A REST v0 endpoint: the `/v1` handler's answer with the v0 fields added. */
function v0(handler: Handler): Handler {
  return async (world, body) => withV0Fields(world, await handler(world, body));
}

/** How the OpenAI-compatible endpoints answer a body that is not a JSON object. */
const openAiMalformed = (message: string): SimResponse => openAiError(400, message);

const INFERENCE: Record<string, InferenceRoute> = {
  "/v1/chat/completions": { versions: ALL, handler: chatCompletions, malformed: openAiMalformed },
  "/v1/completions": { versions: ALL, handler: completions, malformed: openAiMalformed },
  "/v1/embeddings": { versions: ALL, handler: embeddings, malformed: openAiMalformed },
  "/api/v0/chat/completions": { versions: V03, handler: v0(chatCompletions), malformed: openAiMalformed },
  "/api/v0/completions": { versions: V03, handler: v0(completions), malformed: openAiMalformed },
  // The docs' v0 embeddings example adds no field to the /v1 answer.
  "/api/v0/embeddings": { versions: V03, handler: embeddings, malformed: openAiMalformed },
  "/v1/responses": { versions: V03, handler: responses, malformed: openAiMalformed },
  "/v1/messages": { versions: ["0.4"], handler: messages, malformed: (m) => anthropicError(400, m) },
};

/**
 * The headers auth is checked against: `POST /v1/messages` also takes the token as `x-api-key`
 * (Anthropic clients send it there; LM Studio accepts both).
 */
export function inferenceAuthHeaders(request: SimRequest): Record<string, string> {
  const key = request.headers["x-api-key"];
  if (
    request.path !== "/v1/messages" || key === undefined || request.headers["authorization"] !== undefined
  ) {
    return request.headers;
  }
  return { ...request.headers, authorization: `Bearer ${key}` };
}

/**
 * Answers an inference request (auth already checked), or `undefined` when the method and path
 * are not an inference endpoint of the world's version profile.
 */
export async function answerInference(world: World, request: SimRequest): Promise<SimResponse | undefined> {
  if (request.method !== "POST") return undefined;
  const route = Object.hasOwn(INFERENCE, request.path) ? INFERENCE[request.path] : undefined;
  if (!route || !route.versions.includes(world.version)) return undefined;
  const parsed = parseJsonBody(request.body);
  if ("problem" in parsed) return route.malformed(parsed.problem);
  return await route.handler(world, parsed.body);
}
