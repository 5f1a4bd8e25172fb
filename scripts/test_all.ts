/**
 * The whole test command (`npm test`): static checks, the one test suite on Node, Deno and Bun,
 * then the npm build with a smoke run of the packed tarball. Runs every stage, prints a summary,
 * exits non-zero if any stage failed.
 *
 *   node --import tsx scripts/test_all.ts [--only <stage,...>]
 */
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const bin = (name: string) => join(root, "node_modules", ".bin", name);
// Every public entry point, from the one manifest.
const entryPoints = Object.values(
  (JSON.parse(readFileSync(join(root, "deno.json"), "utf8")) as { exports: Record<string, string> }).exports,
).map((file) => file.replace(/^\.\//, ""));
const testFiles = readdirSync(join(root, "tests")).filter((f) => f.endsWith(".test.ts")).sort()
  .map((f) => join("tests", f));

interface Stage {
  name: string;
  cmd: string;
  args: string[];
}

const stages: Stage[] = [
  { name: "lint", cmd: bin("deno"), args: ["lint"] },
  { name: "fmt", cmd: bin("deno"), args: ["fmt", "--check"] },
  {
    name: "tsc",
    cmd: process.execPath,
    args: [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json"],
  },
  { name: "deno-doc-lint", cmd: bin("deno"), args: ["doc", "--lint", ...entryPoints] },
  // Every ```ts example type-checks: JSDoc in the entry points and in src/ (where the public
  // declarations live), and the README's. `@vtcode/lmstudio[/…]` resolves through deno.json.
  {
    name: "deno-doc-examples",
    cmd: bin("deno"),
    args: ["check", "--doc-only", "--quiet", ...entryPoints, "src/", "README.md"],
  },
  { name: "jsr-dry-run", cmd: bin("deno"), args: ["publish", "--dry-run", "--allow-dirty", "--quiet"] },
  {
    name: "node",
    cmd: process.execPath,
    args: ["--import", "tsx", "--test", "--test-reporter=dot", "--test-concurrency=2", ...testFiles],
  },
  { name: "deno", cmd: bin("deno"), args: ["test", "-A", "--quiet", "--parallel", "tests/"] },
  { name: "bun", cmd: bin("bun"), args: ["test", "--timeout", "30000", "./tests/"] },
  { name: "npm-build-smoke", cmd: process.execPath, args: ["--import", "tsx", "scripts/smoke_npm.ts"] },
];

/** A line naming a failed test: Node's reporters (`✖ name`), Bun's (`(fail) name`), Deno's (`name => file:line`). */
const FAILED_TEST = /^\s*✖ |^\(fail\) |^\S.* => \S+:\d+:\d+$/;

const onlyIndex = process.argv.indexOf("--only");
const only = onlyIndex === -1 ? undefined : new Set(process.argv[onlyIndex + 1]?.split(","));
const results: { name: string; ok: boolean; seconds: number; tail: string[]; failedTests: string[] }[] = [];
for (const stage of stages) {
  if (only && !only.has(stage.name)) continue;
  console.log(`\n=== ${stage.name}: ${[stage.cmd.replace(root + "/", ""), ...stage.args].join(" ")}`);
  const started = Date.now();
  const { status, tail, failedTests } = await run(stage);
  const ok = status === 0;
  results.push({ name: stage.name, ok, seconds: (Date.now() - started) / 1000, tail, failedTests });
  if (!ok) console.log(`--- ${stage.name} FAILED (exit ${status})`);
}
// CI keeps only the end of the log: a failed stage's own last lines (for a test runner, its list
// of failures) are printed again after the summary, so the reason is never cut off.
for (const r of results.filter((r) => !r.ok)) {
  console.log(`\n=== ${r.name} failed; its last ${r.tail.length} lines:`);
  console.log(r.tail.join("\n"));
}
console.log("\n=== summary");
for (const r of results) {
  console.log(`${r.ok ? "ok  " : "FAIL"} ${r.name.padEnd(16)} ${r.seconds.toFixed(1)}s`);
}
const failed = results.filter((r) => !r.ok);
// The names of failed tests once more, briefly, as the very last lines: what CI shows of a log.
for (const r of failed) {
  for (const line of [...new Set(r.failedTests)].slice(0, 8)) {
    console.log(`${r.name}: ${line}`);
  }
}
console.log(failed.length === 0 ? "all stages passed" : `${failed.length} stage(s) failed`);
process.exit(failed.length === 0 ? 0 : 1);

/** Runs a stage with its output passed through as it comes, keeping its last lines. */
function run(stage: Stage): Promise<{ status: number | string; tail: string[]; failedTests: string[] }> {
  const keep = 120;
  const tail: string[] = [];
  const failedTests: string[] = [];
  const child = spawn(stage.cmd, stage.args, {
    cwd: root,
    stdio: ["inherit", "pipe", "pipe"],
    env: { ...process.env, DENO_NO_UPDATE_CHECK: "1" },
  });
  const keepLines = (lines: string[]) => {
    // Colours are for a terminal; the repeated lines are for a log.
    const plain = lines.map((line) => line.replace(/\x1b\[[0-9;]*m/g, ""));
    tail.push(...plain);
    if (tail.length > keep) tail.splice(0, tail.length - keep);
    failedTests.push(...plain.filter((line) => FAILED_TEST.test(line)).map((line) => line.trim()));
  };
  /** Passes one stream through, line by line into `keepLines`; resolves when it ends. */
  const passThrough = (from: NodeJS.ReadableStream, to: NodeJS.WriteStream) =>
    new Promise<void>((ended) => {
      let partial = "";
      // A character split between two chunks (`✖` is 3 bytes) is decoded whole, with the next.
      const decoder = new TextDecoder();
      from.on("data", (chunk: Buffer) => {
        to.write(chunk);
        const lines = (partial + decoder.decode(chunk, { stream: true })).split("\n");
        partial = lines.pop() ?? "";
        keepLines(lines);
      });
      from.on("end", () => {
        partial += decoder.decode();
        if (partial) keepLines([partial]);
        ended();
      });
    });
  const streamsEnded = Promise.all([
    passThrough(child.stdout, process.stdout),
    passThrough(child.stderr, process.stderr),
  ]);
  return new Promise((done) => {
    child.on("error", (error) => done({ status: error.message, tail, failedTests }));
    child.on("close", async (code, signal) => {
      await streamsEnded;
      done({ status: code ?? signal ?? "unknown", tail, failedTests });
    });
  });
}
