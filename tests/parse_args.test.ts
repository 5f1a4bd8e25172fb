/**
 * src/parse_args.ts stands in for node:util's parseArgs (which costs Deno its Node compatibility
 * layer at start-up). It must give the same values, positionals, error codes and messages: held
 * against Node's own on a fixed set of cases and on seeded random argument lists. Bun's node:util
 * differs from Node's (e.g. `-qx`), so the comparison runs on Node and Deno.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseArgs as nodeParseArgs } from "node:util";
import { CLI_OPTIONS } from "../src/cli_args.ts";
import { parseArgs } from "../src/parse_args.ts";
import { detectRuntime } from "../src/runtime.ts";

const ATOMS = [
  "check",
  "ensure",
  "m",
  "x",
  "-",
  "--",
  "---",
  "--=",
  "--=x",
  "-m",
  "-q",
  "-V",
  "-h",
  "-x",
  "-qV",
  "-qm",
  "-mq",
  "-qmfoo",
  "-mfoo",
  "-qx",
  "-Vq",
  "--url",
  "--url=",
  "--url=-x",
  "--url=a=b",
  "--json",
  "--json=",
  "--json=1",
  "--require",
  "--require=a",
  "--model",
  "--model=m",
  "--token",
  "-foo",
  "--unknown",
  "--unknown=1",
  "--help",
  "--__proto__",
  "--__proto__=1",
  "--constructor",
  "--toString",
  "-Z",
  "-qZ",
  "--no-color",
  "-1",
  "--context-length",
  "é",
  "-é",
  "--q",
  "-mm",
]; // deno-fmt-ignore

function outcome(parse: () => { values: object; positionals: string[] }): string {
  try {
    const { values, positionals } = parse();
    return JSON.stringify({ values: { ...values }, positionals });
  } catch (error) {
    return `E:${(error as { code?: string }).code}:${(error as Error).message}`;
  }
}

/** Ours and Node's agree on `args`, strict (what the CLI parses) and lenient (what names its model). */
function same(args: string[]): void {
  const node = outcome(() =>
    nodeParseArgs({ args, options: CLI_OPTIONS, strict: true, allowPositionals: true })
  );
  const ours = outcome(() => parseArgs(args, CLI_OPTIONS));
  assert.equal(ours, node, JSON.stringify(args));
  const lenientNode = outcome(() =>
    nodeParseArgs({ args, options: CLI_OPTIONS, strict: false, allowPositionals: true })
  );
  const lenient = outcome(() => parseArgs(args, CLI_OPTIONS, { strict: false }));
  assert.equal(lenient, lenientNode, `strict: false, ${JSON.stringify(args)}`);
}

/** A small seeded generator (mulberry32): the same lists on every run. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("parse_args: the CLI's parseArgs, without node:util", () => {
  it("parses what the CLI takes", () => {
    const { values, positionals } = parseArgs(
      ["ensure", "m/x", "--json", "-q", "--require", "tool-use", "--require=vision", "--url=http://h:1"],
      CLI_OPTIONS,
    );
    assert.deepEqual(positionals, ["ensure", "m/x"]);
    assert.deepEqual({ ...values }, {
      json: true,
      quiet: true,
      require: ["tool-use", "vision"],
      url: "http://h:1",
    });
  });

  it("refuses what Node refuses, with Node's code", () => {
    assert.throws(() => parseArgs(["--nope"], CLI_OPTIONS), { code: "ERR_PARSE_ARGS_UNKNOWN_OPTION" });
    assert.throws(() => parseArgs(["--url"], CLI_OPTIONS), { code: "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" });
    assert.throws(() => parseArgs(["--json=1"], CLI_OPTIONS), {
      code: "ERR_PARSE_ARGS_INVALID_OPTION_VALUE",
    });
  });

  const runtime = detectRuntime().name;
  it(
    "agrees with node:util's parseArgs on fixed and seeded random argument lists",
    { skip: runtime === "bun" ? "Bun's node:util parseArgs differs from Node's" : false },
    () => {
      for (const atom of ATOMS) same([atom]);
      const next = random(20261129);
      for (let i = 0; i < 20_000; i++) {
        const length = Math.floor(next() * 5);
        same(Array.from({ length }, () => ATOMS[Math.floor(next() * ATOMS.length)]));
      }
    },
  );
});
