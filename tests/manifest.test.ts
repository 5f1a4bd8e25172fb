import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { CLI_COMMANDS } from "../src/cli_args.ts";
import { VERSION } from "../src/version.ts";
import { ROOT, runCliProcess } from "./_helpers.ts";

const deno = JSON.parse(readFileSync(join(ROOT, "deno.json"), "utf8"));
const dev = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));

/** The first word of each row of the first table under `## <heading>` in the README. */
function readmeTableCommands(heading: string): string[] {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const section = readme.split(/^## /m).find((s) => s.startsWith(`${heading}\n`));
  assert.ok(section, `README has a "## ${heading}" section`);
  const rows = section.split("\n\n").find((block) => block.startsWith("|"));
  assert.ok(rows, `a table under "## ${heading}"`);
  return rows.split("\n").slice(2).map((row) => /^\|\s*`([a-z-]+)/.exec(row)?.[1] ?? `unparsed: ${row}`);
}

describe("one source of truth", () => {
  it("the library's VERSION and the CLI's --version (run as a process) are deno.json's version", async () => {
    assert.equal(VERSION, deno.version);
    const run = await runCliProcess(["--version"]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, `${deno.version}\n`);
  });

  it("every deno.json export exists and is published", () => {
    for (const [name, file] of Object.entries(deno.exports as Record<string, string>)) {
      assert.ok(existsSync(join(ROOT, file)), `${name} → ${file}`);
      assert.ok(deno.publish.include.includes(file.replace(/^\.\//, "")), `${file} in publish.include`);
    }
  });

  it("the root package.json pins only dax, smol-toml and zod as runtime dependencies, and has no version", () => {
    assert.deepEqual(Object.keys(dev.dependencies).sort(), ["dax", "smol-toml", "zod"]);
    assert.equal(dev.version, undefined);
  });

  it("mod.ts only re-exports", () => {
    const code = readFileSync(join(ROOT, "mod.ts"), "utf8").replace(/\/\*\*[\s\S]*?\*\//g, "").trim();
    for (const statement of code.split(/;\s*/).filter((s) => s.trim() !== "")) {
      assert.match(statement.trim(), /^export (type )?\{[\s\S]*\} from "\.\/src\/[a-z_]+\.ts"$/);
    }
  });

  it("the CLI's --help (run as a process), its parser and the README's contract name the same commands", async () => {
    const run = await runCliProcess(["--help"]);
    assert.equal(run.code, 0, run.stderr);
    // A command starts a line at two spaces; deeper-indented lines continue a description.
    const commands = run.stdout.split(/\nCommands:\n/)[1]?.split("\n\n")[0] ?? "";
    const listed = [...commands.matchAll(/^ {2}(\S+)/gm)].map((m) => m[1]);
    assert.deepEqual(listed, [...CLI_COMMANDS], "--help lists what the parser accepts, in order");
    assert.deepEqual(readmeTableCommands("CLI"), [...CLI_COMMANDS], "the README's command table");
  });
});
