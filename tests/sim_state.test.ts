/**
 * Specs of the simulator's start-up state checks (`startSimulator` in `@vtcode/lmstudio/testing`):
 * a state that cannot be is refused with a message naming the field, and nothing is left running.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { type SimulatorOptions, type SimulatorState, startSimulator } from "../src/testing/simulator.ts";
import { GPT, NOMIC } from "./_fixtures.ts";

/** The shared GPT with the maximum context length the messages below name. */
const GPT_128K = { ...GPT, maxContextLength: 131072 };

/** Asserts that `startSimulator(state)` rejects with a TypeError whose message is exactly `message`. */
async function refused(state: unknown, message: string): Promise<void> {
  await assert.rejects(startSimulator(state as SimulatorState), (error: unknown) => {
    assert.ok(error instanceof TypeError, `a TypeError, got ${String(error)}`);
    assert.equal(error.message, message);
    return true;
  });
}

describe("simulator state: loaded instances that cannot be", () => {
  it("a loaded model that is not downloaded", async () => {
    await refused(
      { models: [GPT_128K], loaded: ["qwen/qwen3-4b-2507"] },
      'Simulator state: loaded[0] is "qwen/qwen3-4b-2507", which is not downloaded: a loaded model must be among state.models',
    );
    await refused(
      {
        models: [GPT_128K],
        catalog: [{ key: "qwen/qwen3-4b-2507" }],
        loaded: [GPT.key, { key: "qwen/qwen3-4b-2507" }],
      },
      'Simulator state: loaded[1].key is "qwen/qwen3-4b-2507", which is not downloaded: a loaded model must be among state.models (it is only in state.catalog)',
    );
  });

  it("a context above the model's maximum (the defaults count: 2048 for embedding models)", async () => {
    await refused(
      { models: [GPT_128K], loaded: [{ key: GPT.key, contextLength: 262144 }] },
      'Simulator state: loaded[0].contextLength (262144) is above the maximum context length of "openai/gpt-oss-20b" (131072; see its maxContextLength)',
    );
    await refused(
      { models: [NOMIC], loaded: [{ key: NOMIC.key, contextLength: 4096 }] },
      `Simulator state: loaded[0].contextLength (4096) is above the maximum context length of "${NOMIC.key}" (2048; see its maxContextLength)`,
    );
  });

  it("a negative, zero, fractional or non-number context", async () => {
    for (const bad of [-1, 0, 4096.5, "4096", Number.NaN]) {
      await refused(
        { models: [GPT_128K], loaded: [{ key: GPT.key, contextLength: bad }] },
        `Simulator state: loaded[0].contextLength must be a positive integer, got ${
          typeof bad === "string" ? `"${bad}"` : String(bad)
        }`,
      );
    }
  });

  it("an instance id given twice, or one the defaults already took", async () => {
    await refused(
      { models: [GPT_128K], loaded: [{ key: GPT.key, id: "a" }, { key: GPT.key, id: "a" }] },
      'Simulator state: loaded[1].id "a" is already the id of an earlier instance',
    );
    await refused(
      { models: [GPT_128K], loaded: [GPT.key, { key: GPT.key, id: GPT.key }] },
      `Simulator state: loaded[1]: An instance with the identifier "${GPT.key}" already exists.`,
    );
  });
});

describe("simulator state: other fields that cannot be", () => {
  it("a misspelt field, or the listening address given as state", async () => {
    const known =
      "version, models, loaded, catalog, auth, jit, download, loadDelayMs, serverRunning, reply, replies, defaultContextLength, memory, quirks";
    await refused(
      { model: [GPT_128K] },
      `Simulator state has an unknown field "model" (known: ${known})`,
    );
    await refused(
      { models: [GPT_128K], port: 1234 },
      `Simulator state has an unknown field "port" (known: ${known}); "port" goes in the options: startSimulator(state, { port })`,
    );
    // Where it belongs, it is taken; the options know only host and port.
    const sim = await startSimulator({ models: [GPT_128K] }, { host: "127.0.0.1" });
    await sim.close();
    await assert.rejects(
      startSimulator({}, { prot: 1234 } as unknown as SimulatorOptions),
      { name: "TypeError", message: 'Simulator options have an unknown field "prot" (known: host, port)' },
    );
  });

  it("an unknown quirk name, or a quirk that is not a boolean", async () => {
    await refused(
      { quirks: { concurrentJitDuplicate: true } },
      'Simulator state: quirks has an unknown quirk "concurrentJitDuplicate" (known: concurrentJitDuplicates, autoFitIgnoresRequest, singleLoadedAnswersAnyName)',
    );
    await refused(
      { quirks: { concurrentJitDuplicates: "yes" } },
      'Simulator state: quirks.concurrentJitDuplicates must be true or false, got "yes"',
    );
    await refused(
      { quirks: ["concurrentJitDuplicates"] },
      'Simulator state: quirks must be an object, got ["concurrentJitDuplicates"]',
    );
  });

  it("context limits that are not positive integers", async () => {
    await refused(
      { defaultContextLength: 0 },
      "Simulator state: defaultContextLength must be a positive integer, got 0",
    );
    await refused(
      { memory: { maxContextLength: -8192 } },
      "Simulator state: memory.maxContextLength must be a positive integer, got -8192",
    );
    await refused(
      { memory: { maxContext: 8192 } },
      'Simulator state: memory has an unknown field "maxContext" (known: maxContextLength)',
    );
    await refused(
      { models: [{ key: "m", maxContextLength: 1.5 }] },
      "Simulator state: models[0].maxContextLength must be a positive integer, got 1.5",
    );
    await refused(
      { models: [GPT_128K, { key: "m", fitContextLength: -1 }] },
      "Simulator state: models[1].fitContextLength must be a positive integer, got -1",
    );
  });

  it("models without a key, of an unknown type, or with reasoning that cannot be", async () => {
    await refused(
      { models: [{ key: "" }] },
      'Simulator state: models[0].key must be a non-empty string, got ""',
    );
    await refused(
      { catalog: [{ key: "x", type: "vlm" }] },
      'Simulator state: catalog[0].type must be "llm" or "embedding", got "vlm"',
    );
    await refused({ models: "m" }, 'Simulator state: models must be an array, got "m"');
    await refused(
      { models: [{ key: "m", reasoning: { allowedOptions: ["max"], default: "max" } }] },
      'Simulator state: models[0].reasoning.allowedOptions must be a non-empty list of "off", "on", "low", "medium", "high", got ["max"]',
    );
    await refused(
      { models: [{ key: "m", reasoning: { allowedOptions: ["low", "high"], default: "medium" } }] },
      'Simulator state: models[0].reasoning.default must be one of allowedOptions ["low","high"], got "medium"',
    );
  });

  it("a state that is not an object", async () => {
    await refused("0.4", 'Simulator state must be an object, got "0.4"');
  });

  it("two models, or two catalog entries, with one key", async () => {
    await refused(
      { models: [GPT_128K, NOMIC, { key: GPT.key }] },
      'Simulator state: models[2].key "openai/gpt-oss-20b" is already the key of models[0]: keys must be unique',
    );
    await refused(
      { catalog: [{ key: "c" }, { key: "c" }] },
      'Simulator state: catalog[1].key "c" is already the key of catalog[0]: keys must be unique',
    );
  });
});

describe("simulator options that cannot be", () => {
  async function refusedOptions(options: unknown, message: string): Promise<void> {
    await assert.rejects(startSimulator({}, options as SimulatorOptions), (error: unknown) => {
      assert.ok(error instanceof TypeError, `a TypeError, got ${String(error)}`);
      assert.equal(error.message, message);
      return true;
    });
  }

  it("a port that is not an integer from 0 to 65535, an empty host", async () => {
    const problem = "Simulator options: port must be an integer from 0 (a free port) to 65535, got";
    await refusedOptions({ port: "abc" }, `${problem} "abc"`);
    await refusedOptions({ port: 70000 }, `${problem} 70000`);
    await refusedOptions({ port: -1 }, `${problem} -1`);
    await refusedOptions({ port: 80.5 }, `${problem} 80.5`);
    await refusedOptions({ host: "" }, 'Simulator options: host must be a non-empty string, got ""');
  });
});

describe("simulator state: limits that can be", () => {
  it("a context equal to the maximum, every quirk off or on, a limit below the default", async () => {
    const sim = await startSimulator({
      models: [GPT_128K, { key: "m", fitContextLength: 1024 }],
      loaded: [{ key: GPT.key, contextLength: 131072 }, "m"],
      quirks: {
        concurrentJitDuplicates: false,
        autoFitIgnoresRequest: false,
        singleLoadedAnswersAnyName: true,
      },
      memory: { maxContextLength: 2048 },
      defaultContextLength: 8192,
    });
    try {
      assert.deepEqual(sim.state.loaded().map((i) => i.contextLength), [131072, 1024]);
    } finally {
      await sim.close();
    }
  });
});

describe("simulator state: settings of the wrong type", () => {
  it("jit, serverRunning, reply and download are refused with the field named", async () => {
    await refused({ jit: "no" }, 'Simulator state: jit must be true or false, got "no"');
    await refused(
      { serverRunning: "false" },
      'Simulator state: serverRunning must be true or false, got "false"',
    );
    await refused({ reply: 5 }, "Simulator state: reply must be a string, got 5");
    await refused(
      { download: "x" },
      'Simulator state: download must be an object like { mode, bytesPerSecond }, got "x"',
    );
    await refused(
      { download: { mode: "fast" } },
      'Simulator state: download.mode must be "time" or "manual", got "fast"',
    );
    await refused(
      { download: { bytesPerSecond: 0 } },
      "Simulator state: download.bytesPerSecond must be a positive number, got 0",
    );
  });

  it("a size or delay below 0, or not finite, is refused in the faults' words", async () => {
    await refused(
      { loadDelayMs: -5 },
      "Simulator state: loadDelayMs must be a non-negative number, got -5",
    );
    await refused(
      { models: [{ key: "a/b", sizeBytes: Infinity }] },
      "Simulator state: models[0].sizeBytes must be a non-negative number, got Infinity",
    );
    await refused(
      { download: { bytesPerSecond: -1 } },
      "Simulator state: download.bytesPerSecond must be a positive number, got -1",
    );
  });
});
