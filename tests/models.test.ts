/**
 * The model listing of every API family: LM Studio's documented payloads (verbatim from the docs and
 * the bug tracker, see ../shared/reference/lmstudio-api.md), the 2026 variants, hostile values where
 * an agent decides (context lengths, capabilities), and the parity of the two schema checks in
 * src/models.ts (plain JavaScript on the hot path, zod otherwise).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LMStudioClient } from "../src/client.ts";
import {
  type ApiFamily,
  conformsFast,
  conformsZod,
  type ModelInfo,
  MODELS_PATH,
  parseModelList,
} from "../src/models.ts";
import { createFakeLms } from "../src/testing/fake_lms.ts";
import type { SimulatorState } from "../src/testing/simulator.ts";
import { NEW, NOMIC, QWEN } from "./_fixtures.ts";
import { rejectsWith, useSimulators } from "./_helpers.ts";

const sim = useSimulators();

// --- Payloads as LM Studio sends them -------------------------------------------------------------

/** `GET /v1/models` (OpenClaudia#1, 2026-01-20). */
const OPENAI_LISTING = {
  data: [
    { id: "glm-4.7-flash", object: "model", owned_by: "organization_owner" },
    { id: "nvidia/nemotron-3-nano", object: "model", owned_by: "organization_owner" },
    { id: "openai/gpt-oss-20b", object: "model", owned_by: "organization_owner" },
    { id: "text-embedding-nomic-embed-text-v1.5", object: "model", owned_by: "organization_owner" },
  ],
  object: "list",
};

/** `GET /api/v0/models`, docs `1_developer/2_rest/endpoints.mdx` (before 0.3.16: no `capabilities`). */
const V0_DOCS = {
  object: "list",
  data: [
    {
      id: "qwen2-vl-7b-instruct",
      object: "model",
      type: "vlm",
      publisher: "mlx-community",
      arch: "qwen2_vl",
      compatibility_type: "mlx",
      quantization: "4bit",
      state: "not-loaded",
      max_context_length: 32768,
    },
    {
      id: "meta-llama-3.1-8b-instruct",
      object: "model",
      type: "llm",
      publisher: "lmstudio-community",
      arch: "llama",
      compatibility_type: "gguf",
      quantization: "Q4_K_M",
      state: "not-loaded",
      max_context_length: 131072,
    },
    {
      id: "text-embedding-nomic-embed-text-v1.5",
      object: "model",
      type: "embeddings",
      publisher: "nomic-ai",
      arch: "nomic-bert",
      compatibility_type: "gguf",
      quantization: "Q4_0",
      state: "not-loaded",
      max_context_length: 2048,
    },
  ],
};

/** `GET /api/v0/models` with a loaded model (lmstudio-bug-tracker#816, 0.3.20). */
const V0_LOADED = {
  data: [
    {
      id: "gemma-3n-e4b-it-mlx",
      object: "model",
      type: "vlm",
      publisher: "lmstudio-community",
      arch: "gemma3n",
      compatibility_type: "mlx",
      quantization: "4bit",
      state: "loaded",
      max_context_length: 32768,
      loaded_context_length: 4096,
    },
  ],
  object: "list",
};

/** `GET /api/v0/models` with `capabilities`, abbreviated by the reporter (opencode-lmstudio#21, 2026-04). */
const V0_CAPABILITIES = {
  data: [
    {
      id: "google/gemma-4-26b-a4b",
      state: "loaded",
      max_context_length: 262144,
      loaded_context_length: 200000,
      capabilities: ["tool_use"],
    },
  ],
};

/** `GET /api/v1/models`, current docs (`list.md` @ c6854fb): `parallel`, `reasoning`, `variants`. */
const V1_DOCS = {
  models: [
    {
      type: "llm",
      publisher: "google",
      key: "google/gemma-4-26b-a4b",
      display_name: "Gemma 4 26B A4B",
      architecture: "gemma4",
      quantization: { name: "Q4_K_M", bits_per_weight: 4 },
      size_bytes: 17990911801,
      params_string: "26B-A4B",
      loaded_instances: [
        {
          id: "google/gemma-4-26b-a4b",
          config: {
            context_length: 4096,
            eval_batch_size: 512,
            parallel: 4,
            flash_attention: true,
            num_experts: 8,
            offload_kv_cache_to_gpu: true,
          },
        },
      ],
      max_context_length: 262144,
      format: "gguf",
      capabilities: {
        vision: true,
        trained_for_tool_use: true,
        reasoning: { allowed_options: ["off", "on"], default: "on" },
      },
      description: null,
      variants: ["google/gemma-4-26b-a4b@q4_k_m"],
      selected_variant: "google/gemma-4-26b-a4b@q4_k_m",
    },
    {
      type: "llm",
      publisher: "deepseek",
      key: "deepseek-r1",
      display_name: "DeepSeek R1",
      architecture: "deepseek",
      quantization: { name: "Q4_K_M", bits_per_weight: 4 },
      size_bytes: 40492610355,
      params_string: "671B",
      loaded_instances: [],
      max_context_length: 131072,
      format: "gguf",
      capabilities: {
        vision: false,
        trained_for_tool_use: true,
        reasoning: { allowed_options: ["on"], default: "on" },
      },
      description: null,
    },
    {
      type: "embedding",
      publisher: "gaianet",
      key: "text-embedding-nomic-embed-text-v1.5-embedding",
      display_name: "Nomic Embed Text v1.5",
      quantization: { name: "F16", bits_per_weight: 16 },
      size_bytes: 274290560,
      params_string: null,
      loaded_instances: [],
      max_context_length: 2048,
      format: "gguf",
    },
  ],
};

/** `GET /api/v1/models`, 0.4.0 docs (`list.md` @ e35e35a): capabilities without `reasoning`. */
const V1_040 = {
  models: [
    {
      type: "llm",
      publisher: "lmstudio-community",
      key: "gemma-3-270m-it-qat",
      display_name: "Gemma 3 270m Instruct Qat",
      architecture: "gemma3",
      quantization: { name: "Q4_0", bits_per_weight: 4 },
      size_bytes: 241410208,
      params_string: "270M",
      loaded_instances: [
        {
          id: "gemma-3-270m-it-qat",
          config: {
            context_length: 4096,
            eval_batch_size: 512,
            flash_attention: false,
            num_experts: 0,
            offload_kv_cache_to_gpu: true,
          },
        },
      ],
      max_context_length: 32768,
      format: "gguf",
      capabilities: { vision: false, trained_for_tool_use: false },
      description: null,
    },
    {
      type: "embedding",
      publisher: "gaianet",
      key: "text-embedding-nomic-embed-text-v1.5-embedding",
      display_name: "Nomic Embed Text v1.5",
      quantization: { name: "F16", bits_per_weight: 16 },
      size_bytes: 274290560,
      params_string: null,
      loaded_instances: [],
      max_context_length: 2048,
      format: "gguf",
    },
  ],
};

/** A v1 LLM entry to vary (the shape of the 0.4 docs, tool use and vision on). */
function v1Entry(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: "llm",
    publisher: "qwen",
    key: "qwen/qwen3-4b-2507",
    display_name: "Qwen3 4B 2507",
    architecture: "qwen3",
    quantization: { name: "Q4_K_M", bits_per_weight: 4 },
    size_bytes: 2497281632,
    params_string: "4B",
    loaded_instances: [],
    max_context_length: 262144,
    format: "gguf",
    capabilities: { vision: false, trained_for_tool_use: true },
    description: null,
    ...extra,
  };
}

async function one(api: ApiFamily, entry: unknown): Promise<ModelInfo> {
  const list = await parseModelList(api, api === "v1" ? { models: [entry] } : { data: [entry] });
  assert.equal(list.length, 1);
  return list[0];
}

// --- Each family, as documented ---------------------------------------------------------------------

describe("REST v1 listing", () => {
  it("reads the current docs example: instance contexts, the ceiling, capabilities with reasoning", async () => {
    const [gemma, deepseek, nomic] = await parseModelList("v1", V1_DOCS);
    assert.deepEqual(gemma, {
      id: "google/gemma-4-26b-a4b",
      type: "llm",
      publisher: "google",
      displayName: "Gemma 4 26B A4B",
      architecture: "gemma4",
      quantization: "Q4_K_M",
      sizeBytes: 17990911801,
      maxContextLength: 262144,
      format: "gguf",
      variants: ["google/gemma-4-26b-a4b@q4_k_m"],
      loaded: true,
      instances: [{ id: "google/gemma-4-26b-a4b", contextLength: 4096 }],
      capabilities: ["tool-use", "vision", "reasoning"],
      source: "v1",
    });
    assert.deepEqual(
      { loaded: deepseek.loaded, instances: deepseek.instances, capabilities: deepseek.capabilities },
      { loaded: false, instances: [], capabilities: ["tool-use", "reasoning"] },
    );
    assert.equal(deepseek.maxContextLength, 131072);
    // "Absent for embedding models": an embedding model neither chats nor calls tools.
    assert.deepEqual(nomic.capabilities, []);
    assert.equal(nomic.type, "embedding");
    assert.equal(nomic.maxContextLength, 2048);
  });

  it("reads the 0.4.0 docs example: capabilities without reasoning", async () => {
    const [gemma, nomic] = await parseModelList("v1", V1_040);
    assert.deepEqual(gemma.capabilities, []);
    assert.deepEqual(gemma.instances, [{ id: "gemma-3-270m-it-qat", contextLength: 4096 }]);
    assert.equal(gemma.maxContextLength, 32768);
    assert.deepEqual(nomic.capabilities, []);
  });

  it("gives each of several instances its own context (JIT duplicates, key:2, key:3)", async () => {
    const model = await one(
      "v1",
      v1Entry({
        loaded_instances: [
          { id: "qwen/qwen3-4b-2507", config: { context_length: 4096, parallel: 4 } },
          { id: "qwen/qwen3-4b-2507:2", config: { context_length: 32768 } },
          { id: "qwen/qwen3-4b-2507:3", config: { context_length: 65536, flash_attention: true } },
        ],
      }),
    );
    assert.equal(model.loaded, true);
    assert.deepEqual(model.instances, [
      { id: "qwen/qwen3-4b-2507", contextLength: 4096 },
      { id: "qwen/qwen3-4b-2507:2", contextLength: 32768 },
      { id: "qwen/qwen3-4b-2507:3", contextLength: 65536 },
    ]);
    assert.equal(model.maxContextLength, 262144, "the ceiling is not an instance's context");
  });

  it("reads an MLX instance whose config has only context_length and parallel", async () => {
    const model = await one(
      "v1",
      v1Entry({
        format: "mlx",
        loaded_instances: [{ id: "m", config: { context_length: 65536, parallel: 2 } }],
      }),
    );
    assert.deepEqual(model.instances, [{ id: "m", contextLength: 65536 }]);
  });

  it("maps each capability flag on its own", async () => {
    const caps = async (capabilities: unknown) => (await one("v1", v1Entry({ capabilities }))).capabilities;
    assert.deepEqual(await caps({ vision: true, trained_for_tool_use: false }), ["vision"]);
    assert.deepEqual(await caps({ vision: false, trained_for_tool_use: true }), ["tool-use"]);
    assert.deepEqual(await caps({ vision: true, trained_for_tool_use: true }), ["tool-use", "vision"]);
    assert.deepEqual(
      await caps({ vision: false, trained_for_tool_use: false, reasoning: { allowed_options: ["on"] } }),
      ["reasoning"],
    );
    assert.deepEqual(
      await caps({ vision: false, trained_for_tool_use: false, reasoning: { default: "on" } }),
      ["reasoning"],
      "a reasoning object without allowed_options still says the model reasons",
    );
    assert.deepEqual(
      await caps({ vision: false, trained_for_tool_use: false, reasoning: { allowed_options: ["off"] } }),
      [],
      "reasoning that can only be off is no reasoning",
    );
    assert.deepEqual(
      await caps({ vision: false, trained_for_tool_use: true, reasoning: null, future_flag: true }),
      ["tool-use"],
      "unknown flags are ignored",
    );
  });
});

describe("REST v0 listing", () => {
  it("reads the docs example (before 0.3.16): no capabilities array says nothing about tool use", async () => {
    const [vlm, llm, embedding] = await parseModelList("v0", V0_DOCS);
    assert.deepEqual(vlm, {
      id: "qwen2-vl-7b-instruct",
      type: "llm",
      publisher: "mlx-community",
      displayName: null,
      architecture: "qwen2_vl",
      quantization: "4bit",
      sizeBytes: null,
      maxContextLength: 32768,
      format: "mlx",
      variants: [],
      loaded: false,
      instances: [],
      capabilities: null,
      source: "v0",
    });
    assert.equal(llm.capabilities, null, "null, not []: the server did not say");
    assert.deepEqual(embedding.capabilities, [], "an embedding model has none");
    assert.equal(embedding.type, "embedding");
  });

  it("reads a loaded model: one instance under the model's id, with loaded_context_length", async () => {
    const [model] = await parseModelList("v0", V0_LOADED);
    assert.equal(model.loaded, true);
    assert.deepEqual(model.instances, [{ id: "gemma-3n-e4b-it-mlx", contextLength: 4096 }]);
    assert.equal(model.maxContextLength, 32768);
  });

  it("reads the capabilities array (0.3.16+), with vision from type vlm", async () => {
    const caps = async (type: unknown, capabilities: unknown) =>
      (await one("v0", { id: "m", type, state: "not-loaded", capabilities })).capabilities;
    assert.deepEqual(await caps("llm", ["tool_use"]), ["tool-use"]);
    assert.deepEqual(await caps("llm", []), []);
    assert.deepEqual(await caps("vlm", []), ["vision"]);
    assert.deepEqual(await caps("vlm", ["tool_use", "something_new"]), ["tool-use", "vision"]);
    assert.deepEqual(await caps("embeddings", []), []);
    assert.deepEqual(await caps("embeddings", undefined), []);
    assert.equal(await caps("llm", undefined), null);
    assert.equal(await caps("llm", "tool_use"), null, "not an array: not claimed");
    assert.equal(await caps("llm", [7]), null, "not an array of strings: not claimed");
    assert.equal(await caps(undefined, ["tool_use"]), null, "without a type, vision is unknown");
  });

  it("reads the reporter's abbreviated entry: contexts, no type, so no capability conclusion", async () => {
    const [model] = await parseModelList("v0", V0_CAPABILITIES);
    assert.deepEqual(model.instances, [{ id: "google/gemma-4-26b-a4b", contextLength: 200000 }]);
    assert.equal(model.maxContextLength, 262144);
    assert.equal(model.type, null);
    assert.equal(model.capabilities, null);
  });

  it("says nothing about instances when the state is missing or unknown", async () => {
    for (const state of [undefined, "loading", null]) {
      const model = await one("v0", { id: "m", type: "llm", state, loaded_context_length: 4096 });
      assert.equal(model.loaded, null);
      assert.equal(model.instances, null);
    }
  });
});

describe("OpenAI listing", () => {
  it("reads the observed payload and claims nothing it cannot know", async () => {
    const models = await parseModelList("openai", OPENAI_LISTING);
    assert.deepEqual(models.map((m) => m.id), OPENAI_LISTING.data.map((m) => m.id));
    for (const model of models) {
      assert.equal(model.loaded, null);
      assert.equal(model.instances, null);
      assert.equal(model.capabilities, null, "even for an embedding-looking id: its type is a guess");
      assert.equal(model.maxContextLength, null);
      assert.equal(model.source, "openai");
    }
  });
});

// --- What an agent decides on, when the server says it oddly --------------------------------------

/** Context values that are not a positive integer number of tokens. */
const NOT_A_CONTEXT: readonly unknown[] = [
  "4096",
  "",
  -4096,
  -1,
  0,
  4096.5,
  0.5,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  2 ** 60,
  true,
  null,
  [4096],
  { value: 4096 },
];

describe("context lengths that are not one", () => {
  it("an instance context that is a string, negative, zero, fractional, non-finite or absent is null", async () => {
    for (const value of NOT_A_CONTEXT) {
      const model = await one(
        "v1",
        v1Entry({ loaded_instances: [{ id: "m", config: { context_length: value } }] }),
      );
      assert.deepEqual(model.instances, [{ id: "m", contextLength: null }], String(value));
      assert.equal(model.loaded, true, "the instance is there all the same");
    }
    for (const config of [undefined, null, {}, "4096", [], 4096]) {
      const model = await one("v1", v1Entry({ loaded_instances: [{ id: "m", config }] }));
      assert.deepEqual(model.instances, [{ id: "m", contextLength: null }], JSON.stringify(config));
    }
  });

  it("a v0 loaded_context_length or any max_context_length that is not one is null", async () => {
    for (const value of [...NOT_A_CONTEXT, undefined]) {
      const v0 = await one("v0", {
        id: "m",
        type: "llm",
        state: "loaded",
        loaded_context_length: value,
        max_context_length: value,
      });
      assert.deepEqual(v0.instances, [{ id: "m", contextLength: null }], String(value));
      assert.equal(v0.maxContextLength, null, String(value));
      const v1 = await one("v1", v1Entry({ max_context_length: value }));
      assert.equal(v1.maxContextLength, null, String(value));
    }
  });

  it("v1 without loaded_instances says nothing about what is loaded", async () => {
    for (const loaded_instances of [undefined, null]) {
      const model = await one("v1", v1Entry({ loaded_instances }));
      assert.equal(model.loaded, null);
      assert.equal(model.instances, null);
    }
  });

  it("v1 capabilities that are not the documented object are null, not a guess", async () => {
    for (
      const capabilities of [
        "tool_use",
        ["tool_use"],
        7,
        {},
        { vision: true },
        { trained_for_tool_use: true },
        { vision: "true", trained_for_tool_use: true },
        { vision: true, trained_for_tool_use: 1 },
      ]
    ) {
      assert.equal(
        (await one("v1", v1Entry({ capabilities }))).capabilities,
        null,
        JSON.stringify(capabilities),
      );
    }
    assert.equal(
      (await one("v1", v1Entry({ capabilities: undefined }))).capabilities,
      null,
      "an LLM without it",
    );
    assert.equal((await one("v1", v1Entry({ capabilities: null, type: undefined }))).capabilities, null);
    assert.deepEqual(
      (await one("v1", v1Entry({ type: "embedding", capabilities: undefined }))).capabilities,
      [],
    );
  });

  it("an instance id that is not a non-empty string makes the listing INVALID_RESPONSE, naming the field", async () => {
    for (const id of [7, "", null, undefined, { id: "m" }]) {
      await rejectsWith(
        parseModelList("v1", {
          models: [v1Entry({ loaded_instances: [{ id, config: { context_length: 4096 } }] })],
        }),
        "INVALID_RESPONSE",
        { message: /GET \/api\/v1\/models: field models\.0\.loaded_instances\.0\.id/ },
      );
    }
    for (const loaded_instances of ["m", { id: "m" }, [null], ["m"]]) {
      await rejectsWith(
        parseModelList("v1", { models: [v1Entry({ loaded_instances })] }),
        "INVALID_RESPONSE",
        /loaded_instances/,
      );
    }
  });

  it("keeps unknown fields ignored, at every level", async () => {
    const model = await one(
      "v1",
      v1Entry({
        brand_new: { nested: [1, 2] },
        quantization: { name: "Q8_0", bits_per_weight: 8, scheme: "k" },
        loaded_instances: [{ id: "m", device: "link-1", config: { context_length: 8192, future: "x" } }],
      }),
    );
    assert.equal(model.quantization, "Q8_0");
    assert.deepEqual(model.instances, [{ id: "m", contextLength: 8192 }]);
  });
});

// --- Through the simulator, end to end --------------------------------------------------------------

describe("listModels against the simulator", () => {
  const QWEN_TOOLS_256K = { ...QWEN, maxContextLength: 262144, trainedForToolUse: true };
  const GEMMA_VISION = { ...NEW, vision: true, trainedForToolUse: false };

  it("LM Studio 0.4 (REST v1): every instance with its own context, capabilities per model", async () => {
    const s = await sim({
      models: [QWEN_TOOLS_256K, GEMMA_VISION, NOMIC],
      loaded: [{ key: QWEN_TOOLS_256K.key, contextLength: 4096 }, {
        key: QWEN_TOOLS_256K.key,
        contextLength: 32768,
      }],
    });
    const client = new LMStudioClient({ baseUrl: s.url, env: () => undefined, lmsPath: "/nonexistent/lms" });
    const byId = new Map((await client.listModels()).map((m) => [m.id, m]));
    assert.deepEqual(byId.get(QWEN_TOOLS_256K.key)?.instances, [
      { id: QWEN_TOOLS_256K.key, contextLength: 4096 },
      { id: `${QWEN_TOOLS_256K.key}:2`, contextLength: 32768 },
    ]);
    assert.equal(byId.get(QWEN_TOOLS_256K.key)?.maxContextLength, 262144);
    assert.deepEqual(byId.get(QWEN_TOOLS_256K.key)?.capabilities, ["tool-use"]);
    assert.deepEqual(byId.get(GEMMA_VISION.key)?.capabilities, ["vision"]);
    assert.deepEqual(byId.get(NOMIC.key)?.capabilities, []);
    assert.deepEqual(byId.get(GEMMA_VISION.key)?.instances, []);
  });

  it("LM Studio 0.3 (REST v0) and 0.2 (OpenAI): what each can say", async () => {
    const v0 = await sim({
      version: "0.3",
      models: [QWEN_TOOLS_256K, GEMMA_VISION],
      loaded: [{ key: QWEN_TOOLS_256K.key, contextLength: 16384 }],
    });
    const v0Models = await new LMStudioClient({ baseUrl: v0.url, env: () => undefined }).listModels();
    const qwen = v0Models.find((m) => m.id === QWEN_TOOLS_256K.key);
    assert.deepEqual(qwen?.instances, [{ id: QWEN_TOOLS_256K.key, contextLength: 16384 }]);
    assert.deepEqual(qwen?.capabilities, ["tool-use"]);
    assert.deepEqual(v0Models.find((m) => m.id === GEMMA_VISION.key)?.capabilities, ["vision"]);

    const openai = await sim({ version: "0.2", models: [QWEN_TOOLS_256K], loaded: [QWEN_TOOLS_256K.key] });
    const [only] = await new LMStudioClient({ baseUrl: openai.url, env: () => undefined }).listModels();
    assert.deepEqual(
      { instances: only.instances, capabilities: only.capabilities, max: only.maxContextLength },
      { instances: null, capabilities: null, max: null },
    );
  });

  // REST v0 has one entry per model with one `loaded_context_length`; how it shows several instances
  // of a model is not documented. `lms ps` lists each instance, on this machine.
  const TWO_INSTANCES: SimulatorState = {
    version: "0.3",
    models: [QWEN_TOOLS_256K, GEMMA_VISION],
    loaded: [{ key: QWEN_TOOLS_256K.key, contextLength: 4096 }, {
      key: QWEN_TOOLS_256K.key,
      contextLength: 32768,
    }],
  };

  it("LM Studio 0.3 on this machine: every instance, each with its own context, from lms ps", async () => {
    const s = await sim(TWO_INSTANCES);
    const fake = await createFakeLms({ simulator: s });
    try {
      const client = new LMStudioClient({ baseUrl: s.url, env: () => undefined, lmsPath: fake.path });
      const byId = new Map((await client.listModels()).map((m) => [m.id, m]));
      assert.deepEqual(byId.get(QWEN_TOOLS_256K.key)?.instances, [
        { id: QWEN_TOOLS_256K.key, contextLength: 4096 },
        { id: `${QWEN_TOOLS_256K.key}:2`, contextLength: 32768 },
      ]);
      assert.deepEqual([byId.get(GEMMA_VISION.key)?.loaded, byId.get(GEMMA_VISION.key)?.instances], [
        false,
        [],
      ]);
      assert.deepEqual(fake.calls(), [["ps", "--json"]]);
      s.unloadInstance(QWEN_TOOLS_256K.key);
      s.unloadInstance(`${QWEN_TOOLS_256K.key}:2`);
      await client.listModels();
      assert.deepEqual(fake.calls(), [["ps", "--json"]], "nothing loaded: lms is not asked");
    } finally {
      await fake.cleanup();
    }
  });

  it("LM Studio 0.3 where lms cannot tell (none, failing, another machine): REST v0's one instance", async () => {
    const s = await sim(TWO_INSTANCES);
    const fake = await createFakeLms({ simulator: s, script: { ps: { garbage: true } } });
    try {
      const clients = [
        { lmsPath: "/nonexistent/dir/lms" },
        { lmsPath: fake.path },
        { lmsPath: fake.path, local: false },
      ].map((options) => new LMStudioClient({ baseUrl: s.url, env: () => undefined, ...options }));
      for (const client of clients) {
        const qwen = (await client.listModels()).find((m) => m.id === QWEN_TOOLS_256K.key);
        assert.deepEqual(qwen?.instances, [{ id: QWEN_TOOLS_256K.key, contextLength: 4096 }]);
      }
      assert.equal(fake.calls().length, 1, "only the local client with an lms asked it");
    } finally {
      await fake.cleanup();
    }
  });
});

// --- Parity of the two schema checks ---------------------------------------------------------------

/** Values of every JSON type (and two a JavaScript caller could pass), to put in place of a field. */
const REPLACEMENTS: readonly unknown[] = [
  undefined,
  null,
  true,
  0,
  -1,
  1.5,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  "",
  "x",
  [],
  [null],
  [""],
  ["x"],
  [7],
  [{}],
  [{ id: "" }],
  [{ id: "m" }],
  {},
  { id: "m" },
  { name: 7 },
];

type Path = (string | number)[];

/** Every path into a JSON value (objects and arrays), the root excluded. */
function paths(value: unknown, prefix: Path = []): Path[] {
  if (value === null || typeof value !== "object") return [];
  const keys: (string | number)[] = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value);
  return keys.flatMap((key) => {
    const path = [...prefix, key];
    return [path, ...paths((value as Record<string | number, unknown>)[key], path)];
  });
}

/** A copy of `value` with the field at `path` replaced (deleted for `undefined`). */
function replaced(value: unknown, path: Path, by: unknown): unknown {
  const copy = structuredClone(value) as Record<string | number, unknown>;
  let at = copy;
  for (const key of path.slice(0, -1)) at = at[key] as Record<string | number, unknown>;
  const last = path[path.length - 1];
  if (by === undefined && !Array.isArray(at)) delete at[last];
  else at[last] = by;
  return copy;
}

/** Documented and varied good listings of each family. */
const GOOD: readonly [ApiFamily, unknown][] = [
  ["v1", V1_DOCS],
  ["v1", V1_040],
  ["v1", { models: [v1Entry({ variants: ["a@q4"], selected_variant: "a@q4" })] }],
  ["v1", { models: [] }],
  ["v0", V0_DOCS],
  ["v0", V0_LOADED],
  ["v0", V0_CAPABILITIES],
  ["v0", { data: [], object: "list" }],
  ["openai", OPENAI_LISTING],
  ["openai", { data: [] }],
];

/** The family a listing path belongs to. */
function familyOf(path: unknown): ApiFamily | undefined {
  return (Object.keys(MODELS_PATH) as ApiFamily[]).find((api) => MODELS_PATH[api] === path);
}

/**
 * The 200 answers with a body of the reliability suites' listing cases, parsed. Imported here, not
 * at the top: that module pulls in the whole client and CLI, and a break there should fail this one
 * test, not every test of the listing.
 */
async function reliabilityListings(): Promise<[ApiFamily, unknown, string][]> {
  const { SERVER_CASES } = await import("./_reliability.ts");
  const found: [ApiFamily, unknown, string][] = [];
  for (const c of SERVER_CASES) {
    if (typeof c.faults !== "object") continue;
    for (const fault of c.faults) {
      const f = fault as { kind?: string; status?: number; body?: unknown; match?: unknown };
      const api = familyOf(f.match);
      if (f.kind !== "respond" || f.status !== 200 || api === undefined) continue;
      let body = f.body;
      if (typeof body === "string") {
        try {
          body = JSON.parse(body);
        } catch {
          continue; // not JSON: decided before any schema
        }
      }
      found.push([api, body, `${c.group}: ${c.name}`]);
    }
  }
  return found;
}

describe("the two schema checks agree (plain JavaScript on the hot path, zod otherwise)", () => {
  it("on the documented payloads, every field of them replaced by values of every JSON type", async () => {
    let accepted = 0;
    let rejected = 0;
    for (const [api, listing] of GOOD) {
      assert.equal(conformsFast(api, listing), true, `${api} good listing`);
      assert.equal(await conformsZod(api, listing), true, `${api} good listing (zod)`);
      for (const path of paths(listing)) {
        for (const by of REPLACEMENTS) {
          const variant = replaced(listing, path, by);
          const fast = conformsFast(api, variant);
          assert.equal(fast, await conformsZod(api, variant), `${api} ${path.join(".")} = ${String(by)}`);
          if (fast) accepted++;
          else rejected++;
        }
      }
    }
    // Both verdicts occur many times, so the comparison can fail either way.
    assert.ok(accepted > 1000 && rejected > 1000, `accepted ${accepted}, rejected ${rejected}`);
  });

  it("on whole documents that are not listings", async () => {
    const roots: unknown[] = [null, undefined, 7, "x", [], {}, { models: "many" }, { data: {} }, {
      error: "x",
    }];
    for (const api of Object.keys(MODELS_PATH) as ApiFamily[]) {
      for (
        const root of [...roots, ...REPLACEMENTS.map((by) => (api === "v1" ? { models: by } : { data: by }))]
      ) {
        assert.equal(conformsFast(api, root), await conformsZod(api, root), `${api} ${JSON.stringify(root)}`);
      }
    }
  });

  it("on the listing answers of the reliability suites", async () => {
    const cases = await reliabilityListings();
    assert.ok(cases.length >= 5, `found ${cases.length} listing bodies in SERVER_CASES`);
    for (const [api, body, name] of cases) {
      assert.equal(conformsFast(api, body), await conformsZod(api, body), name);
    }
  });
});
