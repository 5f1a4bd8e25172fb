/**
 * The whole test command (`npm test`): static checks, the one test suite on Node, Deno and Bun,
 * then the npm build with a smoke run of the packed tarball. Runs every stage, prints a summary,
 * exits non-zero if any stage failed.
 *
 *   node --import tsx scripts/test_all.ts [--only <stage,...>]
 */
import { spawnSync } from "node:child_process";
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

const onlyIndex = process.argv.indexOf("--only");
const only = onlyIndex === -1 ? undefined : new Set(process.argv[onlyIndex + 1]?.split(","));
const results: { name: string; ok: boolean; seconds: number }[] = [];
for (const stage of stages) {
  if (only && !only.has(stage.name)) continue;
  console.log(`\n=== ${stage.name}: ${[stage.cmd.replace(root + "/", ""), ...stage.args].join(" ")}`);
  const started = Date.now();
  const run = spawnSync(stage.cmd, stage.args, {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, DENO_NO_UPDATE_CHECK: "1" },
  });
  const ok = run.status === 0;
  results.push({ name: stage.name, ok, seconds: (Date.now() - started) / 1000 });
  if (!ok) console.log(`--- ${stage.name} FAILED (exit ${run.status ?? run.signal})`);
}
console.log("\n=== summary");
for (const r of results) {
  console.log(`${r.ok ? "ok  " : "FAIL"} ${r.name.padEnd(16)} ${r.seconds.toFixed(1)}s`);
}
const failed = results.filter((r) => !r.ok);
console.log(failed.length === 0 ? "all stages passed" : `${failed.length} stage(s) failed`);
process.exit(failed.length === 0 ? 0 : 1);
