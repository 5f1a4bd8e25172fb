import { describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { createFakeLms, type FakeLms, type FakeLmsOptions } from "../src/testing/fake_lms.ts";
import { type Simulator, type SimulatorState, startSimulator } from "../src/testing/simulator.ts";
import { Lms } from "../src/lms.ts";
import type { DownloadProgress } from "../src/progress.ts";
import { cleanly, type Defer, gone, rejection, rejectsWith } from "./_helpers.ts";
import { FAST, QWEN } from "./_fixtures.ts";

const posix = process.platform !== "win32";

interface Rig {
  sim: Simulator;
  fake: FakeLms;
  lms: Lms;
}

/** A simulator, a fake `lms` backed by it, and an `Lms` on the fake; all cleaned up after the test. */
async function rig(
  defer: Defer,
  state: SimulatorState = {},
  fakeOptions: FakeLmsOptions = {},
): Promise<Rig> {
  const sim = await startSimulator(state);
  const fake = await createFakeLms({ simulator: sim, ...fakeOptions });
  defer(async () => {
    await fake.cleanup();
    await sim.close();
  });
  return { sim, fake, lms: new Lms({ path: fake.path, source: "option" }) };
}

/** Slower than `FAST` (12 GB/s): a 2.5 GB download shows several progress lines, not one or two. */
const SEVERAL_PROGRESS_LINES = { ...FAST, bytesPerSecond: 12_000_000_000 };

describe("Lms.get", { skip: !posix && "the fake lms is a #!/usr/bin/env node script" }, () => {
  it(
    "downloads with `get --yes <model>` and reports the progress bar as events",
    cleanly(async (defer) => {
      const { sim, fake, lms } = await rig(defer, { catalog: [QWEN], download: SEVERAL_PROGRESS_LINES });
      const events: DownloadProgress[] = [];
      const result = await lms.get(QWEN.key, { onProgress: (p) => events.push(p) });
      assert.deepEqual(result, { alreadyDownloaded: false });
      assert.deepEqual(fake.calls(), [["get", "--yes", QWEN.key]]);
      assert.ok(sim.state.models().some((m) => m.key === QWEN.key), "the model is on disk now");
      assert.ok(events.length >= 1, "at least one progress event");
      const last = events.at(-1)!;
      assert.equal(last.percent, 100);
      assert.equal(last.totalBytes, 2_500_000_000, "lms prints base-1000 sizes with 2 decimals");
      for (let i = 1; i < events.length; i++) {
        assert.ok((events[i].percent ?? 0) >= (events[i - 1].percent ?? 0), "percent never goes back");
      }
    }),
  );

  it(
    "says so when the model is already downloaded (lms exits 0 either way)",
    cleanly(async (defer) => {
      const { lms } = await rig(defer, { models: [QWEN] });
      assert.deepEqual(await lms.get(QWEN.key), { alreadyDownloaded: true });
    }),
  );

  it(
    "rejects with DOWNLOAD_FAILED carrying lms's own Error: line",
    cleanly(async (defer) => {
      const { sim, lms } = await rig(defer, { catalog: [QWEN], download: FAST });
      sim.failNextDownload(QWEN.key, 0.5);
      const error = await rejection(lms.get(QWEN.key));
      assert.equal(error.code, "DOWNLOAD_FAILED");
      assert.match(error.message, /`lms get qwen\/qwen3-4b-2507` exited with code 1: Error: Download failed/);
      assert.ok(error.hint);
    }),
  );

  it(
    "rejects with MODEL_NOT_FOUND, as REST v1 does, for a model or variant the catalog does not have",
    cleanly(async (defer) => {
      const { sim, lms } = await rig(defer, { catalog: [QWEN] });
      const cases: [name: string, said: RegExp, hint: RegExp][] = [
        [
          "nobody/nothing-7b",
          /Failed to resolve artifact "nobody\/nothing-7b": The artifact does not exist/,
          /model id in LM Studio's catalog/,
        ],
        [
          "nothing-7b",
          /No staff picks found with the specified search criteria/,
          /model id in LM Studio's catalog/,
        ],
        [`${QWEN.key}@q8_0`, /Cannot find variant q8_0/, /@quantization suffix/],
      ];
      for (const [name, said, hint] of cases) {
        await rejectsWith(lms.get(name), "MODEL_NOT_FOUND", { message: said, hint });
      }
      assert.deepEqual(sim.state.jobs(), [], "nothing was downloaded");
    }),
  );

  it(
    "reads lms's older words for a search without results (before lms#515) as MODEL_NOT_FOUND too",
    cleanly(async (defer) => {
      const stderr =
        "Searching for models with the term nothing\nError: No models found with the specified search criteria.\n";
      const { lms } = await rig(defer, {}, { script: { get: { stderr, exitCode: 1 } } });
      await rejectsWith(
        lms.get("nothing"),
        "MODEL_NOT_FOUND",
        /No models found with the specified search criteria/,
      );
    }),
  );

  it(
    "does not take exit 0 without a download report for success",
    cleanly(async (defer) => {
      const { lms } = await rig(defer, { catalog: [QWEN] }, {
        script: { get: { stdout: "Searching...\n", exitCode: 0 } },
      });
      const error = await rejection(lms.get(QWEN.key));
      assert.equal(error.code, "DOWNLOAD_FAILED");
      assert.match(error.message, /lms exited 0 but did not report a download/);
    }),
  );

  it(
    "reports an lms killed by a signal",
    cleanly(async (defer) => {
      const { lms } = await rig(defer, { catalog: [QWEN] }, { script: { get: { killSelf: "SIGKILL" } } });
      const error = await rejection(lms.get(QWEN.key));
      assert.equal(error.code, "DOWNLOAD_FAILED");
      assert.match(error.message, /was killed by SIGKILL/);
    }),
  );

  it(
    "refuses a name lms would read as an option, without running lms",
    cleanly(async (defer) => {
      const { fake, lms } = await rig(defer);
      for (const name of ["--help", "-y", "qwen\n--host=evil", ""]) {
        await rejectsWith(lms.get(name), "USAGE");
      }
      assert.deepEqual(fake.calls(), []);
    }),
  );

  it(
    "kills lms and the process it started when aborted: no child outlives the abort",
    cleanly(async (defer) => {
      const { fake, lms } = await rig(defer, { catalog: [QWEN] }, {
        script: { get: { hangWithChild: true } },
      });
      const controller = new AbortController();
      const watcher = setInterval(() => {
        if (fake.pids().length >= 2) controller.abort(); // lms and its grandchild both started
      }, 20);
      defer(() => clearInterval(watcher));
      // The abort ends it; the deadline only bounds a failure, so it cannot come first.
      const error = await rejection(lms.get(QWEN.key, { signal: controller.signal, timeoutMs: 60_000 }));
      clearInterval(watcher);
      assert.equal(error.code, "INTERRUPTED");
      const pids = fake.pids();
      assert.equal(pids.length, 2);
      for (const pid of pids) assert.equal(await gone(pid), true, `pid ${pid} is gone`);
    }),
  );

  it(
    "times out with TIMEOUT naming the command and leaves nothing running",
    cleanly(async (defer) => {
      const { fake, lms } = await rig(defer, { catalog: [QWEN] }, {
        script: { get: { hangWithChild: true } },
      });
      const error = await rejection(lms.get(QWEN.key, { timeoutMs: 700 }));
      assert.equal(error.code, "TIMEOUT");
      assert.match(error.message, /lms get --yes qwen\/qwen3-4b-2507 timed out/);
      for (const pid of fake.pids()) assert.equal(await gone(pid), true, `pid ${pid} is gone`);
    }),
  );
});

describe("Lms.load", { skip: !posix && "the fake lms is a #!/usr/bin/env node script" }, () => {
  it(
    "loads with `load -y` and returns the identifier lms printed; a second load makes key:2",
    cleanly(async (defer) => {
      const { sim, lms } = await rig(defer, { models: [QWEN] }, { wakeUp: "first" });
      const fractions: number[] = [];
      assert.deepEqual(await lms.load(QWEN.key, { onProgress: (f) => fractions.push(f) }), {
        identifier: QWEN.key,
      });
      assert.deepEqual(await lms.load(QWEN.key), { identifier: `${QWEN.key}:2` });
      assert.deepEqual(sim.state.loaded().map((i) => i.id), [QWEN.key, `${QWEN.key}:2`]);
      assert.equal(fractions.at(-1), 1);
    }),
  );

  it(
    "passes --ttl, --context-length, --identifier and --gpu",
    cleanly(async (defer) => {
      const { sim, fake, lms } = await rig(defer, { models: [QWEN] });
      const { identifier } = await lms.load(QWEN.key, {
        ttlSeconds: 600,
        contextLength: 16384,
        identifier: "coder",
        gpu: "max",
      });
      assert.equal(identifier, "coder");
      assert.deepEqual(fake.calls(), [[
        "load",
        "-y",
        QWEN.key,
        "--ttl",
        "600",
        "--context-length",
        "16384",
        "--identifier",
        "coder",
        "--gpu",
        "max",
      ]]);
      assert.equal(sim.state.loaded()[0].contextLength, 16384);
    }),
  );

  it(
    "rejects with LOAD_FAILED carrying lms's error",
    cleanly(async (defer) => {
      const { sim, lms } = await rig(defer, { models: [QWEN] });
      sim.failNextLoad(QWEN.key, "out of memory");
      const error = await rejection(lms.load(QWEN.key));
      assert.equal(error.code, "LOAD_FAILED");
      assert.match(error.message, /out of memory/);
    }),
  );

  it(
    "rejects with LOAD_FAILED for a model that is not downloaded, with lms's details",
    cleanly(async (defer) => {
      const { lms } = await rig(defer, { models: [QWEN] });
      const error = await rejection(lms.load("zzz-not-here"));
      assert.equal(error.code, "LOAD_FAILED");
      assert.match(error.message, /Error: Model not found No downloaded model matches "zzz-not-here"/);
    }),
  );

  it(
    "finds the identifier in `ps` when lms does not print it",
    cleanly(async (defer) => {
      const { sim, lms } = await rig(defer, { models: [QWEN] }, {
        script: { load: { stderr: "Model loaded successfully in 1.00s.\n", exitCode: 0 } },
      });
      sim.loadModel(QWEN.key);
      sim.loadModel(QWEN.key);
      assert.deepEqual(await lms.load(QWEN.key), { identifier: `${QWEN.key}:2` });
    }),
  );

  it(
    "refuses bad options before running lms",
    cleanly(async (defer) => {
      const { fake, lms } = await rig(defer, { models: [QWEN] });
      await rejectsWith(lms.load(QWEN.key, { ttlSeconds: 0 }), "USAGE");
      await rejectsWith(lms.load(QWEN.key, { contextLength: 1.5 }), "USAGE");
      await rejectsWith(lms.load(QWEN.key, { gpu: "lots" }), "USAGE");
      await rejectsWith(lms.load(QWEN.key, { identifier: "--all" }), "USAGE");
      assert.deepEqual(fake.calls(), []);
    }),
  );
});

describe("Lms.unload", { skip: !posix && "the fake lms is a #!/usr/bin/env node script" }, () => {
  it(
    "unloads an instance and checks with ps that it is gone",
    cleanly(async (defer) => {
      const { sim, fake, lms } = await rig(defer, { models: [QWEN], loaded: [QWEN.key] });
      sim.loadModel(QWEN.key);
      await lms.unload(`${QWEN.key}:2`);
      assert.deepEqual(sim.state.loaded().map((i) => i.id), [QWEN.key]);
      assert.deepEqual(fake.calls(), [["ps", "--json"], ["unload", `${QWEN.key}:2`], ["ps", "--json"]]);
    }),
  );

  it(
    "rejects with MODEL_NOT_FOUND for an identifier that is not loaded (lms itself would exit 0)",
    cleanly(async (defer) => {
      const { fake, lms } = await rig(defer, { models: [QWEN], loaded: [QWEN.key] });
      const error = await rejection(lms.unload("qwen/other"));
      assert.equal(error.code, "MODEL_NOT_FOUND");
      assert.match(error.message, /loaded: qwen\/qwen3-4b-2507/);
      assert.deepEqual(fake.calls(), [["ps", "--json"]]);
    }),
  );

  it(
    "rejects with LOAD_FAILED when lms says it unloaded but the instance is still there",
    cleanly(async (defer) => {
      const { lms } = await rig(defer, { models: [QWEN], loaded: [QWEN.key] }, {
        script: { unload: { noop: true } },
      });
      const error = await rejection(lms.unload(QWEN.key));
      assert.equal(error.code, "LOAD_FAILED");
      assert.match(error.message, /still loaded/);
    }),
  );

  it(
    "unloads everything with { all: true }",
    cleanly(async (defer) => {
      const { sim, lms } = await rig(defer, { models: [QWEN], loaded: [QWEN.key, QWEN.key] });
      await lms.unload({ all: true });
      assert.deepEqual(sim.state.loaded(), []);
    }),
  );
});

describe("Lms.ps and Lms.ls", { skip: !posix && "the fake lms is a #!/usr/bin/env node script" }, () => {
  it(
    "lists loaded instances from `ps --json`, each with its own context, the ceiling and capabilities",
    cleanly(async (defer) => {
      const model = { ...QWEN, maxContextLength: 262144, trainedForToolUse: true };
      const { lms } = await rig(defer, {
        models: [model],
        loaded: [{ key: QWEN.key, contextLength: 8192 }, { key: QWEN.key, contextLength: 32768 }],
      });
      const common = {
        modelKey: QWEN.key,
        type: "llm",
        maxContextLength: 262144,
        vision: false,
        trainedForToolUse: true,
        capabilities: ["tool-use"],
      };
      assert.deepEqual(await lms.ps(), [
        { identifier: QWEN.key, contextLength: 8192, ...common },
        { identifier: `${QWEN.key}:2`, contextLength: 32768, ...common },
      ]);
    }),
  );

  it(
    "reads a real `ps --json` line (lms 6041ae0, an MLX model): context, ceiling, vision and tool use",
    cleanly(async (defer) => {
      const captured = '[{"type":"llm","modelKey":"ornith-1.0-35b-mlx-oq8","format":"safetensors",' +
        '"displayName":"Ornith 1.0 35B OQ8","publisher":"jedisct1",' +
        '"path":"jedisct1/Ornith-1.0-35B-MLX-oQ8","sizeBytes":37726897291,' +
        '"indexedModelIdentifier":"jedisct1/Ornith-1.0-35B-MLX-oQ8",' +
        '"deviceIdentifier":null,"paramsString":"35B","architecture":"qwen3_5_moe",' +
        '"quantization":{"name":"8bit","bits":8},"identifier":"ornith-1.0-35b-mlx-oq8",' +
        '"ttlMs":null,"lastUsedTime":1786252670392,"vision":true,' +
        '"trainedForToolUse":true,"maxContextLength":262144,"contextLength":65536,' +
        '"status":"idle","queued":0,"parallel":2}]';
      const { lms } = await rig(defer, {}, { script: { ps: { stdout: `${captured}\n`, exitCode: 0 } } });
      assert.deepEqual(await lms.ps(), [{
        identifier: "ornith-1.0-35b-mlx-oq8",
        modelKey: "ornith-1.0-35b-mlx-oq8",
        type: "llm",
        contextLength: 65536,
        maxContextLength: 262144,
        vision: true,
        trainedForToolUse: true,
        capabilities: ["tool-use", "vision"],
      }]);
    }),
  );

  it(
    "claims no context or capability `lms` printed oddly (string, negative, zero, fractional, absent)",
    cleanly(async (defer) => {
      const odd: unknown[] = ["65536", -1, 0, 4096.5, null, true, 1e300];
      const entries = odd.map((value, i) => ({
        identifier: `m:${i + 1}`,
        modelKey: "m",
        type: "llm",
        contextLength: value,
        maxContextLength: value,
        vision: i === 0 ? "true" : undefined,
        trainedForToolUse: i === 1 ? 1 : true,
      }));
      entries.push({ identifier: "e", modelKey: "e", type: "embedding" } as (typeof entries)[number]);
      const { lms } = await rig(defer, {}, {
        script: { ps: { stdout: `${JSON.stringify(entries)}\n`, exitCode: 0 } },
      });
      const loaded = await lms.ps();
      assert.equal(loaded.length, odd.length + 1);
      for (const [i, instance] of loaded.slice(0, -1).entries()) {
        assert.equal(instance.contextLength, undefined, String(odd[i]));
        assert.equal(instance.maxContextLength, undefined, String(odd[i]));
        assert.equal(instance.capabilities, undefined, "without both flags as booleans, no conclusion");
        assert.equal(instance.vision, undefined);
      }
      assert.equal(loaded[1].trainedForToolUse, undefined, "1 is not a boolean");
      assert.deepEqual(loaded.at(-1), {
        identifier: "e",
        modelKey: "e",
        type: "embedding",
        capabilities: [],
      });
    }),
  );

  it(
    "lists downloaded models from `ls --json`, flattening the quantization",
    cleanly(async (defer) => {
      const embedder = { key: "text-embedding-nomic-embed-text-v1.5", type: "embedding" as const };
      const { lms } = await rig(defer, {
        models: [{ ...QWEN, quantization: "Q4_K_M", maxContextLength: 262144 }, embedder],
      });
      const models = await lms.ls();
      assert.equal(models.length, 2);
      assert.equal(models[0].modelKey, QWEN.key);
      assert.equal(models[0].quantization, "Q4_K_M");
      assert.equal(models[0].maxContextLength, 262144);
      assert.equal(models[0].sizeBytes, QWEN.sizeBytes);
      assert.equal(models[1].type, "embedding");
    }),
  );

  it(
    "reads vision and tool use from `ls --json` (SDK LLMInfo); an embedding model has no capabilities",
    cleanly(async (defer) => {
      const embedder = { key: "text-embedding-nomic-embed-text-v1.5", type: "embedding" as const };
      const gemma = { key: "google/gemma-3-4b", vision: true, trainedForToolUse: false };
      const { lms } = await rig(defer, { models: [{ ...QWEN, trainedForToolUse: true }, gemma, embedder] });
      const byKey = new Map((await lms.ls()).map((m) => [m.modelKey, m]));
      const pick = (key: string) => {
        const m = byKey.get(key);
        return { vision: m?.vision, trainedForToolUse: m?.trainedForToolUse, capabilities: m?.capabilities };
      };
      assert.deepEqual(pick(QWEN.key), {
        vision: false,
        trainedForToolUse: true,
        capabilities: ["tool-use"],
      });
      assert.deepEqual(pick(gemma.key), { vision: true, trainedForToolUse: false, capabilities: ["vision"] });
      assert.deepEqual(pick(embedder.key), {
        vision: undefined,
        trainedForToolUse: undefined,
        capabilities: [],
      });
    }),
  );

  it(
    "reads the docs' `ls --json` example (older SDK fields) and odd values liberally",
    cleanly(async (defer) => {
      const docs = [
        {
          type: "llm",
          modelKey: "qwen2.5-7b-instruct",
          format: "gguf",
          displayName: "Qwen2.5 7B Instruct",
          path: "lmstudio-community/Qwen2.5-7B-Instruct-GGUF/Qwen2.5-7B-Instruct-Q4_K_M.gguf",
          sizeBytes: 4683073952,
          paramsString: "7B",
          architecture: "qwen2",
          vision: false,
          trainedForToolUse: true,
          maxContextLength: 32768,
        },
        {
          type: "embedding",
          modelKey: "text-embedding-nomic-embed-text-v1.5@q4_k_m",
          format: "gguf",
          displayName: "Nomic Embed Text v1.5",
          path: "nomic-ai/nomic-embed-text-v1.5-GGUF/nomic-embed-text-v1.5.Q4_K_M.gguf",
          sizeBytes: 84106624,
          architecture: "nomic-bert",
          maxContextLength: 2048,
        },
        // Not what lms prints, but what a broken or future one might: nothing is claimed from it.
        { type: "llm", modelKey: "odd", maxContextLength: "32768", vision: "no", trainedForToolUse: true },
        { type: "llm", modelKey: "odd-2", maxContextLength: -1 },
      ];
      const { lms } = await rig(defer, {}, {
        script: { ls: { stdout: `${JSON.stringify(docs)}\n`, exitCode: 0 } },
      });
      const [qwen, nomic, odd, odd2] = await lms.ls();
      assert.deepEqual(
        [qwen.maxContextLength, qwen.vision, qwen.trainedForToolUse, qwen.capabilities],
        [32768, false, true, ["tool-use"]],
      );
      assert.deepEqual([nomic.maxContextLength, nomic.capabilities], [2048, []]);
      assert.deepEqual(
        [odd.maxContextLength, odd.vision, odd.trainedForToolUse, odd.capabilities],
        [undefined, undefined, true, undefined],
      );
      assert.deepEqual([odd2.maxContextLength, odd2.capabilities], [undefined, undefined]);
    }),
  );

  it(
    "tolerates the wake-up message and log lines printed before the JSON",
    cleanly(async (defer) => {
      const doc = JSON.stringify([{ identifier: "m:2", modelKey: "m", futureField: { x: 1 } }]);
      const { lms } = await rig(defer, {}, {
        wakeUp: "always",
        script: { ps: { stdout: `Waking up LM Studio service...\nsome notice\n${doc}\n`, exitCode: 0 } },
      });
      assert.deepEqual(await lms.ps(), [{ identifier: "m:2", modelKey: "m" }]);
    }),
  );

  it(
    "rejects garbage with INVALID_RESPONSE naming the command",
    cleanly(async (defer) => {
      const { lms } = await rig(defer, {}, {
        script: { ps: { garbage: true }, ls: { stdout: '{"not":"a list"}\n' } },
      });
      const error = await rejection(lms.ps());
      assert.equal(error.code, "INVALID_RESPONSE");
      assert.match(error.message, /`lms ps --json` did not print JSON/);
      const notList = await rejection(lms.ls());
      assert.equal(notList.code, "INVALID_RESPONSE");
      assert.match(notList.message, /`lms ls --json` did not print a JSON array/);
    }),
  );

  it(
    "does not swallow megabytes of output whole",
    cleanly(async (defer) => {
      const { lms } = await rig(defer, {}, { script: { ps: { bigOutputBytes: 3_000_000 } } });
      const error = await rejection(lms.ps());
      assert.equal(error.code, "INVALID_RESPONSE");
      assert.ok(error.message.length < 1000, "the message quotes only a preview");
    }),
  );

  it(
    "turns 'cannot reach the LM Studio service' into SERVER_UNREACHABLE",
    cleanly(async (defer) => {
      const fake = await createFakeLms(); // no simulator behind it
      defer(() => fake.cleanup());
      const error = await rejection(new Lms(fake.path).ps());
      assert.equal(error.code, "SERVER_UNREACHABLE");
      assert.match(error.message, /Failed to start or connect/);
    }),
  );
});

describe(
  "Lms.server* and Lms.version",
  { skip: !posix && "the fake lms is a #!/usr/bin/env node script" },
  () => {
    it(
      "reads the server status from JSON, not from the exit code",
      cleanly(async (defer) => {
        const { sim, fake, lms } = await rig(defer);
        assert.deepEqual(await lms.serverStatus(), { running: true, port: sim.port });
        await sim.setServerRunning(false);
        // Stopped, lms still prints the saved port (lms#461).
        assert.deepEqual(await lms.serverStatus(), { running: false, port: sim.port });
        fake.script({ server: { stdout: `{"running":true,"port":4321}\n`, exitCode: 1 } });
        assert.deepEqual(await lms.serverStatus(), { running: true, port: 4321 });
      }),
    );

    it(
      "starts the server and passes --port",
      cleanly(async (defer) => {
        const { sim, fake, lms } = await rig(defer, { serverRunning: false });
        await lms.serverStart();
        assert.deepEqual(await lms.serverStatus(), { running: true, port: sim.port });
        fake.script({
          "server start": { stderr: "Error: Failed to verify the server is running.\n", exitCode: 1 },
        });
        const error = await rejection(lms.serverStart({ port: 5555 }));
        assert.equal(error.code, "SERVER_UNREACHABLE");
        assert.match(error.message, /Failed to verify the server is running/);
        assert.deepEqual(fake.calls().at(-1), ["server", "start", "--port", "5555"]);
        await rejectsWith(lms.serverStart({ port: 70000 }), "USAGE");
      }),
    );

    it(
      "reads the version from `version --json`, from an old semver, and falls back to --version",
      cleanly(async (defer) => {
        const { lms, fake } = await rig(defer);
        assert.equal(await lms.version(), "07b7252");
        fake.script({ version: { stderr: "error: unknown command 'version'\n", exitCode: 1 } });
        assert.equal(await lms.version(), "07b7252");
        assert.deepEqual(fake.calls().at(-1), ["--version"]);
        const old = await createFakeLms({ cliVersion: "0.0.47" });
        defer(() => old.cleanup());
        assert.equal(await new Lms(old.path).version(), "0.0.47");
      }),
    );
  },
);

describe(
  "a model not in the catalog: the same answer whichever route downloads",
  { skip: !posix && "the fake lms is a #!/usr/bin/env node script" },
  () => {
    it(
      "ensure and download exit 5 MODEL_NOT_FOUND through REST v1 and through `lms get` alike",
      cleanly(async (defer) => {
        // Imported here: it pulls in the whole client and CLI, which the tests of Lms above do not need.
        const { cli } = await import("./_reliability.ts");
        const v1 = await startSimulator({ version: "0.4", catalog: [QWEN] });
        defer(() => v1.close());
        const { sim: v0, fake } = await rig(defer, { version: "0.3", catalog: [QWEN] });
        for (const command of ["ensure", "download"]) {
          const rest = await cli([command, "nope/missing", "--json", "-q", "--url", v1.url]);
          const viaLms = await cli([
            command,
            "nope/missing",
            "--json",
            "-q",
            "--url",
            v0.url,
            "--lms",
            fake.path,
          ]);
          for (const [route, run] of [["REST v1", rest], ["lms get", viaLms]] as const) {
            assert.equal(run.code, 5, `${command} via ${route}: ${run.stderr}`);
            assert.equal(run.json?.error?.code, "MODEL_NOT_FOUND", `${command} via ${route}`);
          }
        }
        assert.deepEqual(fake.calls().map((argv) => argv.join(" ")), [
          "get --yes nope/missing",
          "get --yes nope/missing",
        ]);
        assert.deepEqual([v1.state.models(), v0.state.models()], [[], []], "nothing was downloaded");
      }),
    );
  },
);
