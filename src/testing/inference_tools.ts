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
}

/** Which API's spelling of `tools` / `tool_choice` a request uses. */
export type ToolDialect = "chat" | "responses" | "messages";

/** What `tool_choice` asks for: no call, the model's choice, any call, or this tool. */
export type ToolDemand = { kind: "none" | "auto" | "required" } | { kind: "named"; name: string };

/**
 * The function tools a request offers, malformed entries skipped. Responses: `function` tools only
 * (`responses()` has already refused every type but `function` and `mcp`; `mcp` tools are not
 * modelled). Messages: Anthropic's client tools (no `type`, or `type: "custom"`, Anthropic's name
 * for a client tool with an `input_schema`), not its server tools (`web_search_…`).
 */
export function offeredTools(body: Record<string, unknown>, dialect: ToolDialect): OfferedTool[] {
  if (!Array.isArray(body.tools)) return [];
  const tools: OfferedTool[] = [];
  for (const entry of body.tools) {
    if (!isObject(entry)) continue;
    let name: unknown;
    let schema: unknown;
    if (dialect === "chat") {
      if (entry.type !== undefined && entry.type !== "function") continue;
      const fn = isObject(entry.function) ? entry.function : {};
      name = fn.name;
      schema = fn.parameters;
    } else if (dialect === "responses") {
      if (entry.type !== "function") continue;
      name = entry.name;
      schema = entry.parameters;
    } else {
      if (entry.type !== undefined && entry.type !== "custom") continue;
      name = entry.name;
      schema = entry.input_schema;
    }
    if (typeof name !== "string" || name === "") continue;
    tools.push({ name, schema: isObject(schema) ? schema : {} });
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
  // chat: {type:"function", function:{name}}; responses: {type:"function", name}.
  const fn = isObject(choice.function) ? choice.function : choice;
  if (choice.type === "function" && typeof fn.name === "string") {
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

/** Values of the string formats clients validate (zod's `.email()`, `.uuid()`, `.datetime()`, …). */
const FORMAT_EXAMPLES: Readonly<Record<string, string>> = {
  "email": "user@example.com",
  "uuid": "00000000-0000-4000-8000-000000000000",
  "date-time": "2026-01-01T00:00:00Z",
  "date": "2026-01-01",
  "time": "00:00:00Z",
  "uri": "https://example.com/",
  "url": "https://example.com/",
  "hostname": "example.com",
  "ipv4": "192.0.2.1",
  "ipv6": "2001:db8::1",
};

function placeholderString(schema: Record<string, unknown>): string {
  const formatted = typeof schema.format === "string" ? FORMAT_EXAMPLES[schema.format] : undefined;
  if (formatted !== undefined) return formatted;
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
  if (typeof schema.exclusiveMaximum === "number" && value >= schema.exclusiveMaximum) {
    value = schema.exclusiveMaximum - (integer ? 1 : 0.5);
  }
  return integer ? Math.ceil(value) : value;
}

/**
 * A value that satisfies a JSON schema as far as a stand-in model needs to: `const`, else the
 * first `enum` value, else `default`, else the first of `examples`, else by type (`"example"`,
 * `0` or the minimum, `false`, `null`, arrays of `minItems` items, objects with their required
 * properties; the common string `format`s; distinct items where `uniqueItems`). `anyOf`/`oneOf` take
 * their first branch, `allOf` merges, a local `$ref` (`#/$defs/…`, `#/definitions/…`) is followed.
 * `pattern` is not honoured: a scripted `{ text }` feeds a client a chosen value.
 */
export function placeholderFor(schema: unknown, depth = 0, root: unknown = schema): unknown {
  if (!isObject(schema) || depth > 16) return {};
  if (typeof schema.$ref === "string") return placeholderFor(resolveRef(root, schema.$ref), depth + 1, root);
  if ("const" in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  if ("default" in schema) return schema.default;
  if (Array.isArray(schema.examples) && schema.examples.length > 0) return schema.examples[0];
  for (const key of ["anyOf", "oneOf"] as const) {
    const branches = schema[key];
    if (Array.isArray(branches) && branches.length > 0) {
      const branch = branches.find((b) => isObject(b) && b.type !== "null") ?? branches[0];
      return placeholderFor(branch, depth + 1, root);
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
    return placeholderFor({ ...merged, properties, required, allOf: undefined }, depth + 1, root);
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
      const count = typeof schema.minItems === "number" ? Math.max(0, Math.min(schema.minItems, 1000)) : 0;
      const items = Array.from({ length: count }, () => placeholderFor(schema.items, depth + 1, root));
      return schema.uniqueItems === true ? items.map(distinct) : items;
    }
    case "object": {
      const properties = isObject(schema.properties) ? schema.properties : {};
      const result: Record<string, unknown> = {};
      const required = Array.isArray(schema.required) ? schema.required : [];
      for (const name of required) {
        if (typeof name === "string") result[name] = placeholderFor(properties[name], depth + 1, root);
      }
      return result;
    }
    default:
      return {};
  }
}

/** The schema a local `$ref` (`#/…`, JSON Pointer) names in `root`; `{}` where it names nothing. */
function resolveRef(root: unknown, ref: string): unknown {
  if (!ref.startsWith("#")) return {};
  let node: unknown = root;
  for (const raw of ref.slice(1).split("/").slice(1)) {
    const key = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    node = isObject(node) ? node[key] : undefined;
  }
  return node ?? {};
}

/** The `index`th of a run of items told apart (strings and numbers; others as they are). */
function distinct(value: unknown, index: number): unknown {
  if (typeof value === "string") return index === 0 ? value : `${value}${index + 1}`;
  if (typeof value === "number") return value + index;
  return value;
}

/** Placeholder arguments for a tool: an object that satisfies its schema. */
export function placeholderArguments(tool: OfferedTool): Record<string, unknown> {
  const value = placeholderFor(tool.schema);
  return isObject(value) ? value : {};
}
