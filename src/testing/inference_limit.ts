/**
 * The output token limit of the simulated inference endpoints: `max_tokens` (chat and legacy
 * completions, Anthropic messages) or `max_output_tokens` (Responses, REST v1 chat) cuts the
 * model's text at that many tokens of the simulator's estimate (`ceil(characters / 4)`, as for
 * prompts), and the endpoint then says so in its own words (`finish_reason: "length"`,
 * `status: "incomplete"`, `stop_reason: "max_tokens"`). Internal to the testing kit.
 *
 * @module
 */
import { textTokens } from "./inference_common.ts";

/** A text as the model got to say it under the request's limit. */
export interface LimitedText {
  /** The text, cut at the limit. */
  text: string;
  /** Its token estimate (at most the limit). */
  tokens: number;
  /** Whether the limit cut it. */
  cut: boolean;
}

/**
 * The limit a request field sets: a positive integer, else none. LM Studio's own v0 example
 * sends `max_tokens: -1` for "no limit", so anything below 1 is no limit.
 */
export function outputLimit(value: unknown): number | undefined {
  return typeof value === "number" && Number.isInteger(value) && value >= 1 ? value : undefined;
}

/**
 * Cuts a text to `limit` tokens of the estimate (`limit * 4` characters). Tool call arguments are
 * never cut: what LM Studio sends for a call cut mid-arguments is not documented.
 */
export function limitText(text: string, limit: number | undefined): LimitedText {
  const tokens = textTokens(text);
  if (limit === undefined || tokens <= limit) return { text, tokens, cut: false };
  return { text: text.slice(0, limit * 4), tokens: limit, cut: true };
}
