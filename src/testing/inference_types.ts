/**
 * The reply script of the simulated model: what it answers, turn by turn, so an agent's tool loop
 * can be tested end to end. Re-exported by `@vtcode/lmstudio/testing`.
 *
 * @module
 */

/**
 * One tool call in a scripted reply.
 *
 * @example
 * ```ts
 * import type { SimToolCall } from "@vtcode/lmstudio/testing";
 * const call: SimToolCall = { name: "read_file", arguments: { path: "README.md" } };
 * const placeholders: SimToolCall = { name: "list_files" }; // arguments made up from the tool's schema
 * ```
 */
export interface SimToolCall {
  /** Name of a tool the request offers (a scripted call of a tool it does not offer is answered with a 400). */
  name: string;
  /**
   * The call's arguments: an object (sent as its JSON), a string (sent as is, even if it is not valid
   * JSON, to test how an agent copes), or absent: placeholders that satisfy the tool's JSON schema
   * (its required properties; `"example"`, `0`, `false`, the first `enum` value, ...).
   */
  arguments?: Record<string, unknown> | string;
}

/**
 * One scripted answer of the simulated model: a text, or one or more tool calls. Each inference
 * request (`/v1/chat/completions`, `/v1/responses`, `/v1/completions`, `/v1/messages`; not
 * embeddings) that reaches the model takes the next reply of the script; a request that fails
 * first (malformed, unknown model, prompt beyond the context) takes none, nor does a warm-up
 * asking for at most one token (Codex's `max_output_tokens: 1` before a session). Once the script is
 * used up the model answers `state.reply` (JSON that satisfies the schema when the request asks for
 * structured output), or a call of the required tool when `tool_choice` obliges one.
 *
 * The request's constraints win over the script, as they would over a real model, and the reply
 * is used up all the same: `tool_choice: "none"` turns scripted calls into the canned answer;
 * `"required"` (GGUF models only: LM Studio honours it on llama.cpp only, so an MLX model answers as
 * under `"auto"`) or a named tool turns a scripted text into a call (placeholder arguments), and a
 * named tool keeps only the scripted calls of that tool; `parallel_tool_calls: false` keeps the
 * first call; `max_tokens` / `max_output_tokens` cut a scripted text. A scripted text is sent as
 * is under a JSON schema (so a test can feed a client a chosen object, or bad JSON).
 *
 * @example
 * ```ts
 * import { type SimReply, startSimulator } from "@vtcode/lmstudio/testing";
 * const replies: SimReply[] = [
 *   { toolCalls: [{ name: "get_weather", arguments: { city: "Paris" } }] },
 *   { text: "It is sunny in Paris." },
 * ];
 * const sim = await startSimulator({ models: [{ key: "qwen/qwen3-4b-2507" }], replies });
 * sim.queueReplies({ text: "Anything else?" }); // appended after the two above
 * await sim.close();
 * ```
 */
export type SimReply = { text: string } | { toolCalls: SimToolCall[] };
