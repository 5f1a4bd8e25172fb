import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { matchModel, suggestModels } from "../src/model_match.ts";
import type { ModelInfo } from "../src/models.ts";

function model(id: string, extra: Partial<ModelInfo> = {}): ModelInfo {
  return {
    id,
    type: "llm",
    publisher: id.includes("/") ? id.split("/")[0] : null,
    displayName: null,
    architecture: null,
    quantization: "Q4_K_M",
    sizeBytes: null,
    maxContextLength: null,
    format: "gguf",
    variants: [],
    loaded: false,
    instances: [],
    capabilities: ["tool-use"],
    source: "v1",
    ...extra,
  };
}

const models = [
  model("openai/gpt-oss-20b", {
    variants: ["openai/gpt-oss-20b@mxfp4"],
    loaded: true,
    instances: [{ id: "openai/gpt-oss-20b", contextLength: 4096 }, {
      id: "openai/gpt-oss-20b:2",
      contextLength: 8192,
    }],
  }),
  model("qwen/qwen3-4b-2507", { variants: ["qwen/qwen3-4b-2507@q4_k_m", "qwen/qwen3-4b-2507@q8_0"] }),
  model("llama-3.2-1b-instruct", { publisher: "lmstudio-community" }),
  model("lmstudio-community/gemma-3-12b-it"),
  model("google/gemma-3-12b-it"),
];

describe("matchModel", () => {
  it("prefers the exact id", () => {
    assert.deepEqual(
      {
        id: matchModel("openai/gpt-oss-20b", models).model?.id,
        kind: matchModel("openai/gpt-oss-20b", models).kind,
      },
      { id: "openai/gpt-oss-20b", kind: "exact" },
    );
  });

  it("matches a loaded instance id, and points at that instance and its context", () => {
    const result = matchModel("openai/gpt-oss-20b:2", models);
    assert.equal(result.model?.id, "openai/gpt-oss-20b");
    assert.equal(result.kind, "instance");
    assert.equal(result.instanceId, "openai/gpt-oss-20b:2");
    assert.equal(result.instance, models[0].instances![1], "the listed instance itself, not a copy");
    assert.equal(result.instance?.contextLength, 8192, "the second instance's context, not the first's");
  });

  it("points at the named instance through the tolerant forms too (case, no publisher)", () => {
    for (const name of ["OpenAI/GPT-OSS-20B:2", "gpt-oss-20b:2"]) {
      const result = matchModel(name, models);
      assert.equal(result.instanceId, "openai/gpt-oss-20b:2", name);
      assert.equal(result.instance?.contextLength, 8192, name);
    }
  });

  it("names no instance when the name is the model's id, even if an instance has that id", () => {
    const result = matchModel("openai/gpt-oss-20b", models);
    assert.equal(result.kind, "exact");
    assert.equal(result.instanceId, undefined);
    assert.equal(result.instance, undefined);
  });

  it("matches a listed variant and a quantization suffix the model has", () => {
    assert.equal(matchModel("qwen/qwen3-4b-2507@q8_0", models).variant, "qwen/qwen3-4b-2507@q8_0");
    assert.equal(matchModel("qwen3-4b-2507@Q4_K_M", models).model?.id, "qwen/qwen3-4b-2507");
  });

  it("does not swap a quantization the model lacks for another one", () => {
    const result = matchModel("qwen/qwen3-4b-2507@q2_k", models);
    assert.equal(result.model, undefined);
    assert.ok(result.suggestions.includes("qwen/qwen3-4b-2507"));
  });

  it("ignores case, and accepts the name without its publisher", () => {
    assert.equal(matchModel("OpenAI/GPT-OSS-20B", models).kind, "case");
    assert.equal(matchModel("gpt-oss-20b", models).model?.id, "openai/gpt-oss-20b");
  });

  it("accepts a publisher prefix for a bare-key model only when the publisher agrees", () => {
    assert.equal(
      matchModel("lmstudio-community/llama-3.2-1b-instruct", models).model?.id,
      "llama-3.2-1b-instruct",
    );
    assert.equal(matchModel("meta/llama-3.2-1b-instruct", models).model, undefined);
  });

  it("never picks one of two same-named models from different publishers", () => {
    const result = matchModel("gemma-3-12b-it", models);
    assert.equal(result.model, undefined);
    assert.deepEqual(result.ambiguous?.map((m) => m.id).sort(), [
      "google/gemma-3-12b-it",
      "lmstudio-community/gemma-3-12b-it",
    ]);
  });

  it("does not treat a different size of the same family as a match, but suggests it", () => {
    const result = matchModel("openai/gpt-oss-120b", models);
    assert.equal(result.model, undefined);
    assert.deepEqual(result.suggestions, ["openai/gpt-oss-20b"]);
  });

  it("rejects an instance suffix that is not loaded", () => {
    assert.equal(matchModel("openai/gpt-oss-20b:3", models).model, undefined);
  });
});

describe("suggestModels", () => {
  it("suggests close names, best first, at most three", () => {
    assert.deepEqual(
      suggestModels("qwen3-4b", ["qwen/qwen3-4b-2507", "qwen/qwen3-8b", "x/unrelated-model"]),
      ["qwen/qwen3-4b-2507", "qwen/qwen3-8b"],
    );
    assert.deepEqual(suggestModels("zzzzzzzz", ["qwen/qwen3-4b-2507"]), []);
  });
});
