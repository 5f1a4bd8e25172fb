import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import * as mod from "../mod.ts";
import { VERSION } from "../src/version.ts";
import { ROOT } from "./_helpers.ts";

const deno = JSON.parse(readFileSync(join(ROOT, "deno.json"), "utf8"));
const dev = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));

describe("one source of truth", () => {
  it("the version in src/version.ts is deno.json's", () => {
    assert.equal(VERSION, deno.version);
    assert.equal(mod.VERSION, deno.version);
  });

  it("every deno.json export exists and is published", () => {
    for (const [name, file] of Object.entries(deno.exports as Record<string, string>)) {
      assert.ok(existsSync(join(ROOT, file)), `${name} → ${file}`);
      assert.ok(deno.publish.include.includes(file.replace(/^\.\//, "")), `${file} in publish.include`);
    }
  });

  it("the root package.json pins only zod and dax as runtime dependencies, and has no version of its own", () => {
    assert.deepEqual(Object.keys(dev.dependencies).sort(), ["dax", "zod"]);
    assert.equal(dev.version, undefined);
  });

  it("mod.ts only re-exports", () => {
    const code = readFileSync(join(ROOT, "mod.ts"), "utf8").replace(/\/\*\*[\s\S]*?\*\//g, "").trim();
    for (const statement of code.split(/;\s*/).filter((s) => s.trim() !== "")) {
      assert.match(statement.trim(), /^export (type )?\{[\s\S]*\} from "\.\/src\/[a-z_]+\.ts"$/);
    }
  });

  it("the CLI names the same commands as the library", () => {
    assert.deepEqual([...mod.CLI_COMMANDS], [
      "check",
      "models",
      "ensure",
      "download",
      "load",
      "unload",
      "wait",
      "which-lms",
    ]);
  });
});
