/**
 * The part of `node:util`'s `parseArgs` the CLI uses (`allowPositionals: true`, `strict` true or
 * false, string and boolean options, `short`, `multiple`), without `node:util`: on Deno, importing any
 * `node:` module loads Deno's Node compatibility layer (~10-20 ms of a ~35 ms `check`). Same
 * results and the same error messages as Node 20's `parseArgs` (checked against it on random
 * argument lists), on every runtime.
 *
 * @module
 */

/** One option: its type, its one-letter alias, and whether it may be repeated. */
export interface ArgOption {
  type: "string" | "boolean";
  short?: string;
  multiple?: boolean;
}

/** The value an option gets: a string or `true`, an array of them for `multiple`. */
export type ArgValue<O extends ArgOption> = O extends { multiple: true }
  ? (O["type"] extends "string" ? string[] : boolean[])
  : O["type"] extends "string" ? string
  : boolean;

/** Values by option name (unset options are absent), and the positionals in order. */
export interface ParsedArgs<T extends Readonly<Record<string, ArgOption>>> {
  values: { [K in keyof T]?: ArgValue<T[K]> };
  positionals: string[];
}

/**
 * What a lenient parse (`strict: false`) gives: any option may be there, and any value may be a
 * string or `true` (a string option without its value, a boolean given one, an unknown option).
 */
export interface LenientArgs {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
}

interface Token {
  name: string;
  rawName: string;
  value: string | undefined;
  inlineValue: boolean;
}

/**
 * Parses `args` as `parseArgs({ args, options, strict: true, allowPositionals: true })` does; throws
 * a `TypeError` with Node's message (and `code`) for an unknown option, a missing or ambiguous
 * value, or a value given to a boolean. With `{ strict: false }`, as Node's `strict: false`: nothing
 * is refused, an unknown option is `true` (or its inline value), a string option without its value
 * is `true`, a boolean given one is that string.
 *
 * @example
 * ```ts
 * import { parseArgs } from "./parse_args.ts";
 * const { values, positionals } = parseArgs(["check", "--json"], { json: { type: "boolean" } });
 * // values.json === true, positionals: ["check"]
 * parseArgs(["ensure", "--frob", "m"], {}, { strict: false }); // { values: { frob: true }, positionals: ["ensure", "m"] }
 * ```
 */
export function parseArgs<T extends Readonly<Record<string, ArgOption>>>(
  args: readonly string[],
  options: T,
): ParsedArgs<T>;
export function parseArgs(
  args: readonly string[],
  options: Readonly<Record<string, ArgOption>>,
  mode: { strict: false },
): LenientArgs;
export function parseArgs(
  args: readonly string[],
  options: Readonly<Record<string, ArgOption>>,
  { strict = true }: { strict?: boolean } = {},
): LenientArgs {
  const own = (name: string): ArgOption | undefined =>
    Object.prototype.hasOwnProperty.call(options, name) ? options[name] : undefined;
  const longFor = (short: string): string =>
    Object.keys(options).find((name) => options[name]!.short === short) ?? short;
  const tokens: (Token | string)[] = [];
  const rest = [...args];
  while (rest.length > 0) {
    const arg = rest.shift()!;
    if (arg === "--") {
      tokens.push(...rest);
      break;
    }
    const isShort = arg.length >= 2 && arg[0] === "-" && arg[1] !== "-";
    if (isShort && arg.length === 2) {
      // `-m value`: a string option takes the next argument, whatever it is (checked below).
      const name = longFor(arg[1]!);
      const value = own(name)?.type === "string" && rest.length > 0 ? rest.shift() : undefined;
      tokens.push({ name, rawName: arg, value, inlineValue: false });
      continue;
    }
    if (isShort) {
      const first = longFor(arg[1]!);
      if (own(first)?.type === "string") {
        // `-mvalue`
        tokens.push({ name: first, rawName: arg.slice(0, 2), value: arg.slice(2), inlineValue: true });
        continue;
      }
      // `-qV` is `-q -V`; a string option inside a group takes the rest: `-qmvalue` is `-q -mvalue`.
      const expanded: string[] = [];
      for (let i = 1; i < arg.length; i++) {
        const short = arg[i]!;
        if (own(longFor(short))?.type !== "string" || i === arg.length - 1) expanded.push(`-${short}`);
        else {
          expanded.push(`-${arg.slice(i)}`);
          break;
        }
      }
      rest.unshift(...expanded);
      continue;
    }
    if (arg.length > 2 && arg.startsWith("--")) {
      const equals = arg.indexOf("=", 3);
      if (equals === -1) {
        const name = arg.slice(2);
        const value = own(name)?.type === "string" && rest.length > 0 ? rest.shift() : undefined;
        tokens.push({ name, rawName: arg, value, inlineValue: false });
      } else {
        const name = arg.slice(2, equals);
        tokens.push({ name, rawName: `--${name}`, value: arg.slice(equals + 1), inlineValue: true });
      }
      continue;
    }
    tokens.push(arg);
  }

  const values: Record<string, string | boolean | (string | boolean)[]> = Object.create(null);
  const positionals: string[] = [];
  for (const token of tokens) {
    if (typeof token === "string") {
      positionals.push(token);
      continue;
    }
    const option: ArgOption | undefined = own(token.name);
    if (!strict) {
      if (token.name === "__proto__") continue;
      const value = token.value ?? true;
      if (option?.multiple) ((values[token.name] ??= []) as (string | boolean)[]).push(value);
      else values[token.name] = value;
      continue;
    }
    if (!option) {
      throw parseError(
        "ERR_PARSE_ARGS_UNKNOWN_OPTION",
        `Unknown option '${token.rawName}'. To specify a positional argument starting with a '-', place it ` +
          `at the end of the command after '--', as in '-- ${JSON.stringify(token.rawName)}`,
      );
    }
    const shortAndLong = `${option.short ? `-${option.short}, ` : ""}--${token.name}`;
    if (option.type === "string" && token.value === undefined) {
      throw parseError(
        "ERR_PARSE_ARGS_INVALID_OPTION_VALUE",
        `Option '${shortAndLong} <value>' argument missing`,
      );
    }
    if (option.type === "boolean" && token.value !== undefined) {
      throw parseError(
        "ERR_PARSE_ARGS_INVALID_OPTION_VALUE",
        `Option '${shortAndLong}' does not take an argument`,
      );
    }
    if (!token.inlineValue && token.value !== undefined && token.value.length > 1 && token.value[0] === "-") {
      const example = token.rawName.startsWith("--")
        ? `'${token.rawName}=-XYZ'`
        : `'--${token.name}=-XYZ' or '${token.rawName}-XYZ'`;
      throw parseError(
        "ERR_PARSE_ARGS_INVALID_OPTION_VALUE",
        `Option '${token.rawName}' argument is ambiguous.\nDid you forget to specify the option argument for ` +
          `'${token.rawName}'?\nTo specify an option argument starting with a dash use ${example}.`,
      );
    }
    if (token.name === "__proto__") continue;
    const value = token.value ?? true;
    if (option.multiple) ((values[token.name] ??= []) as (string | boolean)[]).push(value);
    else values[token.name] = value;
  }
  return { values, positionals };
}

function parseError(code: string, message: string): TypeError {
  return Object.assign(new TypeError(message), { code });
}
