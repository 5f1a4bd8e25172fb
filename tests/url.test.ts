import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LMStudioError } from "../src/errors.ts";
import { isLocalServer, normalizeBaseUrl } from "../src/url.ts";

describe("normalizeBaseUrl", () => {
  it("treats the four spellings of one server as the same", () => {
    for (const input of ["http://h:1234", "http://h:1234/", "http://h:1234/v1", "http://h:1234/v1/"]) {
      assert.equal(normalizeBaseUrl(input), "http://h:1234");
    }
  });

  it("keeps a reverse-proxy path prefix but drops /v1 and trailing slashes after it", () => {
    assert.equal(normalizeBaseUrl("https://proxy.example/lmstudio/v1//"), "https://proxy.example/lmstudio");
    assert.equal(normalizeBaseUrl("  http://localhost:1234//  "), "http://localhost:1234");
  });

  it("reads LM Studio's REST bases (/api/v1, /api/v0) as the same server", () => {
    for (const input of ["http://h:1234/api/v1", "http://h:1234/api/v0/", "http://h:1234/API/V1"]) {
      assert.equal(normalizeBaseUrl(input), "http://h:1234");
    }
    assert.equal(normalizeBaseUrl("https://proxy.example/lmstudio/api/v1"), "https://proxy.example/lmstudio");
    // Only LM Studio's own bases: other paths are a proxy's prefix, kept as they are.
    assert.equal(normalizeBaseUrl("http://h/v0"), "http://h/v0");
    assert.equal(normalizeBaseUrl("http://h/api"), "http://h/api");
    assert.equal(normalizeBaseUrl("https://proxy.example/v1/lmstudio"), "https://proxy.example/v1/lmstudio");
    assert.equal(
      normalizeBaseUrl("https://proxy.example/api/v1/team-a/v1"),
      "https://proxy.example/api/v1/team-a",
    );
  });

  it("refuses an endpoint's URL, naming the server's address in the hint", () => {
    for (
      const [input, endpoint, server] of [
        ["http://h:1234/v1/chat/completions", "/v1/chat/completions", "http://h:1234"],
        ["http://h:1234/api/v1/models", "/api/v1/models", "http://h:1234"],
        ["https://proxy.example/lm/v1/models/", "/v1/models", "https://proxy.example/lm"],
      ]
    ) {
      assert.throws(() => normalizeBaseUrl(input), (error: unknown) => {
        assert.ok(error instanceof LMStudioError);
        assert.equal(error.code, "USAGE");
        assert.ok(error.message.includes(`(${endpoint})`), error.message);
        assert.ok(error.hint?.includes(`${server} (with or without /v1)`), error.hint);
        return true;
      });
    }
  });

  it("accepts IPv6 literals", () => {
    assert.equal(normalizeBaseUrl("http://[::1]:1234/v1"), "http://[::1]:1234");
  });

  for (
    const [input, pattern] of [
      ["", /empty/],
      ["file:///etc/passwd", /scheme/],
      ["javascript:alert(1)", /scheme/],
      ["ftp://h:21", /scheme/],
      ["localhost:1234", /no scheme/],
      ["http://user:pass@host:1234", /credentials/],
      ["http://h:1234/?x=1", /query/],
      ["http://h:1234/#frag", /query or fragment/],
      ["http://h:1234/\nv1", /control/],
      ["not a url", /spaces|valid/],
    ] as const
  ) {
    it(`rejects ${JSON.stringify(input)} with USAGE and a hint`, () => {
      assert.throws(() => normalizeBaseUrl(input), (error: unknown) => {
        assert.ok(error instanceof LMStudioError);
        assert.equal(error.code, "USAGE");
        assert.match(error.message, pattern);
        assert.ok(error.hint && error.hint.length > 0);
        return true;
      });
    });
  }

  it("never echoes URL credentials in the error", () => {
    try {
      normalizeBaseUrl("http://alice:s3cret-pass@host:1234");
      assert.fail("should throw");
    } catch (error) {
      assert.ok(error instanceof LMStudioError);
      assert.doesNotMatch(`${error.message} ${error.hint}`, /s3cret-pass|alice/);
    }
  });
});

describe("isLocalServer", () => {
  it("counts loopback names and addresses as local", () => {
    for (
      const url of [
        "http://localhost:1234",
        "http://127.0.0.1:1",
        "http://127.8.9.10:1",
        "http://[::1]:1234",
        "http://app.localhost:1",
      ]
    ) {
      assert.equal(isLocalServer(url, []), true, url);
    }
  });

  it("counts this machine's own interface addresses as local", () => {
    assert.equal(isLocalServer("http://192.168.1.20:1234", ["192.168.1.20"]), true);
    assert.equal(isLocalServer("http://[fe80::1]:1234", ["fe80::1"]), true);
  });

  it("counts other hosts as remote", () => {
    assert.equal(isLocalServer("http://192.168.1.21:1234", ["192.168.1.20"]), false);
    assert.equal(isLocalServer("http://gpu-box.example:1234", []), false);
  });
});
