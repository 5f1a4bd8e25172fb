/**
 * The public API, recorded: every name each entry point exports (values and types, as `deno doc`
 * sees them, which is what JSR publishes), recorded in tests/_surface.ts. A name added or removed by
 * accident fails here; a deliberate change updates that record and the README's changelog.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ROOT } from "./_helpers.ts";
import { SURFACE } from "./_surface.ts";

const exportsMap = (JSON.parse(readFileSync(join(ROOT, "deno.json"), "utf8")) as {
  exports: Record<string, string>;
}).exports;

/** Names per entry point, from one `deno doc --json` run over all of them. */
function documentedNames(): Record<string, string[]> {
  const files = Object.values(exportsMap);
  const out = execFileSync(join(ROOT, "node_modules", ".bin", "deno"), ["doc", "--json", ...files], {
    cwd: ROOT,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    stdio: ["ignore", "pipe", "ignore"],
    env: { ...process.env, DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
  });
  const doc = JSON.parse(out) as { nodes: Record<string, { symbols: { name: string }[] }> };
  const byEntry: Record<string, string[]> = {};
  for (const [entry, file] of Object.entries(exportsMap)) {
    const url = new URL(file, `file://${ROOT}/`).href;
    byEntry[entry] = [...new Set((doc.nodes[url]?.symbols ?? []).map((s) => s.name))].sort();
  }
  return byEntry;
}

describe("the public API", () => {
  it("every entry point in deno.json is recorded here, and no other", () => {
    assert.deepEqual(Object.keys(exportsMap).sort(), Object.keys(SURFACE).sort());
  });

  it("each entry point exports exactly the recorded names", { timeout: 60_000 }, () => {
    const actual = documentedNames();
    for (const entry of Object.keys(SURFACE)) {
      const expected = [...SURFACE[entry]].sort();
      const added = actual[entry].filter((name) => !expected.includes(name));
      const removed = expected.filter((name) => !actual[entry].includes(name));
      assert.deepEqual({ entry, added, removed }, { entry, added: [], removed: [] });
    }
  });

  it("the root stays small enough to promise: at most 40 names", () => {
    assert.ok(SURFACE["."].length <= 40, `${SURFACE["."].length} names`);
  });

  it("the runtime values of the root are the recorded ones (nothing exported outside deno doc's view)", async () => {
    const mod = await import("../mod.ts");
    for (const name of Object.keys(mod)) assert.ok(SURFACE["."].includes(name), `unrecorded export ${name}`);
  });
});
