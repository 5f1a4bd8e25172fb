import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type ErrorCode,
  exitCodeFor,
  LMStudioError,
  redactSecrets,
  registerSecret,
  toLMStudioError,
} from "../src/errors.ts";

describe("exit codes follow the CLI contract", () => {
  it("maps every code to its documented exit code", () => {
    // Typed by ErrorCode: tsc (a stage of the test command) refuses this table when a code is missing
    // from it or unknown, so it is the whole list.
    const expected: Record<ErrorCode, number> = {
      INTERNAL: 1,
      INVALID_RESPONSE: 1,
      UNSUPPORTED: 1,
      USAGE: 2,
      SERVER_UNREACHABLE: 3,
      NOT_LMSTUDIO: 3,
      AUTH_REQUIRED: 4,
      MODEL_NOT_FOUND: 5,
      DOWNLOAD_FAILED: 6,
      LOAD_FAILED: 7,
      LMS_NOT_FOUND: 8,
      MODEL_UNSUITABLE: 9,
      TIMEOUT: 124,
      INTERRUPTED: 130,
    };
    for (const [code, exit] of Object.entries(expected)) {
      assert.equal(exitCodeFor(code as ErrorCode), exit, code);
    }
  });
});

describe("secrets never reach messages", () => {
  it("redacts a registered token from message, hint and cause", () => {
    const token = "sk-lm-Abcd1234:QWERTYuiop0123456789";
    registerSecret(token);
    const error = new LMStudioError("AUTH_REQUIRED", `bad token ${token}`, {
      hint: `was ${token}`,
      cause: new Error(`cause ${token}`),
    });
    const all = `${error.message} ${error.hint} ${(error.cause as Error).message} ${JSON.stringify(error)}`;
    assert.doesNotMatch(all, /QWERTYuiop/);
    assert.match(error.message, /\[redacted\]/);
  });

  it("redacts the first characters of a token that a server echoes back", () => {
    registerSecret("sk-lm-Zyxw9876:ABCDEFGHIJ0123456789");
    assert.equal(
      redactSecrets("Malformed LM Studio API token provided: sk-lm-Zyxw... Ensure"),
      "Malformed LM Studio API token provided: [redacted]... Ensure",
    );
  });

  it("redacts every token in full even when several share the sk-lm- prefix", () => {
    registerSecret("sk-lm-Aaaa1111:Secret0000000000aaaa");
    registerSecret("sk-lm-Efgh5678:Secret0123456789abcd");
    const out = redactSecrets("a sk-lm-Efgh5678:Secret0123456789abcd b sk-lm-Aaaa1111:Secret0000000000aaaa");
    assert.equal(out, "a [redacted] b [redacted]");
    assert.equal(redactSecrets("tokens look like sk-lm-<id>:<key>"), "tokens look like sk-lm-<id>:<key>");
  });

  it("redacts user:password@ in any URL", () => {
    assert.equal(redactSecrets("see http://bob:pw@h:1/x"), "see http://[redacted]@h:1/x");
  });
});

describe("toLMStudioError", () => {
  it("passes our errors through and wraps anything else as INTERNAL with a hint", () => {
    const ours = new LMStudioError("TIMEOUT", "slow");
    assert.equal(toLMStudioError(ours), ours);
    const wrapped = toLMStudioError(new RangeError("boom"));
    assert.equal(wrapped.code, "INTERNAL");
    assert.match(wrapped.message, /boom/);
    assert.ok(wrapped.hint);
  });

  it("serialises to the JSON error shape of the CLI contract", () => {
    assert.deepEqual(new LMStudioError("USAGE", "bad", { hint: "fix" }).toJSON(), {
      code: "USAGE",
      message: "bad",
      hint: "fix",
    });
    assert.deepEqual(new LMStudioError("USAGE", "bad").toJSON(), { code: "USAGE", message: "bad" });
  });
});
