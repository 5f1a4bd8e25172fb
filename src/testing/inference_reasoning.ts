/**
 * Reasoning output of the simulated models: a model declared with `reasoning` (REST v1
 * `capabilities.reasoning`) thinks before it answers, unless the request turns reasoning off.
 * Where LM Studio documents the reasoning's place, the simulator puts it there: chat completions
 * `message.reasoning` / `delta.reasoning` (changelog 0.3.23), REST v1 chat a `reasoning` output
 * item, `reasoning.*` stream events and `stats.reasoning_output_tokens` (docs `2_rest/chat.md`,
 * `streaming-events.md`). The Responses API's reasoning items are not documented by LM Studio,
 * so `/v1/responses` carries none. Internal to the testing kit.
 *
 * @module
 */
import { isObject } from "../json.ts";
import type { InstanceRecord } from "./models.ts";
import type { SimReasoningOption } from "./types.ts";
import type { World } from "./world.ts";

/** What the simulated model "thinks" (a fixed text: tests assert where it goes, not what it says). */
const REASONING_TEXT = "The user asked something; I will answer it plainly.";

/** The reasoning setting a request asks for, in the dialect's spelling, if any. */
function requestedSetting(body: Record<string, unknown>): unknown {
  if (body.reasoning_effort !== undefined) return body.reasoning_effort; // chat completions
  if (isObject(body.reasoning)) return body.reasoning.effort; // Responses
  return body.reasoning; // REST v1 chat: "off" | "on" | "low" | "medium" | "high"
}

/**
 * The setting in effect for a request on this instance's model, or undefined when the model
 * declares no reasoning. A request that names none gets the model's default.
 */
function reasoningSetting(
  world: World,
  instance: InstanceRecord,
  body: Record<string, unknown>,
): SimReasoningOption | undefined {
  const declared = world.models.get(instance.key)?.reasoning;
  if (!declared) return undefined;
  const requested = requestedSetting(body);
  if (requested === "none" || requested === "off") return "off";
  return typeof requested === "string" && declared.allowedOptions.includes(requested as SimReasoningOption)
    ? requested as SimReasoningOption
    : declared.default;
}

/**
 * The reasoning text of a turn, or undefined when the model has no reasoning, it is off, or the
 * profile is older than 0.3.23 (0.2: reasoning stays out of the API).
 */
export function reasoningOf(
  world: World,
  instance: InstanceRecord,
  body: Record<string, unknown>,
): string | undefined {
  if (world.version === "0.2") return undefined;
  const setting = reasoningSetting(world, instance, body);
  return setting === undefined || setting === "off" ? undefined : REASONING_TEXT;
}
