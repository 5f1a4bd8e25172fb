/**
 * Reliability matrix, part 2 (issue 8): every way `lms` can fail — missing, not executable, failing,
 * lying, hanging, killed, printing garbage or megabytes, refusing a name — ends in the documented
 * code with a hint, and no `lms` process (nor anything it started) survives: checked in the process
 * table after every case.
 */
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { LMStudioClient } from "../src/client.ts";
import { ensureReady } from "../src/ensure.ts";
import { Lms } from "../src/lms.ts";
import type { FakeLmsScript } from "../src/testing/fake_lms.ts";
import { type SimulatorState, startSimulator } from "../src/testing/simulator.ts";
import { GPT, NEW, QWEN } from "./_fixtures.ts";
import { rejectsWith, until } from "./_helpers.ts";
import {
  assertNoUnhandledRejections,
  collectUnhandledRejections,
  type LmsRig,
  withLmsRig,
} from "./_reliability.ts";

collectUnhandledRejections();

const posix = process.platform !== "win32";

/** Runs `body` against a 0.3 simulator and a scripted fake `lms`, which must have run; then nothing of it may run. */
function withFake(
  script: FakeLmsScript,
  body: (rig: LmsRig) => Promise<void>,
  state: SimulatorState = {},
  simulatorBacked = true,
): Promise<void> {
  return withLmsRig({ script, state, simulatorBacked }, async (rig) => {
    await body(rig);
    assert.ok(rig.fake.calls().length > 0, "lms was run");
  });
}

/** A temp dir with a file named `lms` of the given mode (or none). */
function lmsFile(mode: number | null): { dir: string; path: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), "rel-lms-"));
  const path = join(dir, "lms");
  if (mode !== null) {
    writeFileSync(path, "#!/bin/sh\necho should-not-run\n");
    chmodSync(path, mode);
  }
  return { dir, path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

const T = { timeout: 30_000 };

/**
 * The deadline of a call whose `lms` answers (an error, garbage, a signal): only a bound on a hang
 * the test does not expect. The fake `lms` is a node script that a loaded machine may take seconds
 * to start, once per call it makes, and the answer, not the time, is what these tests check.
 */
const ANSWER_DEADLINE_MS = 20_000;

/**
 * The deadline of the hang tests: far beyond the time the fake `lms` (a node script) needs to start
 * (spawn, `env`, node: 150–430 ms, once 2.4 s, on a loaded machine), so that the deadline kills an
 * `lms` that is running, never one that has not run a line yet.
 */
const HANG_DEADLINE_MS = 3000;

/**
 * Awaits `running` (a call whose `lms` hangs) and expects TIMEOUT; first waits until `ran()` says the
 * fake `lms` got as far as it must before the deadline (or until the call ended), so that a deadline
 * that came first fails as such instead of passing without anything having hung.
 */
async function timesOutOnceRunning(
  running: Promise<unknown>,
  ran: () => boolean,
  what: string,
): Promise<void> {
  let settled = false;
  running.then(() => (settled = true), () => (settled = true));
  await until(`${what} (or the call to end)`, () => ran() || settled);
  assert.ok(ran(), `the call ended before ${what}`);
  await rejectsWith(running, "TIMEOUT");
}

describe("reliability: lms faults", { skip: !posix && "POSIX process table" }, () => {
  describe("missing", () => {
    it("the configured path does not exist → LMS_NOT_FOUND", T, async () => {
      const sim = await startSimulator({ version: "0.3", catalog: [NEW] });
      try {
        const client = new LMStudioClient({
          baseUrl: sim.url,
          lmsPath: "/nonexistent/dir/lms",
          env: () => undefined,
        });
        await rejectsWith(
          client.downloadModel(NEW.key, { timeoutMs: ANSWER_DEADLINE_MS }),
          "LMS_NOT_FOUND",
          /does not exist/,
        );
      } finally {
        await sim.close();
      }
    });

    it(
      "discovery finds no lms on PATH nor in LM Studio's homes → LMS_NOT_FOUND naming where it looked",
      T,
      async () => {
        const sim = await startSimulator({ version: "0.3", models: [GPT] });
        const env: Record<string, string> = { PATH: "/nonexistent-bin", HOME: "/nonexistent-home" };
        try {
          const client = new LMStudioClient({ baseUrl: sim.url, env: (name) => env[name] });
          // A context is what needs `lms` on 0.3 (without one, a JIT warm-up loads the model).
          const error = await rejectsWith(
            client.loadModel(GPT.key, { timeoutMs: ANSWER_DEADLINE_MS, contextLength: 8192 }),
            "LMS_NOT_FOUND",
          );
          assert.match(error.message, /nonexistent-home/);
          assert.match(error.hint!, /lmstudio\.ai/);
        } finally {
          await sim.close();
        }
      },
    );

    it("the binary vanished after discovery → LMS_NOT_FOUND from the spawn", T, async () => {
      const file = lmsFile(0o755);
      try {
        const lms = new Lms(file.path);
        rmSync(file.path);
        await rejectsWith(lms.ps({ timeoutMs: ANSWER_DEADLINE_MS }), "LMS_NOT_FOUND", /Could not run lms/);
      } finally {
        file.remove();
      }
    });
  });

  describe("not executable", () => {
    it("the configured lms has no execute bit → LMS_NOT_FOUND with a chmod hint", T, async () => {
      const file = lmsFile(0o644);
      const sim = await startSimulator({ version: "0.3", catalog: [NEW] });
      try {
        const client = new LMStudioClient({ baseUrl: sim.url, lmsPath: file.path, env: () => undefined });
        const error = await rejectsWith(
          client.downloadModel(NEW.key, { timeoutMs: ANSWER_DEADLINE_MS }),
          "LMS_NOT_FOUND",
        );
        assert.match(error.hint!, /chmod \+x/);
      } finally {
        await sim.close();
        file.remove();
      }
    });

    it("spawning a file without the execute bit → LMS_NOT_FOUND (EACCES) with a chmod hint", T, async () => {
      const file = lmsFile(0o644);
      try {
        const error = await rejectsWith(
          new Lms(file.path).version({ timeoutMs: ANSWER_DEADLINE_MS }),
          "LMS_NOT_FOUND",
        );
        assert.match(error.hint!, /chmod \+x/);
      } finally {
        file.remove();
      }
    });
  });

  describe("exits non-zero with stderr", () => {
    it("lms get → DOWNLOAD_FAILED carrying lms's error line", T, async () => {
      await withFake(
        { get: { exitCode: 1, stderr: "Error: Not enough disk space to download the model\n" } },
        async (r) => {
          await rejectsWith(
            r.client.downloadModel(NEW.key, { timeoutMs: ANSWER_DEADLINE_MS }),
            "DOWNLOAD_FAILED",
            /Not enough disk space/,
          );
        },
      );
    });

    it("lms load → LOAD_FAILED carrying lms's error line", T, async () => {
      await withFake(
        { load: { exitCode: 1, stderr: "Error: Failed to load model\n  Out of memory\n" } },
        async (r) => {
          await rejectsWith(
            r.client.loadModel(GPT.key, { timeoutMs: ANSWER_DEADLINE_MS }),
            "LOAD_FAILED",
            /Out of memory/,
          );
        },
      );
    });

    it("lms server start → SERVER_UNREACHABLE", T, async () => {
      const script = {
        "server start": { exitCode: 1, stderr: "Error: Failed to verify the server is running.\n" },
      };
      await withFake(script, async (r) => {
        await rejectsWith(
          r.client.startServer({ timeoutMs: ANSWER_DEADLINE_MS }),
          "SERVER_UNREACHABLE",
          /Failed to verify/,
        );
      }, { serverRunning: false });
    });

    it("lms cannot reach the LM Studio service → SERVER_UNREACHABLE", T, async () => {
      await withFake(
        {},
        async (r) => {
          await rejectsWith(
            r.client.unloadModel(QWEN.key, { timeoutMs: ANSWER_DEADLINE_MS }),
            "SERVER_UNREACHABLE",
            /Failed to start or connect/,
          );
        },
        {},
        false,
      );
    });
  });

  describe("exits 0 but did nothing", () => {
    it("lms get prints nothing → DOWNLOAD_FAILED", T, async () => {
      await withFake({ get: { exitCode: 0 } }, async (r) => {
        await rejectsWith(
          r.client.downloadModel(NEW.key, { timeoutMs: ANSWER_DEADLINE_MS }),
          "DOWNLOAD_FAILED",
          /did not report/,
        );
      });
    });

    it("lms load prints nothing and loads nothing → LOAD_FAILED", T, async () => {
      await withFake({ load: { exitCode: 0 } }, async (r) => {
        await rejectsWith(r.client.loadModel(GPT.key, { timeoutMs: ANSWER_DEADLINE_MS }), "LOAD_FAILED");
        assert.equal(r.sim.state.loaded().some((i) => i.key === GPT.key), false);
      });
    });

    it(
      "lms get says it downloaded, but the server does not have the model → MODEL_NOT_FOUND",
      T,
      async () => {
        await withFake({ get: { noop: true } }, async (r) => {
          await rejectsWith(
            ensureReady({ client: r.client, model: NEW.key, timeoutMs: ANSWER_DEADLINE_MS }),
            "MODEL_NOT_FOUND",
            /does not list it/,
          );
        });
      },
    );

    it("lms unload says it unloaded, but the model stays loaded → LOAD_FAILED", T, async () => {
      await withFake({ unload: { noop: true } }, async (r) => {
        await rejectsWith(
          r.client.unloadModel(QWEN.key, { timeoutMs: ANSWER_DEADLINE_MS }),
          "LOAD_FAILED",
          /still loaded/,
        );
      });
    });
  });

  describe("hangs (killed at the deadline)", () => {
    // The deadline must kill an `lms` that is surely running, and the fake takes a while to start (see
    // HANG_DEADLINE_MS): each case first waits until the fake has run as far as it must.
    it("lms get hangs → TIMEOUT", T, async () => {
      await withFake({ get: { hang: true } }, async (r) => {
        const running = r.client.downloadModel(NEW.key, { timeoutMs: HANG_DEADLINE_MS });
        await timesOutOnceRunning(running, () => r.fake.calls().length > 0, "lms to run");
      });
    });

    it("lms load hangs with a child of its own → TIMEOUT, and the child dies too", T, async () => {
      await withFake({ load: { hangWithChild: true } }, async (r) => {
        const running = r.client.loadModel(GPT.key, { timeoutMs: HANG_DEADLINE_MS });
        await timesOutOnceRunning(running, () => r.fake.pids().length >= 2, "lms and its child to run");
        assert.equal(r.fake.pids().length, 2, "lms and its child both ran");
      });
    });

    it("lms server start hangs → TIMEOUT", T, async () => {
      await withFake({ "server start": { hangWithChild: true } }, async (r) => {
        const running = r.client.startServer({ timeoutMs: HANG_DEADLINE_MS });
        await timesOutOnceRunning(running, () => r.fake.calls().length > 0, "lms server start to run");
      }, { serverRunning: false });
    });

    it("lms ps hangs during an unload → TIMEOUT", T, async () => {
      await withFake({ ps: { hang: true } }, async (r) => {
        const running = r.client.unloadModel(QWEN.key, { timeoutMs: HANG_DEADLINE_MS });
        await timesOutOnceRunning(running, () => r.fake.calls().length > 0, "lms ps to run");
      });
    });
  });

  describe("killed by a signal", () => {
    it("lms load killed by SIGKILL → LOAD_FAILED naming the signal", T, async () => {
      await withFake({ load: { killSelf: "SIGKILL" } }, async (r) => {
        await rejectsWith(
          r.client.loadModel(GPT.key, { timeoutMs: ANSWER_DEADLINE_MS }),
          "LOAD_FAILED",
          /SIGKILL/,
        );
      });
    });

    it("lms get killed by SIGTERM → DOWNLOAD_FAILED naming the signal", T, async () => {
      await withFake({ get: { killSelf: "SIGTERM", stderr: "Downloading...\n" } }, async (r) => {
        await rejectsWith(
          r.client.downloadModel(NEW.key, { timeoutMs: ANSWER_DEADLINE_MS }),
          "DOWNLOAD_FAILED",
          /SIGTERM/,
        );
      });
    });
  });

  describe("prints garbage or megabytes", () => {
    it("lms ps prints garbage instead of JSON → INVALID_RESPONSE", T, async () => {
      await withFake({ ps: { garbage: true } }, async (r) => {
        await rejectsWith(
          r.client.unloadModel(QWEN.key, { timeoutMs: ANSWER_DEADLINE_MS }),
          "INVALID_RESPONSE",
        );
      });
    });

    it("lms ps prints 6 MB → INVALID_RESPONSE with a bounded message", T, async () => {
      await withFake({ ps: { bigOutputBytes: 6 * 1024 * 1024 } }, async (r) => {
        const error = await rejectsWith(
          r.client.unloadModel({ all: true }, { timeoutMs: ANSWER_DEADLINE_MS }),
          "INVALID_RESPONSE",
        );
        assert.ok(error.message.length < 1000, `message of ${error.message.length} characters`);
      });
    });

    it("lms get prints 3 MB and fails → DOWNLOAD_FAILED with a bounded message", T, async () => {
      await withFake({ get: { bigOutputBytes: 3 * 1024 * 1024, exitCode: 1 } }, async (r) => {
        const error = await rejectsWith(
          r.client.downloadModel(NEW.key, { timeoutMs: ANSWER_DEADLINE_MS }),
          "DOWNLOAD_FAILED",
        );
        assert.ok(error.message.length < 1000, `message of ${error.message.length} characters`);
      });
    });

    it("lms version prints garbage → INVALID_RESPONSE", T, async () => {
      await withFake({ version: { garbage: true }, "*": { garbage: true } }, async (r) => {
        await rejectsWith(r.lms.version({ timeoutMs: ANSWER_DEADLINE_MS }), "INVALID_RESPONSE");
      });
    });
  });

  describe("a model name lms refuses", () => {
    it("lms get of a name not in the catalog → MODEL_NOT_FOUND, as over REST v1", T, async () => {
      await withFake({}, async (r) => {
        await rejectsWith(
          r.client.downloadModel("nobody/nothing-here", { timeoutMs: ANSWER_DEADLINE_MS }),
          "MODEL_NOT_FOUND",
          /Failed to resolve artifact/,
        );
      });
    });

    it("lms load of a model that is not downloaded → LOAD_FAILED", T, async () => {
      await withFake({}, async (r) => {
        await rejectsWith(
          r.lms.load("nobody/nothing-here", { timeoutMs: ANSWER_DEADLINE_MS }),
          "LOAD_FAILED",
          /Model not found/,
        );
      });
    });

    it("lms unload of an identifier nothing has (lms exits 0) → MODEL_NOT_FOUND", T, async () => {
      await withFake({}, async (r) => {
        await rejectsWith(
          r.lms.unload("nobody/nothing-here", { timeoutMs: ANSWER_DEADLINE_MS }),
          "MODEL_NOT_FOUND",
        );
      });
    });
  });
});

it("reliability (lms): no unhandled rejection in the whole file", async () => {
  await assertNoUnhandledRejections();
});
