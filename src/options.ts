/**
 * Options as plain-JavaScript callers pass them: one rule for the whole library. `null` counts as
 * not given, like `undefined` (configurations read from JSON carry nulls); a value of the wrong
 * type is a `USAGE` error that names the option and what it takes, never a `TypeError` from deep
 * inside, and never echoes the value (it may be the token).
 *
 * @module
 */
import { given } from "./config_names.ts";
import { LMStudioError } from "./errors.ts";

/**
 * The `USAGE` error for an option of the wrong type, naming it and what it takes.
 *
 * @example
 * ```ts
 * import { invalidOption } from "./options.ts";
 * invalidOption("signal", {}, "an AbortSignal").message; // "Invalid signal: an object (expected an AbortSignal)"
 * ```
 */
export function invalidOption(name: string, value: unknown, expected: string): LMStudioError {
  const type = typeof value;
  const shown = value === null
    ? "null"
    : Array.isArray(value)
    ? "an array"
    : `${/^[aeiou]/.test(type) ? "an" : "a"} ${type}`;
  return new LMStudioError("USAGE", `Invalid ${name}: ${shown} (expected ${expected})`, {
    hint: `Pass ${name} as ${expected}, or leave it out.`,
  });
}

/**
 * An options object as given: `undefined` and `null` are none, and so is every field that is
 * `null`; anything else that is not an object is `USAGE`.
 *
 * @example
 * ```ts
 * import { optionsObject } from "./options.ts";
 * optionsObject<{ model?: string }>({ model: null } as never, "options"); // {}
 * ```
 */
export function optionsObject<T extends object>(value: T | null | undefined, name: string): T {
  if (value === undefined || value === null) return {} as T;
  if (typeof value !== "object" || Array.isArray(value)) throw invalidOption(name, value, "an object");
  if (!Object.values(value).includes(null)) return value;
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null)) as T;
}

/**
 * `USAGE` unless `options[name]` is not given or of `type`.
 *
 * @example
 * ```ts
 * import { checkOptionType } from "./options.ts";
 * checkOptionType({ model: "qwen/qwen3-8b" }, "model", "string"); // fine
 * ```
 */
export function checkOptionType(
  options: object,
  name: string,
  type: "string" | "boolean" | "function",
): void {
  const value: unknown = (options as Record<string, unknown>)[name];
  if (value !== undefined && value !== null && typeof value !== type) {
    throw invalidOption(name, value, type === "boolean" ? "true or false" : `a ${type}`);
  }
}

/**
 * `USAGE` unless `options[name]` is not given or one of `choices`.
 *
 * @example
 * ```ts
 * import { checkOptionChoice } from "./options.ts";
 * checkOptionChoice({ route: "rest" }, "route", ["auto", "rest", "lms"]); // fine
 * ```
 */
export function checkOptionChoice(options: object, name: string, choices: readonly string[]): void {
  const value: unknown = (options as Record<string, unknown>)[name];
  if (value !== undefined && !choices.includes(value as string)) {
    throw invalidOption(name, value, `one of ${choices.join(", ")}`);
  }
}

/**
 * The values of a config that count as given (not `undefined`, `null`, or a blank string), for
 * merging it over options of the same names: a blank value leaves the option in force rather than
 * erasing it.
 *
 * @example
 * ```ts
 * import { givenOnly } from "./options.ts";
 * const options = { baseUrl: "http://gpu-box:1234", apiToken: "from-options" };
 * ({ ...options, ...givenOnly({ baseUrl: "  ", apiToken: "from-config" }) }); // gpu-box, from-config
 * ```
 */
export function givenOnly<T extends object>(value: T | null | undefined): Partial<T> {
  return Object.fromEntries(
    Object.entries(value ?? {}).filter(([, v]) =>
      v !== undefined && v !== null && (typeof v !== "string" || given(v) !== undefined)
    ),
  ) as Partial<T>;
}
