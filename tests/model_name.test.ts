import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { MAX_MODEL_NAME_LENGTH, validateModelName } from "../src/model_name.ts";
import { LMStudioError } from "../src/errors.ts";

function rejection(name: string): LMStudioError {
  try {
    validateModelName(name);
  } catch (error) {
    assert.ok(error instanceof LMStudioError, "throws an LMStudioError");
    return error;
  }
  assert.fail(`expected ${JSON.stringify(name)} to be rejected`);
}

describe("validateModelName", () => {
  it("accepts model keys, variant keys, identifiers with :N and Hugging Face URLs", () => {
    for (
      const name of [
        "qwen/qwen3-4b-2507",
        "google/gemma-4-26b-a4b@q4_k_m",
        "text-embedding-nomic-embed-text-v1.5",
        "gemma-3-1b-it-qat:2",
        "https://huggingface.co/lmstudio-community/Qwen3-4B-GGUF",
        "a;rm -rf ~",
        "$(touch pwned)",
        "модель/名字",
        "x".repeat(MAX_MODEL_NAME_LENGTH),
      ]
    ) {
      assert.doesNotThrow(() => validateModelName(name), name);
    }
  });

  it("refuses names that lms would read as an option", () => {
    for (const name of ["-h", "--help", "--host=evil.example", "-"]) {
      const error = rejection(name);
      assert.equal(error.code, "USAGE");
      assert.match(error.message, /starts with "-"/);
      assert.ok(error.hint, "tells the user what a model name looks like");
    }
  });

  it("refuses empty and whitespace-only names", () => {
    for (const name of ["", " ", "\t \u00a0"]) {
      assert.equal(rejection(name).code, "USAGE");
    }
  });

  it("refuses control characters: newline, carriage return, NUL, ESC, DEL, C1, bidi overrides", () => {
    for (
      const name of [
        "qwen\nqwen",
        "qwen\r",
        "qwen\u0000",
        "qwen\u001b[31m",
        "qwen\u007f",
        "qwen\u0085",
        "qwen\u2028",
        "evil\u202egguf.exe",
        "x\u2066y",
      ]
    ) {
      const error = rejection(name);
      assert.equal(error.code, "USAGE");
      assert.match(error.message, /control characters/);
    }
  });

  it("never echoes a control character back in the message", () => {
    const error = rejection("a\u001b[2Jb\nc");
    // deno-lint-ignore no-control-regex
    assert.doesNotMatch(error.message, /[\u0000-\u001f]/);
    assert.match(error.message, /\\u001b/);
  });

  it("refuses absurdly long names and says how long they were", () => {
    const error = rejection("m".repeat(MAX_MODEL_NAME_LENGTH + 1));
    assert.equal(error.code, "USAGE");
    assert.match(error.message, /513 characters/);
    assert.ok(error.message.length < 300, "the message quotes only a preview of the name");
  });

  it("refuses a value that is not a string (from untyped JavaScript callers)", () => {
    assert.equal(rejection(42 as unknown as string).code, "USAGE");
  });
});
