/**
 * After a load, the context LM Studio actually gave is read back (REST v1 `echo_load_config`, else
 * the listing or `lms ps`) and held against what was asked; `null` with a warning only where
 * neither the server nor `lms` can tell (spec "Agent readiness"). This file covers the servers
 * without REST v1: LM Studio 0.3 (REST v0, `lms` loads) and OpenAI-only servers, where a JIT load
 * cannot set a context and `lms`, on this machine, can. Every test asserts the end state: what is
 * loaded, with which context, how many instances, and what `lms` was asked.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type EnsureEvent, ensureReady } from "../src/ensure.ts";
import type { Simulator, SimulatorState } from "../src/testing/simulator.ts";
import { GPT } from "./_fixtures.ts";
import { rejectsWith } from "./_helpers.ts";
import { cli, collectUnhandledRejections, type LmsRig, withLmsRig } from "./_reliability.ts";

collectUnhandledRejections();

const posix = process.platform !== "win32";
const T = { timeout: 20_000 };

/** An OpenAI-only server (no REST API: LM Studio before 0.3.6) with GPT downloaded. */
const OPENAI_ONLY: SimulatorState = { version: "0.2", models: [GPT], loaded: [], catalog: [] };
/** LM Studio 0.3 (REST v0) with GPT downloaded, nothing loaded. */
const REST_V0: SimulatorState = { version: "0.3", models: [GPT], loaded: [], catalog: [] };

function instancesOf(s: Simulator): { id: string; contextLength: number; loadedBy: string }[] {
  return s.state.instances().map(({ id, contextLength, loadedBy }) => ({ id, contextLength, loadedBy }));
}

/** The `lms` command lines run so far, as one string each. */
function lmsCalls(r: LmsRig): string[] {
  return r.fake.calls().map((argv) => argv.join(" "));
}

async function ensure(r: LmsRig, contextLength?: number) {
  const events: EnsureEvent[] = [];
  const result = await ensureReady({
    client: r.client,
    model: GPT.key,
    contextLength,
    onEvent: (e) => events.push(e),
  });
  return { result, warnings: events.filter((e) => e.type === "warning").map((e) => e.message) };
}

/** `vtcode-lmstudio ensure --json --context-length 8192` against the rig's server and `lms`. */
function ensureCli(r: LmsRig, ...flags: string[]) {
  return cli([
    "ensure",
    "--json",
    ...flags,
    "--url",
    r.sim.url,
    "--lms",
    r.fake.path,
    "--context-length",
    "8192",
  ]);
}

const warmUps = (s: Simulator) => s.requestCount("/v1/responses") + s.requestCount("/v1/chat/completions");

describe(
  "OpenAI-only server on this machine, with lms",
  { skip: !posix && "the fake lms is a node script" },
  () => {
    it(
      "a context asked: loads with `lms load -c n` (JIT cannot set one) and reads it back from lms ps",
      T,
      async () => {
        await withLmsRig({ state: OPENAI_ONLY }, async (r) => {
          const { result, warnings } = await ensure(r, 8192);
          assert.deepEqual([result.instanceId, result.contextLength], [GPT.key, 8192]);
          assert.deepEqual(warnings, []);
          assert.deepEqual(instancesOf(r.sim), [{ id: GPT.key, contextLength: 8192, loadedBy: "lms" }]);
          assert.ok(lmsCalls(r).includes(`load -y ${GPT.key} --context-length 8192`), lmsCalls(r).join("\n"));
          assert.equal(warmUps(r.sim), 0, "no JIT warm-up");
        });
      },
    );

    it(
      "LM Studio giving less than asked is MODEL_UNSUITABLE naming both numbers; what it loaded stays",
      T,
      async () => {
        await withLmsRig({ state: { ...OPENAI_ONLY, memory: { maxContextLength: 12288 } } }, async (r) => {
          await rejectsWith(
            ensure(r, 32768),
            "MODEL_UNSUITABLE",
            /context of 12288 tokens, less than the 32768 asked/,
          );
          assert.deepEqual(instancesOf(r.sim), [{ id: GPT.key, contextLength: 12288, loadedBy: "lms" }]);
        });
      },
    );

    it(
      "an instance JIT-loaded with too little is replaced: unloaded, then loaded with n, one instance left",
      T,
      async () => {
        await withLmsRig(
          { state: { ...OPENAI_ONLY, loaded: [{ key: GPT.key, contextLength: 4096 }] } },
          async (r) => {
            const { result } = await ensure(r, 8192);
            assert.deepEqual(result.actions, ["check", "list", "unload", "load"]);
            assert.equal(result.contextLength, 8192);
            assert.deepEqual(instancesOf(r.sim), [{ id: GPT.key, contextLength: 8192, loadedBy: "lms" }]);
            const calls = lmsCalls(r);
            assert.ok(
              calls.indexOf(`unload ${GPT.key}`) < calls.indexOf(`load -y ${GPT.key} --context-length 8192`),
            );
          },
        );
      },
    );

    it("an instance with enough is used as it is: nothing loaded, no warm-up", T, async () => {
      await withLmsRig(
        { state: { ...OPENAI_ONLY, loaded: [{ key: GPT.key, contextLength: 16384 }] } },
        async (r) => {
          const result = await r.client.loadModel(GPT.key, { contextLength: 8192 });
          assert.deepEqual(
            [result.alreadyLoaded, result.route, result.instanceId, result.contextLength],
            [true, "none", GPT.key, 16384],
          );
          assert.deepEqual(instancesOf(r.sim), [{ id: GPT.key, contextLength: 16384, loadedBy: "state" }]);
          assert.ok(!lmsCalls(r).some((c) => c.startsWith("load")), lmsCalls(r).join("\n"));
          assert.equal(warmUps(r.sim), 0);
        },
      );
    });

    it("…and ensure says so: no load among its actions", T, async () => {
      await withLmsRig(
        { state: { ...OPENAI_ONLY, loaded: [{ key: GPT.key, contextLength: 16384 }] } },
        async (r) => {
          const { result } = await ensure(r, 8192);
          assert.deepEqual(result.actions, ["check", "list"]);
          assert.deepEqual([result.instanceId, result.contextLength], [GPT.key, 16384]);
        },
      );
    });

    it(
      "no context asked: a JIT warm-up as before, and the context it got is read back from lms ps",
      T,
      async () => {
        await withLmsRig({ state: { ...OPENAI_ONLY, defaultContextLength: 4096 } }, async (r) => {
          const result = await r.client.loadModel(GPT.key);
          assert.deepEqual([result.route, result.contextLength, result.warnings], ["jit", 4096, []]);
          assert.deepEqual(instancesOf(r.sim), [{ id: GPT.key, contextLength: 4096, loadedBy: "jit" }]);
          assert.deepEqual(lmsCalls(r), ["ps --json"]);
        });
      },
    );

    it("an lms whose ps prints garbage cannot tell: JIT, contextLength null and a warning", T, async () => {
      await withLmsRig({ state: OPENAI_ONLY, script: { ps: { garbage: true } } }, async (r) => {
        const { result, warnings } = await ensure(r, 8192);
        assert.equal(result.contextLength, null);
        assert.ok(
          warnings.some((w) => /does not say what context .* cannot be held against the 8192 asked/.test(w)),
          warnings.join("\n"),
        );
        assert.deepEqual(instancesOf(r.sim), [{ id: GPT.key, contextLength: 4096, loadedBy: "jit" }]);
      });
    });

    it(
      "the CLI: exit 9 MODEL_UNSUITABLE naming both numbers (the audit's repro, with too little memory)",
      T,
      async () => {
        await withLmsRig({ state: { ...OPENAI_ONLY, memory: { maxContextLength: 4096 } } }, async (r) => {
          const run = await ensureCli(r);
          assert.equal(run.code, 9, run.stderr);
          assert.equal(run.json?.error?.code, "MODEL_UNSUITABLE");
          assert.match(run.json!.error!.message, /context of 4096 tokens, less than the 8192 asked/);
          assert.deepEqual(instancesOf(r.sim), [{ id: GPT.key, contextLength: 4096, loadedBy: "lms" }]);
        });
      },
    );
  },
);

describe(
  "OpenAI-only server where lms cannot tell",
  { skip: !posix && "the fake lms is a node script" },
  () => {
    it("no lms to be found: JIT, contextLength null and a warning", T, async () => {
      await withLmsRig({ state: OPENAI_ONLY, client: { lmsPath: "/nonexistent/dir/lms" } }, async (r) => {
        const { result, warnings } = await ensure(r, 8192);
        assert.equal(result.contextLength, null);
        assert.ok(warnings.some((w) => /does not say what context/.test(w)), warnings.join("\n"));
        assert.deepEqual(instancesOf(r.sim), [{ id: GPT.key, contextLength: 4096, loadedBy: "jit" }]);
        assert.deepEqual(lmsCalls(r), []);
      });
    });

    it("a server on another machine: JIT, and lms (which acts only here) is never asked", T, async () => {
      await withLmsRig({ state: OPENAI_ONLY, client: { local: false } }, async (r) => {
        const { result } = await ensure(r, 8192);
        assert.equal(result.contextLength, null);
        assert.deepEqual(instancesOf(r.sim), [{ id: GPT.key, contextLength: 4096, loadedBy: "jit" }]);
        assert.deepEqual(lmsCalls(r), []);
      });
    });
  },
);

describe("LM Studio 0.3: an lms ps that fails after lms load", {
  skip: !posix && "the fake lms is a node script",
}, () => {
  it("falls back to the listing (REST v0 loaded_context_length): the load stands", T, async () => {
    await withLmsRig({ state: REST_V0, script: { ps: { garbage: true } } }, async (r) => {
      const { result, warnings } = await ensure(r, 8192);
      assert.deepEqual([result.instanceId, result.contextLength], [GPT.key, 8192]);
      assert.deepEqual(warnings, []);
      assert.deepEqual(instancesOf(r.sim), [{ id: GPT.key, contextLength: 8192, loadedBy: "lms" }]);
      assert.ok(lmsCalls(r).includes("ps --json"), "lms ps was asked first");
    });
  });

  it("the listing then shows less than asked: MODEL_UNSUITABLE naming both numbers", T, async () => {
    const state = { ...REST_V0, memory: { maxContextLength: 12288 } };
    await withLmsRig({ state, script: { ps: { exitCode: 1, stderr: "Error: boom\n" } } }, async (r) => {
      await rejectsWith(
        r.client.loadModel(GPT.key, { contextLength: 32768 }),
        "MODEL_UNSUITABLE",
        /context of 12288 tokens, less than the 32768 asked/,
      );
      assert.deepEqual(instancesOf(r.sim), [{ id: GPT.key, contextLength: 12288, loadedBy: "lms" }]);
    });
  });

  it("the CLI: exit 0 with the context, not INVALID_RESPONSE (the audit's repro)", T, async () => {
    await withLmsRig({ state: REST_V0, script: { ps: { garbage: true } } }, async (r) => {
      const run = await ensureCli(r, "-q");
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(
        [run.json?.ok, (run.json as { contextLength?: unknown }).contextLength],
        [true, 8192],
      );
    });
  });

  it(
    "an lms ps that hangs is given up on after a short wait: the listing tells, the caller's deadline is not used up",
    T,
    async () => {
      await withLmsRig({ state: REST_V0, script: { ps: { hang: true } } }, async (r) => {
        const result = await r.client.loadModel(GPT.key, { contextLength: 8192, timeoutMs: 20_000 });
        assert.deepEqual([result.route, result.contextLength], ["lms", 8192]);
        const listed = await r.client.listModels({ timeoutMs: 20_000 });
        assert.equal(listed.find((m) => m.id === GPT.key)?.loaded, true);
      });
    },
  );

  it("…while the caller's own deadline, shorter than that wait, is still TIMEOUT", T, async () => {
    await withLmsRig({ state: REST_V0, script: { ps: { hang: true } } }, async (r) => {
      await rejectsWith(r.client.loadModel(GPT.key, { contextLength: 8192, timeoutMs: 1000 }), "TIMEOUT");
    });
  });
});
