/**
 * Tools in the simulated inference endpoints: the tools a request offers (chat completions,
 * Responses and Anthropic Messages spell them differently), whether its `tool_choice` obliges a
 * call, and placeholder arguments that satisfy a tool's JSON schema. Internal to the testing kit.
 *
 * @module
 */
import { isObject } from "../json.ts";

/** A tool as the request offered it, whatever the API's spelling. */
export interface OfferedTool {
  name: string;
  /** The JSON schema of its arguments (`parameters` / `input_schema`), `{}` when absent. */
  schema: Record<string, unknown>;
  /** Responses API `custom` tools take one free-form string instead of JSON arguments. */
  custom: boolean;
}

/** Which API's spelling of `tools` / `tool_choice` a request uses. */
export type ToolDialect = "chat" | "responses" | "messages";

/** What `tool_choice` asks for: no call, the model's choice, any call, or this tool. */
export type ToolDemand = { kind: "none" | "auto" | "required" } | { kind: "named"; name: string };

/** The tools a request offers; function (and custom) tools only, malformed entries skipped. */
export function offeredTools(body: Record<string, unknown>, dialect: ToolDialect): OfferedTool[] {
  if (!Array.isArray(body.tools)) return [];
  const tools: OfferedTool[] = [];
  for (const entry of body.tools) {
    if (!isObject(entry)) continue;
    let name: unknown;
    let schema: unknown;
    let custom = false;
    if (dialect === "chat") {
      if (entry.type !== undefined && entry.type !== "function") continue;
      const fn = isObject(entry.function) ? entry.function : {};
      name = fn.name;
      schema = fn.parameters;
    } else if (dialect === "responses") {
      if (entry.type !== "function" && entry.type !== "custom") continue;
      custom = entry.type === "custom";
      name = entry.name;
      schema = entry.parameters;
    } else {
      if (entry.type !== undefined && entry.type !== "custom") continue; // server tools (web_search_...)
      name = entry.name;
      schema = entry.input_schema;
    }
    if (typeof name !== "string" || name === "") continue;
    tools.push({ name, schema: isObject(schema) ? schema : {}, custom });
  }
  return tools;
}

/** Reads `tool_choice` in the dialect's spelling; anything unreadable counts as `auto`. */
export function toolDemand(body: Record<string, unknown>, dialect: ToolDialect): ToolDemand {
  const choice = body.tool_choice;
  if (dialect === "messages") {
    if (!isObject(choice)) return { kind: "auto" };
    if (choice.type === "any") return { kind: "required" };
    if (choice.type === "none") return { kind: "none" };
    if (choice.type === "tool" && typeof choice.name === "string") {
      return { kind: "named", name: choice.name };
    }
    return { kind: "auto" };
  }
  if (choice === "none" || choice === "required") return { kind: choice };
  if (!isObject(choice)) return { kind: "auto" };
  // chat: {type:"function", function:{name}}; responses: {type:"function", name} (or "custom").
  const fn = isObject(choice.function) ? choice.function : choice;
  if ((choice.type === "function" || choice.type === "custom") && typeof fn.name === "string") {
    return { kind: "named", name: fn.name };
  }
  if (choice.type === "allowed_tools" && choice.mode === "required") return { kind: "required" };
  return { kind: "auto" };
}

const PLACEHOLDER_TEXT = "example";

function firstType(schema: Record<string, unknown>): string | undefined {
  const type = schema.type;
  if (typeof type === "string") return type;
  if (Array.isArray(type)) {
    const named = type.filter((t): t is string => typeof t === "string");
    return named.find((t) => t !== "null") ?? named[0];
  }
  if (isObject(schema.properties)) return "object";
  if (schema.items !== undefined) return "array";
  return undefined;
}

function placeholderString(schema: Record<string, unknown>): string {
  let text = PLACEHOLDER_TEXT;
  const min = typeof schema.minLength === "number" ? schema.minLength : 0;
  const max = typeof schema.maxLength === "number" ? schema.maxLength : Infinity;
  if (text.length < min) text = text + "x".repeat(min - text.length);
  if (text.length > max) text = text.slice(0, Math.max(0, max));
  return text;
}

function placeholderNumber(schema: Record<string, unknown>, integer: boolean): number {
  let value = 0;
  if (typeof schema.minimum === "number") value = Math.max(value, schema.minimum);
  if (typeof schema.exclusiveMinimum === "number") {
    value = Math.max(value, schema.exclusiveMinimum + (integer ? 1 : 0.5));
  }
  if (typeof schema.maximum === "number") value = Math.min(value, schema.maximum);
  return integer ? Math.ceil(value) : value;
}

/**
 * A value that satisfies a JSON schema as far as a stand-in model needs to: `const`, else the
 * first `enum` value, else `default`, else the first of `examples`, else by type (`"example"`,
 * `0` or the minimum, `false`, `null`, arrays of `minItems` items, objects with their required
 * properties). `anyOf`/`oneOf` take their first branch, `allOf` merges; `$ref` is not followed.
 */
export function placeholderFor(schema: unknown, depth = 0): unknown {
  if (!isObject(schema) || depth > 16) return {};
  if ("const" in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  if ("default" in schema) return schema.default;
  if (Array.isArray(schema.examples) && schema.examples.length > 0) return schema.examples[0];
  for (const key of ["anyOf", "oneOf"] as const) {
    const branches = schema[key];
    if (Array.isArray(branches) && branches.length > 0) {
      const branch = branches.find((b) => isObject(b) && b.type !== "null") ?? branches[0];
      return placeholderFor(branch, depth + 1);
    }
  }
  if (Array.isArray(schema.allOf) && schema.allOf.length > 0) {
    const merged: Record<string, unknown> = {};
    const properties: Record<string, unknown> = {};
    const required: unknown[] = [];
    for (const part of schema.allOf) {
      if (!isObject(part)) continue;
      Object.assign(merged, part);
      if (isObject(part.properties)) Object.assign(properties, part.properties);
      if (Array.isArray(part.required)) required.push(...part.required);
    }
    return placeholderFor({ ...merged, properties, required, allOf: undefined }, depth + 1);
  }
  switch (firstType(schema)) {
    case "string":
      return placeholderString(schema);
    case "integer":
      return placeholderNumber(schema, true);
    case "number":
      return placeholderNumber(schema, false);
    case "boolean":
      return false;
    case "null":
      return null;
    case "array": {
      const count = typeof schema.minItems === "number" ? Math.max(0, Math.min(schema.minItems, 16)) : 0;
      return Array.from({ length: count }, () => placeholderFor(schema.items, depth + 1));
    }
    case "object": {
      const properties = isObject(schema.properties) ? schema.properties : {};
      const result: Record<string, unknown> = {};
      const required = Array.isArray(schema.required) ? schema.required : [];
      for (const name of required) {
        if (typeof name === "string") result[name] = placeholderFor(properties[name], depth + 1);
      }
      return result;
    }
    default:
      return {};
  }
}

/** Placeholder arguments for a tool: an object for function tools, a string for custom tools. */
export function placeholderArguments(tool: OfferedTool): Record<string, unknown> | string {
  if (tool.custom) return PLACEHOLDER_TEXT;
  const value = placeholderFor(tool.schema);
  return isObject(value) ? value : {};
}
