/**
 * The reply script of a simulated world: validated when it is given (at `startSimulator` or
 * through `Simulator.queueReplies`), consumed one reply per inference request. Kept beside the
 * {@linkcode World} (a WeakMap) so the world model stays free of inference concerns. Internal to
 * the testing kit.
 *
 * @module
 */
import { isObject } from "../json.ts";
import { showValue } from "../text.ts";
import type { SimReply, SimToolCall } from "./inference_types.ts";
import type { World } from "./world.ts";

const scripts = new WeakMap<World, SimReply[]>();

function checkCall(call: unknown, where: string): SimToolCall {
  if (!isObject(call)) throw new TypeError(`${where} must be an object like { name, arguments? }`);
  if (typeof call.name !== "string" || call.name.trim() === "") {
    throw new TypeError(`${where} needs a non-empty "name" (the tool to call): ${showValue(call)}`);
  }
  const args = call.arguments;
  if (args !== undefined && typeof args !== "string" && !isObject(args)) {
    throw new TypeError(
      `${where} ("${call.name}"): "arguments" must be an object, a string or absent, not ${showValue(args)}`,
    );
  }
  for (const key of Object.keys(call)) {
    if (key !== "name" && key !== "arguments") {
      throw new TypeError(`${where} ("${call.name}"): unknown field "${key}" (use name and arguments)`);
    }
  }
  const checked: SimToolCall = { name: call.name };
  if (typeof args === "string") checked.arguments = args;
  else if (args !== undefined) checked.arguments = structuredClone(args);
  return checked;
}

/** Checks a list of replies; throws a TypeError naming the first bad entry. */
export function checkReplies(replies: unknown, where = "replies"): SimReply[] {
  if (!Array.isArray(replies)) throw new TypeError(`${where} must be an array of { text } or { toolCalls }`);
  return replies.map((reply, index): SimReply => {
    const at = `${where}[${index}]`;
    if (!isObject(reply)) {
      throw new TypeError(`${at} must be { text } or { toolCalls }, not ${showValue(reply)}`);
    }
    const hasText = "text" in reply;
    const hasCalls = "toolCalls" in reply;
    if (hasText === hasCalls) {
      throw new TypeError(`${at} needs exactly one of "text" and "toolCalls": ${showValue(reply)}`);
    }
    const extra = Object.keys(reply).filter((key) => key !== "text" && key !== "toolCalls");
    if (extra.length > 0) throw new TypeError(`${at}: unknown field "${extra[0]}" (use text or toolCalls)`);
    if (hasText) {
      if (typeof reply.text !== "string") throw new TypeError(`${at}.text must be a string`);
      return { text: reply.text };
    }
    const calls = reply.toolCalls;
    if (!Array.isArray(calls) || calls.length === 0) {
      throw new TypeError(`${at}.toolCalls must be a non-empty array of { name, arguments? }`);
    }
    return { toolCalls: calls.map((call, i) => checkCall(call, `${at}.toolCalls[${i}]`)) };
  });
}

/** Appends checked replies to the world's script. */
export function queueReplies(world: World, replies: unknown, where?: string): void {
  const checked = checkReplies(replies, where);
  const script = scripts.get(world);
  if (script) script.push(...checked);
  else scripts.set(world, checked);
}

/** Takes the next scripted reply, if any. */
export function takeReply(world: World): SimReply | undefined {
  return scripts.get(world)?.shift();
}
