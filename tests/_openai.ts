/**
 * Helpers shared by the suites that drive the simulator with the `openai` npm SDK. Kept apart from
 * `_helpers.ts` so that the suites that do not use the SDK never load it.
 */
import OpenAI from "openai";
import type { Simulator, SimulatorState } from "../src/testing/simulator.ts";
import { QWEN } from "./_fixtures.ts";

/** An SDK client for the server's `/v1` (the simulator ignores the key); no retries, a failure is the answer. */
export function openaiClient(server: { url: string }): OpenAI {
  return new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "lm-studio", maxRetries: 0 });
}

/**
 * A simulator with QWEN loaded (`state` may add to or override that), started by the file's
 * `useSimulators()`, and an SDK client for it.
 */
export async function qwenLoaded(
  sim: (state?: SimulatorState) => Promise<Simulator>,
  state: SimulatorState = {},
): Promise<{ s: Simulator; client: OpenAI }> {
  const s = await sim({ models: [QWEN], loaded: [QWEN.key], ...state });
  return { s, client: openaiClient(s) };
}

/** What the chunks of a streamed chat completion add up to. */
export interface StreamedChat {
  /** Every `delta.content` of the first choice, joined. */
  text: string;
  /** The last `finish_reason` a chunk carried; `null` when none did. */
  finish: string | null;
  /** The last `usage` a chunk carried (with `stream_options.include_usage`). */
  usage: OpenAI.CompletionUsage | null | undefined;
}

/** Reads a streamed chat completion to its end; rejects with what iterating it throws. */
export async function collectChat(
  stream: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>,
): Promise<StreamedChat> {
  let text = "";
  let finish: string | null = null;
  let usage: OpenAI.CompletionUsage | null | undefined;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta.content ?? "";
    finish = chunk.choices[0]?.finish_reason ?? finish;
    usage = chunk.usage ?? usage;
  }
  return { text, finish, usage };
}
