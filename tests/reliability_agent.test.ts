/**
 * Reliability of agent readiness: whatever the server says about contexts and capabilities, and
 * whatever the user types, the answer is a typed error with a hint or the documented fallback
 * (`contextLength: null` and a warning), never a crash and never a claim that was not observed.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { runCli } from "../src/cli_main.ts";
import { type EnsureEvent, ensureReady } from "../src/ensure.ts";
import type { Simulator } from "../src/testing/simulator.ts";
import { ROOT, useSimulators } from "./_helpers.ts";
import { CODER } from "./_fixtures.ts";

const sim = useSimulators();

async function cli(args: string[]): Promise<{ code: number; json: Record<string, unknown>; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await runCli([...args, "--json"], {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    env: () => undefined,
    stderrIsTTY: false,
    cwd: ROOT,
  });
  return { code, json: JSON.parse(stdout), stderr };
}

/** The simulator's REST v1 listing with the first instance's `config` rewritten. */
async function listingWith(s: Simulator, config: unknown): Promise<object> {
  const listing = await (await fetch(`${s.url}/api/v1/models`)).json() as {
    models: { loaded_instances: { config: unknown }[] }[];
  };
  listing.models[0].loaded_instances[0].config = config;
  return listing;
}

describe("reliability (agent): contexts the server reports badly", () => {
  const cases: [string, unknown][] = [
    ["a string", { context_length: "4096" }],
    ["a negative number", { context_length: -4096 }],
    ["zero", { context_length: 0 }],
    ["a fraction", { context_length: 4096.5 }],
    ["absent", {}],
    ["a config that is not an object", "4096"],
    ["a config that is null", null],
  ];
  for (const [what, config] of cases) {
    it(`context ${what}: unknown (null), the instance used as it is, a warning; models says null`, async () => {
      const s = await sim({ models: [CODER], loaded: [{ key: CODER.key, contextLength: 4096 }] });
      s.inject({
        match: "/api/v1/models",
        method: "GET",
        kind: "respond",
        body: await listingWith(s, config),
      });
      const events: EnsureEvent[] = [];
      const result = await ensureReady({
        baseUrl: s.url,
        env: () => undefined,
        model: CODER.key,
        contextLength: 32768,
        onEvent: (e) => events.push(e),
      });
      assert.deepEqual([result.contextLength, result.instanceId, result.actions], [null, CODER.key, [
        "check",
        "list",
      ]]);
      assert.ok(events.some((e) => e.type === "warning" && /does not say what context/.test(e.message)));
      assert.equal(s.requestCount("/api/v1/models/load"), 0, "nothing replaced on a guess");
      const models = await cli(["models", "--url", s.url]);
      assert.equal(models.code, 0);
      const [entry] = models.json.models as { instances: { contextLength: unknown }[] }[];
      assert.deepEqual(entry.instances, [{ id: CODER.key, contextLength: null }]);
    });
  }

  it("a load answer with echo but no load_config: the listing is read instead", async () => {
    const s = await sim({ models: [CODER] });
    s.inject({
      match: "/api/v1/models/load",
      kind: "respond",
      body: { type: "llm", instance_id: CODER.key, status: "loaded", load_time_seconds: 0.5 },
      times: 1,
    });
    const run = await cli(["load", CODER.key, "--context-length", "8192", "--url", s.url]);
    // The bare answer claimed a load the simulator never made: the listing shows no instance.
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.json.contextLength, null);
    assert.match(run.stderr, /does not say what context/);
  });

  it("a load_config whose context_length is a string is not believed", async () => {
    const s = await sim({ models: [CODER] });
    s.inject({
      match: "/api/v1/models/load",
      kind: "respond",
      body: {
        type: "llm",
        instance_id: CODER.key,
        status: "loaded",
        load_config: { context_length: "32768" },
      },
      times: 1,
    });
    const run = await cli(["load", CODER.key, "--context-length", "8192", "--url", s.url]);
    // Not believed: the listing is read instead, and it shows no instance behind that answer.
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.json.contextLength, null);
    assert.ok(s.requestCount("/api/v1/models", "GET") >= 2, "the listing was read after the load");
  });
});

describe("reliability (agent): what the user types", () => {
  const bad: [string, string[], RegExp][] = [
    ["--context-length 0", ["--context-length", "0"], /--context-length/],
    ["--context-length -1", ["--context-length", "-1"], /--context-length/],
    ["--context-length 1.5", ["--context-length", "1.5"], /--context-length/],
    ["--context-length 1e9", ["--context-length", "1e9"], /--context-length/],
    ["--context-length abc", ["--context-length", "abc"], /--context-length/],
    ["--context-length ''", ["--context-length", ""], /--context-length/],
    ["--require ''", ["--require", ""], /--require/],
    ["--require ,", ["--require", ","], /--require/],
    ["--require gpu", ["--require", "gpu"], /unknown capability "gpu"/],
    ["--require tool_use (LM Studio's spelling)", ["--require", "tool_use"], /unknown capability "tool_use"/],
  ];
  for (const [what, args, message] of bad) {
    it(`${what}: exit 2, USAGE with a hint, no request`, async () => {
      const s = await sim({ models: [CODER] });
      const run = await cli(["ensure", CODER.key, ...args, "--url", s.url]);
      assert.equal(run.code, 2);
      const error = run.json.error as { code: string; message: string; hint?: string };
      assert.equal(error.code, "USAGE");
      assert.match(error.message, message);
      assert.ok(error.hint && error.hint.length > 0);
      assert.equal(s.requests.length, 0);
    });
  }

  it("--require repeated (as one list or several flags) is folded, not an error", async () => {
    const s = await sim({ models: [CODER] });
    const run = await cli([
      "ensure",
      CODER.key,
      "--require",
      "tool-use,tool-use",
      "--require",
      "tool-use",
      "--url",
      s.url,
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.json.loaded, true);
  });

  it("a context above the model's maximum: exit 9 before loading, naming the maximum", async () => {
    const s = await sim({ models: [CODER] });
    const run = await cli(["ensure", CODER.key, "--context-length", "1000000", "--url", s.url]);
    assert.equal(run.code, 9);
    assert.match((run.json.error as { message: string }).message, /at most 131072 tokens/);
    assert.equal(s.requestCount("/api/v1/models/load"), 0);
    assert.deepEqual(s.state.instances(), []);
  });
});
