/**
 * Text that goes into messages: what a user or a server gave us, made safe to show. One place for
 * the characters that must never reach a terminal raw and for how long a quote may be.
 *
 * @module
 */

// C0 and C1 control characters (NUL, newline, ESC, DEL, ...), the Unicode line/paragraph separators
// and the bidirectional overrides, which can make printed text read differently from what it is
// ("Trojan Source") or move the cursor and forge lines.
// deno-lint-ignore no-control-regex
const UNPRINTABLE_SOURCE = "[\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069]";
const UNPRINTABLE = new RegExp(UNPRINTABLE_SOURCE);
const UNPRINTABLE_ALL = new RegExp(UNPRINTABLE_SOURCE, "g");

/** Whether `text` holds a character that must not be printed raw (see above). */
export function hasUnprintable(text: string): boolean {
  return UNPRINTABLE.test(text);
}

/** `text` with every unprintable character written as a `\uXXXX` escape. */
export function escapeUnprintable(text: string): string {
  return text.replace(UNPRINTABLE_ALL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** At most `max` characters of `text`, with `…` when cut. */
export function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/**
 * A value as a message quotes it: at most `max` characters, JSON-quoted, unprintable characters
 * escaped (JSON.stringify escapes C0 controls but not C1, the separators or bidi overrides).
 */
export function quote(text: string, max = 60): string {
  return escapeUnprintable(JSON.stringify(truncate(text, max)));
}

/**
 * Any value as a message about it shows it: a number, boolean, `null` or `undefined` as written,
 * anything else as its JSON (or its type, when JSON cannot write it), at most `max` characters.
 */
export function showValue(value: unknown, max = 80): string {
  if (value === undefined || value === null || typeof value === "number" || typeof value === "boolean") {
    return String(value);
  }
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    // A cycle or a BigInt.
  }
  return text === undefined ? typeof value : escapeUnprintable(truncate(text, max));
}
