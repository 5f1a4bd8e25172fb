/**
 * The README's examples run: the library example (section "Library"), the agent recipe ("Ready for a
 * coding agent"), the tool loop ("Test your agent against the simulator") and the testing-kit
 * examples (section "Testing kit") are cut out of README.md by their section heading, their package imports
 * pointed at this checkout, and run as a process on the runtime under test (Node through tsx, Deno,
 * Bun) against the simulator. What they print and the exit code they leave are checked.
 */
import assert from "node:assert/strict";
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { type CliRun, closedPortUrl, ROOT, runScript, useSimulators } from "./_helpers.ts";

const sim = useSimulators();
const README = readFileSync(join(ROOT, "README.md"), "utf8");
const PACKAGE = JSON.parse(readFileSync(join(ROOT, "deno.json"), "utf8")) as {
  name: string;
  exports: Record<string, string>;
};
const T = { timeout: 60_000 };

/** The ```ts blocks of the README section whose `## ` heading starts with `heading`, in order. */
function tsBlocks(heading: string): string[] {
  const section = README.split(/^## /m).find((s) => s.startsWith(heading));
  assert.ok(section, `README has a section "## ${heading}…"`);
  const blocks = [...section.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
  assert.ok(blocks.length > 0, `a ts example under "## ${heading}"`);
  return blocks;
}

/**
 * Points every import of the package (`@vtcode/lmstudio`, `@vtcode/lmstudio/testing`, …) at this
 * checkout's entry file, through deno.json's exports, as an absolute file URL.
 */
function againstCheckout(code: string): string {
  const name = PACKAGE.name.replace("/", "\\/");
  return code.replace(new RegExp(`(["'])(${name}(?:\\/[\\w-]+)?)\\1`, "g"), (_, quote, specifier: string) => {
    const subpath = `.${specifier.slice(PACKAGE.name.length)}`;
    const file = PACKAGE.exports[subpath];
    assert.ok(file, `deno.json exports ${subpath} (imported as ${specifier})`);
    return `${quote}${pathToFileURL(join(ROOT, file)).href}${quote}`;
  });
}

/**
 * Writes the example to a temp file and runs it on this runtime, in that temp folder; `inspect`
 * sees the folder before it is removed.
 */
async function runExample(
  code: string,
  env: Record<string, string | undefined> = {},
  inspect: (dir: string) => void = () => {},
): Promise<CliRun> {
  const dir = mkdtempSync(join(tmpdir(), "readme-example-"));
  try {
    const file = join(dir, "example.ts");
    // An ES module, as in a user's project (on Node a .ts file is otherwise CommonJS: no top-level await).
    writeFileSync(join(dir, "package.json"), '{ "type": "module" }\n');
    writeFileSync(file, againstCheckout(code));
    assert.doesNotMatch(
      readFileSync(file, "utf8"),
      new RegExp(`["']${PACKAGE.name}`),
      "every import rewritten",
    );
    // The temp dir as the working directory: no vtcode.toml of this repository is found from there.
    const run = await runScript(file, [], { env: { NO_COLOR: "1", ...env }, cwd: dir, timeoutMs: 50_000 });
    inspect(dir);
    return run;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Whether an executable `name` is on PATH. */
function onPath(name: string): boolean {
  return (process.env.PATH ?? "").split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

describe("README examples run", () => {
  const [library] = tsBlocks("Library");
  // The model the example asks for, so that the simulator's catalog has it (the default when none).
  const model = /\bmodel: "([^"]+)"/.exec(library)?.[1] ?? "openai/gpt-oss-20b";

  it("Library: ensureReady downloads and loads the model, prints the actions, exits 0", T, async () => {
    const s = await sim({ catalog: [{ key: model }], download: { mode: "time", bytesPerSecond: 40e9 } });
    const run = await runExample(library, { LMSTUDIO_URL: s.url });
    assert.equal(run.code, 0, run.stderr);
    const line = run.stdout.trim().split("\n").at(-1) ?? "";
    assert.deepEqual(line.match(/(?<=["'])[a-z-]+(?=["'])/g), ["check", "list", "download", "load"], line);
    assert.ok(line.includes(`${s.url}/v1`), line);
    assert.ok(line.endsWith(model), line);
    assert.match(run.stderr, /^100\.0$/m, "download progress on stderr");
    assert.deepEqual(s.state.loaded().map((i) => i.key), [model]);
  });

  it("Library: when LM Studio is not there it says why on stderr and exits 1", T, async () => {
    const run = await runExample(library, { LMSTUDIO_URL: await closedPortUrl() });
    assert.equal(run.code, 1, run.stderr);
    assert.equal(run.stdout, "");
    assert.match(run.stderr, /^SERVER_UNREACHABLE /m);
  });

  it(
    "Ready for a coding agent: the recipe replaces a 4096 instance and prints baseUrl/v1, id, context",
    T,
    async () => {
      const [recipe] = tsBlocks("Ready for a coding agent");
      const key = /\bmodel: "([^"]+)"/.exec(recipe)?.[1] ?? "";
      const s = await sim({
        models: [{ key, trainedForToolUse: true }],
        loaded: [{ key, contextLength: 4096 }],
      });
      const run = await runExample(recipe, { LMSTUDIO_URL: s.url });
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stdout, `${s.url}/v1 ${key} 32768\n`);
      assert.deepEqual(s.state.instances().map((i) => [i.id, i.contextLength]), [[key, 32768]]);
    },
  );

  it("Test your agent: the tool loop against a scripted simulator prints the final answer", T, async () => {
    const [loop] = tsBlocks("Test your agent against the simulator");
    // The example imports the openai SDK as a user's project would: point it at this checkout's copy.
    const sdk = pathToFileURL(join(ROOT, "node_modules", "openai", "index.mjs")).href;
    const run = await runExample(loop.replace(/from "openai";/, `from ${JSON.stringify(sdk)};`));
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, "The README says hello.\n");
  });

  // Codex is a 400 MB download, so not a dependency: this runs where `codex` is on PATH (by hand).
  const codex = onPath("codex");
  it(
    "Test your agent: the Codex example runs Codex against the simulator (where codex is on PATH)",
    { ...T, skip: !codex && "codex is not on PATH" },
    async () => {
      const [, codexExample] = tsBlocks("Test your agent against the simulator");
      let proof: string | undefined;
      const run = await runExample(codexExample, {}, (dir) => {
        proof = existsSync(join(dir, "proof.txt")) ? readFileSync(join(dir, "proof.txt"), "utf8") : undefined;
      });
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /Done\./);
      assert.equal(proof, "hi\n", "Codex ran the scripted exec_command in the example's folder");
    },
  );

  tsBlocks("Testing kit").forEach((example, index) => {
    it(`Testing kit, example ${index + 1}: runs against its own simulator and exits 0`, T, async () => {
      const run = await runExample(example);
      assert.equal(run.code, 0, run.stderr);
      if (index === 0) {
        // `requestCount(status polls)` and `lms.calls()`: REST v1 did the download, so lms never ran.
        assert.match(run.stdout, /^[1-9]\d* \[\]\n$/);
      } else {
        assert.notEqual(run.stdout, "", "it prints what it shows");
      }
    });
  });
});
