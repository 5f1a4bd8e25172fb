/**
 * A small, strict TOML 1.0 reader: enough for real `vtcode.toml` files, with no dependency.
 *
 * It is a real parser (one pass over the characters, not a regex per line), so it is not fooled by
 * a `[lmstudio]` line inside a multi-line string or a `#` inside a quoted string, and it enforces the
 * table rules of TOML 1.0: a table is defined once, dotted keys only extend tables they created in
 * the current section, inline tables are sealed, `[[x]]` cannot extend a static array.
 *
 * Output is plain objects and arrays. Strings, booleans and floats map to their JavaScript types;
 * integers are numbers, or `bigint` outside the safe-integer range; dates and times are kept as the
 * strings written in the file (validated). {@linkcode parseTomlDocument} also tells the TOML type and
 * the line of every key, which a caller needs to report "line 7: `model` must be a string".
 *
 * Not supported, on purpose: TOML 1.1 additions (newlines and trailing commas in inline tables,
 * `\e` and `\xHH` escapes, times without seconds). Each is a syntax error with a line number.
 *
 * @module
 */
import { LMStudioError } from "./errors.ts";

/**
 * The TOML type of a value, as the file wrote it (dates and times are strings in the output).
 *
 * @example
 * ```ts
 * import { parseTomlDocument, type TomlType } from "./toml.ts";
 * const type: TomlType | undefined = parseTomlDocument("t = 07:32:00\n").typeOf(["t"]); // "local-time"
 * ```
 */
export type TomlType =
  | "string"
  | "integer"
  | "float"
  | "boolean"
  | "offset-datetime"
  | "local-datetime"
  | "local-date"
  | "local-time"
  | "array"
  | "table";

/**
 * A parsed document: the data, plus where each key was defined and what TOML type it had.
 *
 * @example
 * ```ts
 * import { parseTomlDocument } from "./toml.ts";
 * const doc = parseTomlDocument('[server]\nport = 1234\n', "app.toml");
 * doc.value; // { server: { port: 1234 } }
 * doc.lineOf(["server", "port"]); // 2
 * doc.typeOf(["server", "port"]); // "integer"
 * ```
 */
export interface TomlDocument {
  /** The root table as a plain object. */
  value: Record<string, unknown>;
  /**
   * The 1-based line where the key at `path` was defined (for a table: its header, or the first
   * dotted key that created it); array elements are addressed by index. `undefined` if absent.
   */
  lineOf(path: readonly (string | number)[]): number | undefined;
  /** The TOML type of the value at `path`, or `undefined` if absent. */
  typeOf(path: readonly (string | number)[]): TomlType | undefined;
}

/**
 * Parses a TOML 1.0 document into plain objects.
 *
 * Throws `LMStudioError("USAGE", "<file>:<line>: <what>")` on a syntax error, with a hint naming the
 * file. `fileName` is only used in messages (default `<toml>`).
 *
 * @example
 * ```ts
 * import { parseToml } from "./toml.ts";
 * const data = parseToml('[lmstudio]\nbase_url = "http://localhost:1234" # local\n', "vtcode.toml");
 * data; // { lmstudio: { base_url: "http://localhost:1234" } }
 * ```
 */
export function parseToml(text: string, fileName?: string): Record<string, unknown> {
  return parseTomlDocument(text, fileName).value;
}

/**
 * Parses a TOML 1.0 document and keeps, for every key, its line and TOML type. Same errors as
 * {@linkcode parseToml}.
 *
 * @example
 * ```ts
 * import { parseTomlDocument } from "./toml.ts";
 * const doc = parseTomlDocument("[a]\nwhen = 1979-05-27\n");
 * doc.value.a; // { when: "1979-05-27" }
 * doc.typeOf(["a", "when"]); // "local-date"
 * ```
 */
export function parseTomlDocument(text: string, fileName?: string): TomlDocument {
  return new Parser(text, fileName ?? "<toml>").parse();
}

type Table = Record<string, unknown>;

/**
 * How a table came to be, which decides what may still be done to it:
 * - `root`: the document;
 * - `implicit`: created as a parent by a header such as `[a.b]` (may be defined once later);
 * - `explicit`: defined by a `[header]` or as an element of `[[header]]`;
 * - `dotted`: created by a dotted key (`a.b = 1`); only dotted keys of the same section extend it;
 * - `inline`: an inline table `{ ... }`, sealed once closed.
 */
type TableKind = "root" | "implicit" | "explicit" | "dotted" | "inline";

interface KeyInfo {
  line: number;
  type: TomlType;
}

interface Parsed {
  value: unknown;
  type: TomlType;
}

const MAX_DEPTH = 100;
const BARE_KEY = /^[A-Za-z0-9_-]+$/;
const TOKEN_CHAR = /[0-9A-Za-z_+.:-]/;
const DEC_INT = /^[+-]?(?:0|[1-9](?:_?[0-9])*)$/;
const HEX_INT = /^0x[0-9A-Fa-f](?:_?[0-9A-Fa-f])*$/;
const OCT_INT = /^0o[0-7](?:_?[0-7])*$/;
const BIN_INT = /^0b[01](?:_?[01])*$/;
const FLOAT = /^[+-]?(?:0|[1-9](?:_?[0-9])*)(?:\.[0-9](?:_?[0-9])*)?(?:[eE][+-]?[0-9](?:_?[0-9])*)?$/;
const SPECIAL_FLOAT = /^[+-]?(?:inf|nan)$/;
const LOCAL_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const LOCAL_TIME = /^(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?$/;
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))?$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function hasOwn(object: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(object, key);
}

/** Sets an own, ordinary property, so that keys like `__proto__` are data, not prototype changes. */
function define(object: object, key: string, value: unknown): void {
  Object.defineProperty(object, key, { value, writable: true, enumerable: true, configurable: true });
}

function formatKey(parts: readonly string[]): string {
  return parts.map((part) => (BARE_KEY.test(part) ? part : JSON.stringify(part))).join(".");
}

function describeChar(ch: string | undefined): string {
  if (ch === undefined) return "the end of the file";
  if (ch === "\n" || ch === "\r") return "the end of the line";
  const code = ch.codePointAt(0) ?? 0;
  if (code < 0x20 || code === 0x7f) return `control character U+${code.toString(16).padStart(4, "0")}`;
  return JSON.stringify(ch);
}

function isControl(code: number): boolean {
  return (code < 0x20 && code !== 0x09) || code === 0x7f;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

class Parser {
  private pos = 0;
  private readonly newlines: number[] = [];
  private readonly kinds = new WeakMap<object, TableKind>();
  private readonly tableArrays = new WeakSet<object>();
  private readonly info = new WeakMap<object, Map<string, KeyInfo>>();

  constructor(private readonly src: string, private readonly file: string) {
    for (let i = src.indexOf("\n"); i !== -1; i = src.indexOf("\n", i + 1)) this.newlines.push(i);
  }

  // ---- document -------------------------------------------------------------------------------

  parse(): TomlDocument {
    const root: Table = {};
    this.kinds.set(root, "root");
    let current = root;
    if (this.src.charCodeAt(0) === 0xfeff) this.pos = 1;
    while (this.pos < this.src.length) {
      this.skipWs();
      const ch = this.src[this.pos];
      if (ch === undefined) break;
      if (ch === "\n" || ch === "\r") {
        this.newline();
        continue;
      }
      if (ch === "#") {
        this.comment();
        continue;
      }
      if (ch === "[") current = this.header(root);
      else this.keyValue(current, 0);
      this.endOfLine();
    }
    const info = this.info;
    const walk = (path: readonly (string | number)[]): KeyInfo | undefined => {
      let node: unknown = root;
      let found: KeyInfo | undefined;
      for (const segment of path) {
        if (node === null || typeof node !== "object") return undefined;
        const key = String(segment);
        if (!hasOwn(node, key)) return undefined;
        found = info.get(node)?.get(key);
        node = (node as Table)[key];
      }
      return found;
    };
    return {
      value: root,
      lineOf: (path) => walk(path)?.line,
      typeOf: (path) => walk(path)?.type,
    };
  }

  private lineAt(pos: number): number {
    let low = 0;
    let high = this.newlines.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (this.newlines[mid] < pos) low = mid + 1;
      else high = mid;
    }
    return low + 1;
  }

  private fail(what: string, at: number = this.pos): never {
    throw new LMStudioError("USAGE", `${this.file}:${this.lineAt(at)}: ${what}`, {
      hint: `Fix the TOML syntax in ${this.file} (TOML 1.0: https://toml.io/en/v1.0.0).`,
    });
  }

  private record(container: object, key: string, line: number, type: TomlType): void {
    let map = this.info.get(container);
    if (!map) this.info.set(container, map = new Map());
    map.set(key, { line, type });
  }

  private lineOfKey(container: object, key: string): number | undefined {
    return this.info.get(container)?.get(key)?.line;
  }

  private skipWs(): void {
    for (;;) {
      const ch = this.src[this.pos];
      if (ch !== " " && ch !== "\t") return;
      this.pos++;
    }
  }

  private newline(): void {
    if (this.src[this.pos] === "\n") this.pos++;
    else if (this.src.startsWith("\r\n", this.pos)) this.pos += 2;
    else this.fail("a carriage return must be followed by a line feed");
  }

  /** Skips a comment up to (not including) the end of the line. */
  private comment(): void {
    this.pos++;
    for (;;) {
      const code = this.src.charCodeAt(this.pos);
      if (Number.isNaN(code) || code === 0x0a) return;
      if (code === 0x0d && this.src.charCodeAt(this.pos + 1) === 0x0a) return;
      if (isControl(code)) this.fail(`${describeChar(this.src[this.pos])} is not allowed in a comment`);
      this.pos++;
    }
  }

  private endOfLine(): void {
    this.skipWs();
    if (this.src[this.pos] === "#") this.comment();
    const ch = this.src[this.pos];
    if (ch === undefined) return;
    if (ch === "\n" || ch === "\r") return this.newline();
    this.fail(`expected the end of the line, found ${describeChar(ch)}`);
  }

  /** Skips whitespace, newlines and comments (inside arrays). */
  private skipBlank(): void {
    for (;;) {
      this.skipWs();
      const ch = this.src[this.pos];
      if (ch === "\n" || ch === "\r") this.newline();
      else if (ch === "#") this.comment();
      else return;
    }
  }

  // ---- keys and tables ------------------------------------------------------------------------

  private key(): string[] {
    const parts = [this.simpleKey()];
    for (;;) {
      this.skipWs();
      if (this.src[this.pos] !== ".") return parts;
      this.pos++;
      this.skipWs();
      parts.push(this.simpleKey());
    }
  }

  private simpleKey(): string {
    const ch = this.src[this.pos];
    if (ch === '"' || ch === "'") {
      if (this.src.startsWith(ch.repeat(3), this.pos)) this.fail("a multi-line string cannot be a key");
      return ch === '"' ? this.basicString() : this.literalString();
    }
    const start = this.pos;
    while (/[A-Za-z0-9_-]/.test(this.src[this.pos] ?? "")) this.pos++;
    if (this.pos === start) this.fail(`expected a key, found ${describeChar(ch)}`);
    return this.src.slice(start, this.pos);
  }

  private header(root: Table): Table {
    const line = this.lineAt(this.pos);
    const isArray = this.src[this.pos + 1] === "[";
    this.pos += isArray ? 2 : 1;
    this.skipWs();
    const parts = this.key();
    this.skipWs();
    const close = isArray ? "]]" : "]";
    if (!this.src.startsWith(close, this.pos)) {
      this.fail(`expected "${close}" to close the header, found ${describeChar(this.src[this.pos])}`);
    }
    this.pos += close.length;
    const name = isArray ? `[[${formatKey(parts)}]]` : `[${formatKey(parts)}]`;

    let table = root;
    for (let i = 0; i < parts.length - 1; i++) {
      const key = parts[i];
      if (!hasOwn(table, key)) {
        const child: Table = {};
        this.kinds.set(child, "implicit");
        define(table, key, child);
        this.record(table, key, line, "table");
        table = child;
        continue;
      }
      const existing = table[key];
      if (Array.isArray(existing) && this.tableArrays.has(existing)) {
        table = existing[existing.length - 1] as Table;
      } else if (this.kinds.has(existing as object) && this.kinds.get(existing as object) !== "inline") {
        table = existing as Table;
      } else {
        this.fail(
          `cannot define ${name}: ${formatKey(parts.slice(0, i + 1))} is already ${
            this.describeExisting(table, key)
          }${this.since(table, key)}`,
        );
      }
    }

    const last = parts[parts.length - 1];
    if (isArray) {
      const element: Table = {};
      this.kinds.set(element, "explicit");
      if (!hasOwn(table, last)) {
        const array = [element];
        this.tableArrays.add(array);
        define(table, last, array);
        this.record(table, last, line, "array");
      } else {
        const existing = table[last];
        if (!Array.isArray(existing) || !this.tableArrays.has(existing)) {
          this.fail(
            `cannot define ${name}: ${formatKey(parts)} is already ${this.describeExisting(table, last)}${
              this.since(table, last)
            }`,
          );
        }
        existing.push(element);
      }
      const array = table[last] as Table[];
      this.record(array, String(array.length - 1), line, "table");
      return element;
    }

    if (!hasOwn(table, last)) {
      const child: Table = {};
      this.kinds.set(child, "explicit");
      define(table, last, child);
      this.record(table, last, line, "table");
      return child;
    }
    const existing = table[last];
    if (this.kinds.get(existing as object) === "implicit") {
      this.kinds.set(existing as object, "explicit");
      this.record(table, last, line, "table");
      return existing as Table;
    }
    const kind = this.kinds.get(existing as object);
    const why = kind === "explicit"
      ? `table ${name} is defined twice`
      : `cannot define ${name}: ${formatKey(parts)} is already ${this.describeExisting(table, last)}`;
    this.fail(`${why}${this.since(table, last)}`);
  }

  private since(container: object, key: string): string {
    const line = this.lineOfKey(container, key);
    return line === undefined ? "" : ` (line ${line})`;
  }

  /** What the value at `container[key]` is, for messages: "an array of tables", "a string", ... */
  private describeExisting(container: object, key: string): string {
    const value = (container as Table)[key];
    if (Array.isArray(value)) return this.tableArrays.has(value) ? "an array of tables" : "an array";
    switch (this.kinds.get(value as object)) {
      case "inline":
        return "an inline table, which cannot be extended";
      case "dotted":
        return "a table defined by dotted keys";
      case undefined: {
        const type = this.info.get(container)?.get(key)?.type ?? "value";
        return `${/^[aeiou]/.test(type) ? "an" : "a"} ${type.replace("-", " ")}`;
      }
      default:
        return "a table";
    }
  }

  /** Parses `key = value` into `table`; dotted keys create (or extend) `dotted` tables. */
  private keyValue(table: Table, depth: number): void {
    const line = this.lineAt(this.pos);
    const keyStart = this.pos;
    const parts = this.key();
    if (this.src[this.pos] !== "=") {
      this.fail(`expected "=" after the key ${formatKey(parts)}, found ${describeChar(this.src[this.pos])}`);
    }
    this.pos++;
    this.skipWs();

    let target = table;
    for (let i = 0; i < parts.length - 1; i++) {
      const key = parts[i];
      if (!hasOwn(target, key)) {
        const child: Table = {};
        this.kinds.set(child, "dotted");
        define(target, key, child);
        this.record(target, key, line, "table");
        target = child;
        continue;
      }
      const existing = target[key];
      if (this.kinds.get(existing as object) !== "dotted") {
        const what = this.kinds.has(existing as object) && this.kinds.get(existing as object) !== "inline"
          ? "a table defined elsewhere with a [header]; dotted keys cannot add to it"
          : this.describeExisting(target, key);
        this.fail(
          `cannot set ${formatKey(parts)}: ${formatKey(parts.slice(0, i + 1))} is ${what}${
            this.since(target, key)
          }`,
          keyStart,
        );
      }
      target = existing as Table;
    }
    const last = parts[parts.length - 1];
    if (hasOwn(target, last)) {
      this.fail(`duplicate key ${formatKey(parts)}${this.since(target, last)}`, keyStart);
    }
    const { value, type } = this.value(depth);
    define(target, last, value);
    this.record(target, last, line, type);
  }

  // ---- values ---------------------------------------------------------------------------------

  private value(depth: number): Parsed {
    if (depth > MAX_DEPTH) this.fail(`values are nested more than ${MAX_DEPTH} levels deep`);
    const ch = this.src[this.pos];
    if (ch === '"') {
      const value = this.src.startsWith('"""', this.pos) ? this.multilineString('"') : this.basicString();
      return { value, type: "string" };
    }
    if (ch === "'") {
      const value = this.src.startsWith("'''", this.pos) ? this.multilineString("'") : this.literalString();
      return { value, type: "string" };
    }
    if (ch === "[") return { value: this.array(depth), type: "array" };
    if (ch === "{") return { value: this.inlineTable(depth), type: "table" };
    return this.scalar();
  }

  private basicString(): string {
    const start = this.pos;
    this.pos++;
    let out = "";
    for (;;) {
      const ch = this.src[this.pos];
      if (ch === '"') {
        this.pos++;
        return out;
      }
      if (ch === undefined || ch === "\n" || ch === "\r") {
        this.fail(`string is not closed before ${describeChar(ch)} (missing '"')`, start);
      }
      if (ch === "\\") {
        out += this.escape();
        continue;
      }
      if (isControl(ch.charCodeAt(0))) {
        this.fail(
          `${describeChar(ch)} is not allowed in a string; write it as an escape such as \\n or \\u0000`,
        );
      }
      out += ch;
      this.pos++;
    }
  }

  private escape(): string {
    const at = this.pos;
    const ch = this.src[this.pos + 1];
    this.pos += 2;
    switch (ch) {
      case "b":
        return "\b";
      case "t":
        return "\t";
      case "n":
        return "\n";
      case "f":
        return "\f";
      case "r":
        return "\r";
      case '"':
        return '"';
      case "\\":
        return "\\";
      case "u":
      case "U": {
        const length = ch === "u" ? 4 : 8;
        const hex = this.src.slice(this.pos, this.pos + length);
        if (!new RegExp(`^[0-9A-Fa-f]{${length}}$`).test(hex)) {
          this.fail(`\\${ch} must be followed by ${length} hexadecimal digits`, at);
        }
        const code = parseInt(hex, 16);
        if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) {
          this.fail(`\\${ch}${hex} is not a Unicode scalar value`, at);
        }
        this.pos += length;
        return String.fromCodePoint(code);
      }
      default:
        this.fail(`invalid escape sequence ${ch === undefined ? "\\" : JSON.stringify(`\\${ch}`)}`, at);
    }
  }

  private literalString(): string {
    const start = this.pos;
    this.pos++;
    const from = this.pos;
    for (;;) {
      const ch = this.src[this.pos];
      if (ch === "'") {
        this.pos++;
        return this.src.slice(from, this.pos - 1);
      }
      if (ch === undefined || ch === "\n" || ch === "\r") {
        this.fail(`literal string is not closed before ${describeChar(ch)} (missing "'")`, start);
      }
      if (isControl(ch.charCodeAt(0))) this.fail(`${describeChar(ch)} is not allowed in a literal string`);
      this.pos++;
    }
  }

  /** `"""..."""` (with escapes) or `'''...'''` (raw). */
  private multilineString(quote: '"' | "'"): string {
    const start = this.pos;
    const delimiter = quote.repeat(3);
    this.pos += 3;
    // A newline right after the opening delimiter is trimmed.
    if (this.src[this.pos] === "\n") this.pos++;
    else if (this.src.startsWith("\r\n", this.pos)) this.pos += 2;
    let out = "";
    for (;;) {
      const ch = this.src[this.pos];
      if (ch === undefined) this.fail(`multi-line string is never closed (missing ${delimiter})`, start);
      if (ch === quote && this.src.startsWith(delimiter, this.pos)) {
        // Up to two quotes may sit right before the closing delimiter: """a"""" is `a"`.
        let run = 3;
        while (run < 5 && this.src[this.pos + run] === quote) run++;
        out += quote.repeat(run - 3);
        this.pos += run;
        return out;
      }
      if (ch === "\n") {
        out += "\n";
        this.pos++;
        continue;
      }
      if (ch === "\r") {
        if (this.src[this.pos + 1] !== "\n") this.fail("a carriage return must be followed by a line feed");
        out += "\n";
        this.pos += 2;
        continue;
      }
      if (quote === '"' && ch === "\\") {
        // A backslash at the end of a line trims it and all whitespace and newlines after it.
        let look = this.pos + 1;
        while (this.src[look] === " " || this.src[look] === "\t") look++;
        if (this.src[look] === "\n" || this.src[look] === "\r") {
          this.pos = look;
          for (;;) {
            const next = this.src[this.pos];
            if (next === " " || next === "\t") this.pos++;
            else if (next === "\n" || next === "\r") this.newline();
            else break;
          }
          continue;
        }
        out += this.escape();
        continue;
      }
      if (isControl(ch.charCodeAt(0))) this.fail(`${describeChar(ch)} is not allowed in a string`);
      out += ch;
      this.pos++;
    }
  }

  private array(depth: number): unknown[] {
    const start = this.pos;
    this.pos++;
    const array: unknown[] = [];
    for (;;) {
      this.skipBlank();
      if (this.src[this.pos] === "]") {
        this.pos++;
        return array;
      }
      if (this.src[this.pos] === undefined) this.fail('array is never closed (missing "]")', start);
      const line = this.lineAt(this.pos);
      const { value, type } = this.value(depth + 1);
      this.record(array, String(array.length), line, type);
      array.push(value);
      this.skipBlank();
      const ch = this.src[this.pos];
      if (ch === ",") {
        this.pos++;
      } else if (ch === "]") {
        this.pos++;
        return array;
      } else if (ch === undefined) {
        this.fail('array is never closed (missing "]")', start);
      } else {
        this.fail(`expected "," or "]" in the array, found ${describeChar(ch)}`);
      }
    }
  }

  private inlineTable(depth: number): Table {
    this.pos++;
    const table: Table = {};
    this.kinds.set(table, "inline");
    this.skipWs();
    if (this.src[this.pos] === "}") {
      this.pos++;
      return table;
    }
    for (;;) {
      this.skipWs();
      const ch = this.src[this.pos];
      if (ch === "\n" || ch === "\r" || ch === "#" || ch === undefined) this.inlineTableLineError(ch);
      this.keyValue(table, depth + 1);
      this.skipWs();
      const next = this.src[this.pos];
      if (next === "}") {
        this.pos++;
        return table;
      }
      if (next !== ",") {
        if (next === "\n" || next === "\r" || next === "#" || next === undefined) {
          this.inlineTableLineError(next);
        }
        this.fail(`expected "," or "}" in the inline table, found ${describeChar(next)}`);
      }
      this.pos++;
      this.skipWs();
      if (this.src[this.pos] === "}") this.fail("a trailing comma is not allowed in an inline table");
    }
  }

  private inlineTableLineError(ch: string | undefined): never {
    this.fail(
      `an inline table must be closed with "}" on the same line (found ${
        ch === "#" ? "a comment" : describeChar(ch)
      }); use a [table] for longer ones`,
    );
  }

  /** Booleans, numbers, dates and times: one bare token, classified. */
  private scalar(): Parsed {
    const start = this.pos;
    while (TOKEN_CHAR.test(this.src[this.pos] ?? "")) this.pos++;
    // A date and a time may be separated by one space: 1979-05-27 07:32:00.
    if (
      LOCAL_DATE.test(this.src.slice(start, this.pos)) && this.src[this.pos] === " " &&
      /^\d{2}:/.test(this.src.slice(this.pos + 1, this.pos + 4))
    ) {
      this.pos++;
      while (TOKEN_CHAR.test(this.src[this.pos] ?? "")) this.pos++;
    }
    const token = this.src.slice(start, this.pos);
    if (token === "") this.fail(`expected a value, found ${describeChar(this.src[this.pos])}`);
    if (token === "true" || token === "false") return { value: token === "true", type: "boolean" };

    if (DEC_INT.test(token) || HEX_INT.test(token) || OCT_INT.test(token) || BIN_INT.test(token)) {
      const big = BigInt(token.replaceAll("_", "").replace(/^\+/, ""));
      if (big < INT64_MIN || big > INT64_MAX) this.fail(`integer ${token} does not fit in 64 bits`, start);
      const small = Number(big);
      return { value: Number.isSafeInteger(small) ? small : big, type: "integer" };
    }
    if (SPECIAL_FLOAT.test(token)) {
      const value = token.endsWith("nan") ? NaN : token.startsWith("-") ? -Infinity : Infinity;
      return { value, type: "float" };
    }
    if (FLOAT.test(token)) return { value: Number(token.replaceAll("_", "")), type: "float" };

    const dateTime = DATE_TIME.exec(token);
    if (dateTime) {
      const [, y, mo, d, h, mi, s, offset, oh, om] = dateTime;
      this.checkDate(token, start, +y, +mo, +d);
      this.checkTime(token, start, +h, +mi, +s);
      if (oh !== undefined && (+oh > 23 || +om > 59)) this.fail(`invalid offset in ${token}`, start);
      return { value: token, type: offset === undefined ? "local-datetime" : "offset-datetime" };
    }
    const date = LOCAL_DATE.exec(token);
    if (date) {
      this.checkDate(token, start, +date[1], +date[2], +date[3]);
      return { value: token, type: "local-date" };
    }
    const time = LOCAL_TIME.exec(token);
    if (time) {
      this.checkTime(token, start, +time[1], +time[2], +time[3]);
      return { value: token, type: "local-time" };
    }

    if (/^[+-]?0[0-9_]/.test(token) && /^[+-]?[0-9_.eE+-]+$/.test(token)) {
      this.fail(`invalid number ${token}: leading zeros are not allowed`, start);
    }
    if (/^[+-]?[0-9.]/.test(token)) this.fail(`invalid number or date ${token}`, start);
    this.fail(`invalid value ${token}; strings must be in quotes, e.g. "${token}"`, start);
  }

  private checkDate(token: string, at: number, year: number, month: number, day: number): void {
    if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
      this.fail(`invalid date ${token}`, at);
    }
  }

  private checkTime(token: string, at: number, hour: number, minute: number, second: number): void {
    if (hour > 23 || minute > 59 || second > 60) this.fail(`invalid time ${token}`, at);
  }
}
