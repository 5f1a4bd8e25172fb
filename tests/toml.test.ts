import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { LMStudioError } from "../src/errors.ts";
import { parseToml, parseTomlDocument } from "../src/toml.ts";

/** Asserts that parsing fails with a USAGE error `f.toml:<line>: ...` matching `what`. */
function rejects(text: string, line: number, what: RegExp): void {
  assert.throws(
    () => parseToml(text, "f.toml"),
    (error: unknown) => {
      assert.ok(error instanceof LMStudioError, `expected an LMStudioError, got ${String(error)}`);
      assert.equal(error.code, "USAGE");
      assert.match(error.message, new RegExp(`^f\\.toml:${line}: `), error.message);
      assert.match(error.message, what);
      assert.match(error.hint ?? "", /^Fix the TOML syntax in f\.toml/);
      return true;
    },
  );
}

const REAL_VTCODE_TOML = `# VT Code configuration
[agent]
provider = "openai"            # which provider
default_model = "gpt-5"
theme = "ciapre-dark"
max_conversation_turns = 150
temperature = 0.7
reasoning_effort = "medium"
instructions = """
You are a careful coding agent.
Never write a line like this one as config:
[lmstudio]
base_url = "http://evil.example:1234"
"""

[agent.onboarding]
enabled = true
workspace = 'C:\\Users\\agent' # backslashes are literal in a literal string
include_recommended_actions = false

[tools.policies]
read_file = "allow"
run_terminal_cmd = "prompt"
"apply.patch" = "deny"

[[mcp.providers]]
name = "time"
command = "uvx"
args = ["mcp-server-time", "--local-timezone", "Europe/Paris"]
env = { TZ = "Europe/Paris", "LOG.LEVEL" = "info" }

[[mcp.providers]]
name = "fetch"
command = "uvx"
args = [
  "mcp-server-fetch", # the server
  "--ignore-robots-txt",
]
enabled = false

[security]
allowed_hosts = [ "localhost", "127.0.0.1" ]
last_audit = 2026-01-15T09:30:00Z

[lmstudio]
base_url = "http://localhost:1234" # default port
model = "openai/gpt-oss-20b"
api_token_env = "LM_API_TOKEN"

[prompt_cache."providers.openai"]
enabled = true
`;

describe("parseToml: a real vtcode.toml", () => {
  it("reads [lmstudio] and is not fooled by the rest of the file", () => {
    const data = parseToml(REAL_VTCODE_TOML, "vtcode.toml");
    assert.deepEqual(data.lmstudio, {
      base_url: "http://localhost:1234",
      model: "openai/gpt-oss-20b",
      api_token_env: "LM_API_TOKEN",
    });
  });

  it("reads every other table into plain objects", () => {
    const data = parseToml(REAL_VTCODE_TOML, "vtcode.toml") as Record<string, Record<string, unknown>>;
    assert.equal(data.agent.max_conversation_turns, 150);
    assert.equal(data.agent.temperature, 0.7);
    assert.match(
      data.agent.instructions as string,
      /^You are.*\n.*\n\[lmstudio\]\nbase_url = "http:\/\/evil/,
    );
    assert.deepEqual(data.agent.onboarding, {
      enabled: true,
      workspace: "C:\\Users\\agent",
      include_recommended_actions: false,
    });
    assert.deepEqual(data.tools, {
      policies: { read_file: "allow", run_terminal_cmd: "prompt", "apply.patch": "deny" },
    });
    assert.deepEqual(data.mcp, {
      providers: [
        {
          name: "time",
          command: "uvx",
          args: ["mcp-server-time", "--local-timezone", "Europe/Paris"],
          env: { TZ: "Europe/Paris", "LOG.LEVEL": "info" },
        },
        { name: "fetch", command: "uvx", args: ["mcp-server-fetch", "--ignore-robots-txt"], enabled: false },
      ],
    });
    assert.deepEqual(data.security, {
      allowed_hosts: ["localhost", "127.0.0.1"],
      last_audit: "2026-01-15T09:30:00Z",
    });
    assert.deepEqual(data.prompt_cache, { "providers.openai": { enabled: true } });
  });
});

describe("parseToml: comments, whitespace and line endings", () => {
  it("ignores full-line and trailing comments and blank lines", () => {
    assert.deepEqual(
      parseToml("# top\n\n  # indented\na = 1 # trailing\n\t\n[t] # after header\nb = 2#tight\n"),
      {
        a: 1,
        t: { b: 2 },
      },
    );
  });

  it("does not treat # inside a string as a comment", () => {
    assert.deepEqual(parseToml(`a = "x # y" # z\nb = 'p#q'\nc = """#1\n#2"""\n`), {
      a: "x # y",
      b: "p#q",
      c: "#1\n#2",
    });
  });

  it("accepts CRLF line endings and a byte-order mark", () => {
    assert.deepEqual(parseToml('\uFEFF[lmstudio]\r\nmodel = "m" # c\r\n'), { lmstudio: { model: "m" } });
  });

  it("accepts an empty document and a document without a final newline", () => {
    assert.deepEqual(parseToml(""), {});
    assert.deepEqual(parseToml("a = 1"), { a: 1 });
  });

  it("accepts tabs and spaces around keys, dots, = and header brackets", () => {
    assert.deepEqual(parseToml("[ a . b ]\n\tc\t.\td\t=\t1\n[[ x ]]\n"), {
      a: { b: { c: { d: 1 } } },
      x: [{}],
    });
  });
});

describe("parseToml: keys", () => {
  it("reads bare, quoted and literal keys; a dot inside quotes is part of the key", () => {
    assert.deepEqual(
      parseToml(`bare-key_1 = 1\n"a.b" = 2\n'c.d' = 3\n"" = 4\n"\\u00e9t\\u00e9" = 5\n1234 = 6\n`),
      {
        "bare-key_1": 1,
        "a.b": 2,
        "c.d": 3,
        "": 4,
        "été": 5,
        "1234": 6,
      },
    );
  });

  it("reads dotted keys as nested tables", () => {
    assert.deepEqual(
      parseToml('lmstudio.base_url = "u"\nlmstudio . model = "m"\nsite."google.com" = true\n'),
      {
        lmstudio: { base_url: "u", model: "m" },
        site: { "google.com": true },
      },
    );
  });

  it("keeps __proto__ and constructor as ordinary keys", () => {
    const data = parseToml('__proto__ = "p"\n[constructor]\nx = 1\n');
    assert.equal(Object.getPrototypeOf(data), Object.prototype);
    assert.deepEqual(Object.keys(data), ["__proto__", "constructor"]);
    assert.equal(Object.getOwnPropertyDescriptor(data, "__proto__")?.value, "p");
    assert.deepEqual(data.constructor, { x: 1 });
  });
});

describe("parseToml: tables", () => {
  it('reads dotted and quoted table names ([a."b.c"])', () => {
    assert.deepEqual(parseToml("[a.\"b.c\"]\nx = 1\n[a.'d']\ny = 2\n"), {
      a: { "b.c": { x: 1 }, d: { y: 2 } },
    });
  });

  it("creates parent tables implicitly, and lets them be defined once later", () => {
    assert.deepEqual(parseToml("[x.y.z]\na = 1\n[x]\nb = 2\n"), { x: { y: { z: { a: 1 } }, b: 2 } });
  });

  it("lets a [header] add a sub-table to a table made by dotted keys", () => {
    assert.deepEqual(parseToml('[fruit]\napple.color = "red"\n[fruit.apple.texture]\nsmooth = true\n'), {
      fruit: { apple: { color: "red", texture: { smooth: true } } },
    });
  });

  it("reads arrays of tables; [x.sub] belongs to the last [[x]]", () => {
    const text =
      '[[p]]\nname = "a"\n[[p]]\nname = "b"\n[p.sub]\nk = 1\n[[p.list]]\nn = 1\n[[p.list]]\nn = 2\n';
    assert.deepEqual(parseToml(text), {
      p: [{ name: "a" }, { name: "b", sub: { k: 1 }, list: [{ n: 1 }, { n: 2 }] }],
    });
  });

  it("reads inline tables, nested and with dotted keys", () => {
    assert.deepEqual(parseToml('a = {}\nb = { x = 1, y.z = "w", n = { m = [1, 2] } }\n'), {
      a: {},
      b: { x: 1, y: { z: "w" }, n: { m: [1, 2] } },
    });
  });

  it("reads [lmstudio] given as an inline table or as dotted keys", () => {
    assert.deepEqual(parseToml('lmstudio = { model = "m" }\n'), { lmstudio: { model: "m" } });
    assert.deepEqual(parseToml('lmstudio.model = "m"\n[other]\n'), { lmstudio: { model: "m" }, other: {} });
  });

  it("does not mistake [other.lmstudio] or a key named lmstudio elsewhere for [lmstudio]", () => {
    const data = parseToml('[other.lmstudio]\nmodel = "x"\n[more]\nlmstudio = "y"\n');
    assert.equal(Object.hasOwn(data, "lmstudio"), false);
  });
});

describe("parseToml: arrays", () => {
  it("reads multi-line arrays with comments and a trailing comma", () => {
    assert.deepEqual(parseToml("a = [\n  1, # one\n  # a whole comment line\n  2,\n\n]\n"), { a: [1, 2] });
  });

  it("reads empty, nested and mixed-type arrays", () => {
    assert.deepEqual(parseToml('a = []\nb = [[1, 2], ["x"], []]\nc = [1, "two", 3.0, true, { k = "v" }]\n'), {
      a: [],
      b: [[1, 2], ["x"], []],
      c: [1, "two", 3, true, { k: "v" }],
    });
  });
});

describe("parseToml: strings", () => {
  it("decodes the escapes of basic strings", () => {
    assert.deepEqual(parseToml(String.raw`s = "q\" b\\ n\n t\t r\r f\f bs\b é\u00E9 smile\U0001F600"`), {
      s: 'q" b\\ n\n t\t r\r f\f bs\b é\u00e9 smile\u{1F600}',
    });
  });

  it("keeps literal strings raw", () => {
    assert.deepEqual(parseToml(String.raw`p = 'C:\Users\nobody\n' ` + "\nq = '\"quoted\"'\n"), {
      p: String.raw`C:\Users\nobody\n`,
      q: '"quoted"',
    });
  });

  it("reads multi-line basic strings: first newline trimmed, escapes, line-ending backslash", () => {
    const text = 'a = """\nline1\n  line2\\t"""\nb = """\\\n    The quick \\\n\n    fox."""\n';
    assert.deepEqual(parseToml(text), { a: "line1\n  line2\t", b: "The quick fox." });
  });

  it("allows one or two quotes right before the closing delimiter", () => {
    assert.deepEqual(parseToml(`a = """say "hi""""\nb = """x""""" \nc = '''it's'''''\n`), {
      a: 'say "hi"',
      b: 'x""',
      c: "it's''",
    });
  });

  it("reads multi-line literal strings raw, and normalises CRLF inside multi-line strings to LF", () => {
    assert.deepEqual(parseToml("a = '''\nC:\\path\\n\n  [lmstudio]\n'''\nb = \"\"\"x\r\ny\"\"\"\n"), {
      a: "C:\\path\\n\n  [lmstudio]\n",
      b: "x\ny",
    });
  });

  it("does not count a [lmstudio] line inside a multi-line string", () => {
    const text = 'notes = """\n[lmstudio]\nbase_url = "http://evil"\n"""\n' +
      "more = '''\n[lmstudio]\nmodel = 'evil'\n'''\n[lmstudio]\nmodel = \"good\"\n";
    const data = parseToml(text);
    assert.deepEqual(data.lmstudio, { model: "good" });
  });
});

describe("parseToml: numbers, booleans, dates", () => {
  it("reads integers: signs, underscores, hex, octal, binary", () => {
    assert.deepEqual(
      parseToml("a = +99\nb = -17\nc = 0\nd = -0\ne = 1_000_000\nf = 0xDEAD_beef\ng = 0o755\nh = 0b1101\n"),
      {
        a: 99,
        b: -17,
        c: 0,
        d: 0,
        e: 1_000_000,
        f: 0xdeadbeef,
        g: 0o755,
        h: 0b1101,
      },
    );
  });

  it("keeps integers beyond 2^53 exact as bigint, within 64 bits", () => {
    assert.deepEqual(parseToml("max = 9223372036854775807\nmin = -9223372036854775808\n"), {
      max: 9223372036854775807n,
      min: -9223372036854775808n,
    });
  });

  it("reads floats, including exponents, inf and nan", () => {
    const data = parseToml(
      "a = 3.1415\nb = -0.01\nc = 5e+22\nd = 1e06\ne = -2E-2\nf = 6.626e-34\ng = 9_224.617_445\nh = inf\ni = -inf\nj = nan\nk = -0.0\n",
    );
    assert.equal(data.a, 3.1415);
    assert.equal(data.b, -0.01);
    assert.equal(data.c, 5e22);
    assert.equal(data.d, 1e6);
    assert.equal(data.e, -0.02);
    assert.equal(data.f, 6.626e-34);
    assert.equal(data.g, 9224.617445);
    assert.equal(data.h, Infinity);
    assert.equal(data.i, -Infinity);
    assert.ok(Number.isNaN(data.j));
    assert.ok(Object.is(data.k, -0));
  });

  it("reads booleans", () => {
    assert.deepEqual(parseToml("t = true\nf = false\n"), { t: true, f: false });
  });

  it("keeps dates and times as the strings written, and reports their TOML type", () => {
    const text = "odt = 1979-05-27T07:32:00Z\nodt2 = 1979-05-27 00:32:00.999999-07:00\n" +
      "ldt = 1979-05-27T07:32:00\nld = 2024-02-29\nlt = 00:32:00.5\nleap = 1990-12-31T23:59:60z\n";
    const doc = parseTomlDocument(text);
    assert.deepEqual(doc.value, {
      odt: "1979-05-27T07:32:00Z",
      odt2: "1979-05-27 00:32:00.999999-07:00",
      ldt: "1979-05-27T07:32:00",
      ld: "2024-02-29",
      lt: "00:32:00.5",
      leap: "1990-12-31T23:59:60z",
    });
    assert.equal(doc.typeOf(["odt"]), "offset-datetime");
    assert.equal(doc.typeOf(["odt2"]), "offset-datetime");
    assert.equal(doc.typeOf(["ldt"]), "local-datetime");
    assert.equal(doc.typeOf(["ld"]), "local-date");
    assert.equal(doc.typeOf(["lt"]), "local-time");
  });
});

describe("parseTomlDocument: lines and types", () => {
  const text = '# c\n[lmstudio]\nbase_url = "u"\n\nmodel = 7\n[[p]]\n[[p]]\nx = [\n  1,\n  "two",\n]\n';
  const doc = parseTomlDocument(text, "v.toml");

  it("gives the line where each key was defined", () => {
    assert.equal(doc.lineOf(["lmstudio"]), 2);
    assert.equal(doc.lineOf(["lmstudio", "base_url"]), 3);
    assert.equal(doc.lineOf(["lmstudio", "model"]), 5);
    assert.equal(doc.lineOf(["p", 1]), 7);
    assert.equal(doc.lineOf(["p", 1, "x"]), 8);
    assert.equal(doc.lineOf(["p", 1, "x", 1]), 10);
    assert.equal(doc.lineOf(["lmstudio", "nope"]), undefined);
    assert.equal(doc.lineOf(["lmstudio", "base_url", "deeper"]), undefined);
  });

  it("gives the TOML type of each key", () => {
    assert.equal(doc.typeOf(["lmstudio"]), "table");
    assert.equal(doc.typeOf(["lmstudio", "base_url"]), "string");
    assert.equal(doc.typeOf(["lmstudio", "model"]), "integer");
    assert.equal(doc.typeOf(["p"]), "array");
    assert.equal(doc.typeOf(["p", 0]), "table");
    assert.equal(doc.typeOf(["p", 1, "x", 0]), "integer");
    assert.equal(doc.typeOf(["missing"]), undefined);
  });

  it("gives the line of the first dotted key for a table made by dotted keys", () => {
    const dotted = parseTomlDocument('a = 1\nlmstudio.model = "m"\nlmstudio.base_url = "u"\n');
    assert.equal(dotted.lineOf(["lmstudio"]), 2);
    assert.equal(dotted.lineOf(["lmstudio", "base_url"]), 3);
    assert.equal(dotted.typeOf(["lmstudio"]), "table");
  });
});

describe("parseToml: errors name the file and the line", () => {
  it("uses <toml> when no file name is given", () => {
    assert.throws(() => parseToml("a ="), /^LMStudioError: <toml>:1: expected a value/);
  });

  it("rejects duplicate keys, including a bare and a quoted spelling of the same key", () => {
    rejects("a = 1\nb = 2\na = 3\n", 3, /duplicate key a \(line 1\)/);
    rejects('spelling = 1\n"spelling" = 2\n', 2, /duplicate key spelling/);
    rejects("x.y = 1\nx.y = 2\n", 2, /duplicate key x\.y/);
    rejects("t = { a = 1, a = 2 }\n", 1, /duplicate key a/);
  });

  it("rejects a table defined twice, such as a second [lmstudio]", () => {
    rejects(
      '[lmstudio]\nmodel = "a"\n\n[lmstudio]\nbase_url = "b"\n',
      4,
      /table \[lmstudio\] is defined twice \(line 1\)/,
    );
    rejects("[a.b]\n[a]\n[a]\n", 3, /table \[a\] is defined twice/);
  });

  it("rejects a [table] over a key that has a value or was made by dotted keys", () => {
    rejects('lmstudio = "x"\n[lmstudio]\n', 2, /\[lmstudio\]: lmstudio is already a string \(line 1\)/);
    rejects('lmstudio.model = "m"\n[lmstudio]\n', 2, /already a table defined by dotted keys/);
    rejects("[fruit]\napple.color = 1\n[fruit.apple]\n", 3, /already a table defined by dotted keys/);
    rejects("a = 1\n[a.b]\n", 2, /a is already an integer/);
  });

  it("rejects dotted keys that add to a table defined by a [header]", () => {
    rejects("[a.b.c]\nz = 9\n[a]\nb.c.t = 1\n", 4, /dotted keys cannot add to it/);
    rejects("[a.b]\n[a]\nb.x = 1\n", 3, /a table defined elsewhere with a \[header\]/);
  });

  it("rejects extending an inline table", () => {
    rejects("a = { b = 1 }\n[a.c]\n", 2, /an inline table, which cannot be extended/);
    rejects("a = { b = 1 }\na.c = 2\n", 2, /an inline table, which cannot be extended/);
    rejects("a = { b = { c = 1 }, b.d = 2 }\n", 1, /inline table/);
  });

  it("rejects mixing arrays of tables with tables and static arrays", () => {
    rejects("a = [1]\n[[a]]\n", 2, /cannot define \[\[a\]\]: a is already an array \(line 1\)/);
    rejects("[[a]]\n[a]\n", 2, /already an array of tables/);
    rejects("[a]\n[[a]]\n", 2, /already a table/);
    rejects("a = [{ b = 1 }]\n[a.c]\n", 2, /already an array/);
  });

  it("rejects broken headers and text after a header", () => {
    rejects("[a\n", 1, /expected "\]" to close the header/);
    rejects("[[a] ]\n", 1, /expected "\]\]"/);
    rejects("[]\n", 1, /expected a key/);
    rejects("[a] b = 1\n", 1, /expected the end of the line, found "b"/);
    rejects("[a.]\n", 1, /expected a key/);
  });

  it("rejects bad key/value lines", () => {
    rejects("\n\nkey value\n", 3, /expected "=" after the key key, found "v"/);
    rejects("a = 1 b = 2\n", 1, /expected the end of the line/);
    rejects("a =\n", 1, /expected a value, found the end of the line/);
    rejects("= 1\n", 1, /expected a key, found "="/);
    rejects('"""k""" = 1\n', 1, /multi-line string cannot be a key/);
    rejects("model = gpt-oss\n", 1, /invalid value gpt-oss; strings must be in quotes/);
    rejects("a = True\n", 1, /invalid value True/);
  });

  it("rejects unclosed and malformed strings, pointing at the string's first line", () => {
    rejects('a = 1\nb = "open\nc = 2\n', 2, /string is not closed before the end of the line/);
    rejects("b = 'open\n", 1, /literal string is not closed/);
    rejects('x = 1\ny = """\nnever\nclosed\n', 2, /multi-line string is never closed \(missing """\)/);
    rejects("y = '''\nnever\n", 1, /multi-line string is never closed \(missing '''\)/);
    rejects(String.raw`a = "bad \x41"`, 1, /invalid escape sequence "\\\\x"/);
    rejects(String.raw`a = "\u12"`, 1, /\\u must be followed by 4 hexadecimal digits/);
    rejects(String.raw`a = "\uD800"`, 1, /not a Unicode scalar value/);
    rejects(String.raw`a = "\U00110000"`, 1, /not a Unicode scalar value/);
    rejects('a = "nul\u0000"\n', 1, /control character U\+0000 is not allowed in a string/);
    rejects('\na = """x\\ y"""\n', 2, /invalid escape sequence/);
  });

  it("rejects inline tables that span lines or end with a comma (TOML 1.0)", () => {
    rejects("a = { b = 1,\n c = 2 }\n", 1, /inline table must be closed with "\}" on the same line/);
    rejects("a = { b = 1, }\n", 1, /trailing comma is not allowed in an inline table/);
    rejects("a = { b = 1 c = 2 }\n", 1, /expected "," or "\}"/);
  });

  it("rejects broken arrays", () => {
    rejects("a = [1, 2\n", 1, /array is never closed/);
    rejects("a = [1,,2]\n", 1, /expected a value, found ","/);
    rejects("a = [,]\n", 1, /expected a value/);
    rejects("a = [1 2]\n", 1, /expected "," or "\]" in the array, found "2"/);
  });

  it("rejects malformed numbers", () => {
    rejects("a = 01\n", 1, /leading zeros are not allowed/);
    rejects("a = 1__0\n", 1, /invalid number/);
    rejects("a = _1\n", 1, /invalid value _1/);
    rejects("a = 1_\n", 1, /invalid number/);
    rejects("a = 0x_1\n", 1, /invalid number/);
    rejects("a = +0x1\n", 1, /invalid number/);
    rejects("a = .5\n", 1, /invalid number/);
    rejects("a = 5.\n", 1, /invalid number/);
    rejects("a = 1e\n", 1, /invalid number/);
    rejects("a = 9223372036854775808\n", 1, /does not fit in 64 bits/);
  });

  it("rejects impossible dates and times, and times without seconds", () => {
    rejects("a = 2023-02-29\n", 1, /invalid date 2023-02-29/);
    rejects("a = 2024-13-01\n", 1, /invalid date/);
    rejects("a = 24:00:00\n", 1, /invalid time/);
    rejects("a = 1979-05-27T07:32\n", 1, /invalid number or date/);
    rejects("a = 1979-05-27T07:32:00+25:00\n", 1, /invalid offset/);
  });

  it("rejects control characters in comments and a bare carriage return", () => {
    rejects("# bell \u0007\n", 1, /control character U\+0007 is not allowed in a comment/);
    rejects("a = 1\rb = 2\n", 1, /carriage return must be followed by a line feed/);
  });

  it("refuses absurdly deep nesting instead of overflowing the stack", () => {
    rejects(`a = ${"[".repeat(1000)}${"]".repeat(1000)}\n`, 1, /nested more than 100 levels/);
  });

  it("counts lines correctly past multi-line strings and arrays", () => {
    rejects('a = """\n1\n2\n"""\nb = [\n1,\n]\nc = 1\nc = 2\n', 9, /duplicate key c \(line 8\)/);
  });
});
