/**
 * What the simulated inference endpoints share: request parsing, the prompt token estimate and
 * LM Studio's context overflow, and the model's next turn (scripted reply, required tool call or
 * canned text). Internal to the testing kit.
 *
 * @module
 */
import type { InstanceRecord } from "./models.ts";
import { requestedSchema, structuredText } from "./inference_format.ts";
import { takeReply } from "./inference_script.ts";
import {
  type OfferedTool,
  offeredTools,
  placeholderArguments,
  toolDemand,
  type ToolDialect,
} from "./inference_tools.ts";
import { type Body, json, randomId, recordOf, resolveInference, type SimResponse } from "./routes.ts";
import type { World } from "./world.ts";

/** The outcome of reading a request body: the JSON object, or why it is not one. */
export type ParsedBody = { body: Body } | { problem: string };

/** Parses a request body; an empty body is `{}`. */
export function parseJsonBody(text: string): ParsedBody {
  if (text.trim() === "") return { body: {} };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return { problem: `Received request with invalid JSON: ${detail.slice(0, 200)}` };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return { problem: "Request body must be a JSON object." };
  }
  return { body: value as Body };
}

/** LM Studio's older error shape on `/v1/*`: `{"error": "<message>"}`. */
export function stringError(status: number, message: string): SimResponse {
  return json(status, { error: message });
}

/** The OpenAI error envelope `{"error": {message, type, param, code}}`. */
export function openAiError(
  status: number,
  message: string,
  param: string | null = null,
  code: string | null = null,
): SimResponse {
  return json(status, { error: { message, type: "invalid_request_error", param, code } });
}

function collectText(value: unknown, parts: string[], depth = 0): void {
  if (depth > 32 || value === null || value === undefined) return;
  if (typeof value === "string") {
    parts.push(value);
  } else if (Array.isArray(value)) {
    for (const item of value) collectText(item, parts, depth + 1);
  } else if (typeof value === "object") {
    const record = value as Record<string, unknown>;
    for (const key of ["content", "text", "output", "arguments", "tool_calls", "function"]) {
      collectText(record[key], parts, depth + 1);
    }
    // Anthropic tool_use blocks carry their arguments as an object.
    if (record.input !== undefined) {
      collectText(typeof record.input === "string" ? record.input : JSON.stringify(record.input), parts);
    }
  }
}

/**
 * The simulator's prompt token estimate: `ceil(characters / 4)` (at least 1) over the prompt's
 * text, that is the contents of `messages` / `input` / `prompt` (tool results and tool call
 * arguments included), `instructions` / `system` / `system_prompt`, plus the JSON of the offered
 * `tools`.
 */
export function promptTokens(body: Body): number {
  const parts: string[] = [];
  collectText(body.instructions, parts);
  collectText(body.system, parts);
  collectText(body.system_prompt, parts); // REST v1 chat
  collectText(body.messages ?? body.input ?? body.prompt, parts);
  if (Array.isArray(body.tools)) parts.push(JSON.stringify(body.tools));
  const chars = parts.reduce((n, part) => n + part.length, 0);
  return Math.max(1, Math.ceil(chars / 4));
}

/** The estimate of a generated text (same rule as prompts). */
export function textTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

/** The simulated generation speed, reported in the `stats` of REST v0 answers and REST v1 chat. */
export const TOKENS_PER_SECOND = 50;
/** The simulated time to the first token, in seconds (the same `stats`). */
export const TIME_TO_FIRST_TOKEN_SECONDS = 0.05;

/** LM Studio's (llama.cpp's) message for a prompt that does not fit the loaded context. */
export function contextOverflowMessage(promptTokenCount: number, contextLength: number): string {
  return `The number of tokens to keep from the initial prompt is greater than the context length (n_keep: ${promptTokenCount}>= n_ctx: ${contextLength}). Try to load the model with a larger context length, or provide a shorter input.`;
}

/** The overflow message when the prompt does not fit the instance's loaded context, else undefined. */
export function overflowOf(instance: InstanceRecord, tokens: number): string | undefined {
  return tokens >= instance.contextLength
    ? contextOverflowMessage(tokens, instance.contextLength)
    : undefined;
}

/** One tool call of the model's turn, arguments already serialised. */
export interface TurnCall {
  name: string;
  /** JSON text of the arguments (a scripted string as it is, even when it is not JSON). */
  arguments: string;
}

/** The model's next turn: text, tool calls, or a problem to answer with a 400. */
export type Turn = { text: string } | { calls: TurnCall[] } | { problem: string; param: string };

function serialise(args: Record<string, unknown> | string): string {
  return typeof args === "string" ? args : JSON.stringify(args);
}

function callOf(tool: OfferedTool, args: Record<string, unknown> | string | undefined): TurnCall {
  return { name: tool.name, arguments: serialise(args ?? placeholderArguments(tool)) };
}

/**
 * Whether a request only warms the model up: it asks for exactly one output token, as Codex and
 * this library do to make LM Studio load a model (`max_output_tokens: 1`, `max_tokens: 1`). `-1`
 * is "no limit" (LM Studio's own example sends it) and `max_completion_tokens` is not LM Studio's:
 * neither is a warm-up.
 */
export function isWarmUp(body: Body): boolean {
  return (body.max_output_tokens ?? body.max_tokens) === 1;
}

/**
 * Decides what the model answers. A request that is no warm-up takes the next scripted reply (a
 * scripted call of a tool the request did not offer is a problem). Then `tool_choice` wins over
 * the script, as LM Studio's constrained sampling would (changelog 0.3.15: with `"none"` the
 * model "will not call tools", with `"required"` it "must call tools"; a named function obliges
 * that call), and the scripted reply is used up either way, so one reply is one request:
 * - `"none"`: scripted calls become the canned answer (the world's `reply`, or the schema's JSON);
 * - `"required"`: a scripted text becomes a call of the first offered tool (placeholder arguments),
 *   on llama.cpp (GGUF) models only: LM Studio's api-changelog 0.3.15 says `"required"` works on
 *   llama.cpp only, so on an MLX model (`format: "mlx"`) it obliges nothing and the model answers
 *   as under `"auto"`;
 * - a named tool: only scripted calls of that tool are kept, else one call of it with placeholders;
 * - `parallel_tool_calls: false` keeps the first call only (OpenAI's meaning of the flag; whether
 *   LM Studio honours it is not documented).
 * Without a script the model answers the canned text, or the call `tool_choice` obliges.
 */
export function nextTurn(
  world: World,
  body: Body,
  dialect: ToolDialect | "completions",
  instance: InstanceRecord,
): Turn {
  const tools = dialect === "completions" ? [] : offeredTools(body, dialect);
  const schema = requestedSchema(body, dialect);
  const canned = (): Turn => ({ text: schema ? structuredText(schema) : world.reply });
  const reply = isWarmUp(body) ? undefined : takeReply(world);
  let turn: Turn = canned();
  if (reply && "text" in reply) turn = { text: reply.text };
  if (reply && "toolCalls" in reply) {
    const calls: TurnCall[] = [];
    for (const call of reply.toolCalls) {
      const tool = tools.find((t) => t.name === call.name);
      if (!tool) {
        const offered = tools.length === 0 ? "none" : tools.map((t) => `"${t.name}"`).join(", ");
        return {
          problem:
            `Simulator reply script: the scripted tool call "${call.name}" names a tool this request did not offer (offered: ${offered}).`,
          param: "tools",
        };
      }
      calls.push(callOf(tool, call.arguments));
    }
    turn = { calls };
  }
  if (dialect === "completions" || tools.length === 0) return turn;
  const demand = toolDemand(body, dialect);
  if (demand.kind === "none" && "calls" in turn) return canned();
  const enforcesRequired = recordOf(world, instance).format !== "mlx";
  if (demand.kind === "required" && enforcesRequired && !("calls" in turn)) {
    turn = { calls: [callOf(tools[0]!, undefined)] };
  }
  if (demand.kind === "named") {
    const tool = tools.find((t) => t.name === demand.name);
    if (!tool) {
      return {
        problem: `tool_choice names the tool "${demand.name}", which is not in "tools".`,
        param: "tool_choice",
      };
    }
    const kept = "calls" in turn ? turn.calls.filter((call) => call.name === tool.name) : [];
    turn = { calls: kept.length > 0 ? kept : [callOf(tool, undefined)] };
  }
  if ("calls" in turn && body.parallel_tool_calls === false) turn = { calls: turn.calls.slice(0, 1) };
  return turn;
}

/** Splits a text into pieces of at most `size` characters (one empty piece for ""). */
export function pieces(text: string, size = 16): string[] {
  if (text === "") return [""];
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

/** A fresh identifier with a prefix, e.g. `call_…`. */
export function newId(prefix: string, chars = 24): string {
  return `${prefix}${randomId(chars)}`;
}

/** A generating request that can run: its instance, the prompt estimate and the model's turn. */
export interface StartedTurn {
  instance: InstanceRecord;
  promptTokens: number;
  turn: Exclude<Turn, { problem: string }>;
}

/** How an endpoint words the failures {@linkcode startTurn} can meet, in its own error shape. */
export interface TurnFailures {
  /**
   * A prompt longer than the loaded context: LM Studio's llama.cpp `message`, with the prompt
   * estimate and the loaded context it did not fit.
   */
  overflow(message: string, promptTokens: number, contextLength: number): SimResponse;
  /** A reply script that cannot be followed for this request. */
  problem(message: string, param: string): SimResponse;
  /** The answer when no instance can serve the request (default: as `resolveInference` gives it). */
  unresolved?(response: SimResponse): SimResponse;
}

/**
 * The steps every generating endpoint takes once its body is checked, in one order: find (or JIT-load)
 * the instance, estimate the prompt, refuse it when it does not fit the loaded context, take the
 * model's turn. Returns the answer to send instead when a step fails.
 */
export async function startTurn(
  world: World,
  body: Body,
  dialect: ToolDialect | "completions",
  fail: TurnFailures,
): Promise<StartedTurn | SimResponse> {
  const resolved = await resolveInference(world, body, "llm");
  if ("response" in resolved) return fail.unresolved ? fail.unresolved(resolved.response) : resolved.response;
  const tokens = promptTokens(body);
  const overflow = overflowOf(resolved.instance, tokens);
  if (overflow) return fail.overflow(overflow, tokens, resolved.instance.contextLength);
  const turn = nextTurn(world, body, dialect, resolved.instance);
  if ("problem" in turn) return fail.problem(turn.problem, turn.param);
  return { instance: resolved.instance, promptTokens: tokens, turn };
}
