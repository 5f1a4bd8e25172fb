/**
 * `sim.inject()` checks its fault at the call: a typo throws a TypeError naming the field and
 * what is allowed, instead of a request that hangs forever (unknown kind), an empty 200 (`respond`
 * without a body), a 500 (`redirect` without a location) or a fault that silently never fires.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { SimFault } from "../src/testing/simulator.ts";
import { request, useSimulators } from "./_helpers.ts";

const sim = useSimulators();

describe("sim.inject: faults that cannot work are refused at the call", () => {
  const cases: [string, unknown, string][] = [
    [
      "an unknown kind (a typo)",
      { match: "/v1/models", kind: "hnag" },
      'Simulator fault: kind must be one of "delay", "hang", "close", "close-mid-body", "respond", "size", "drip", "redirect", got "hnag"',
    ],
    [
      "respond without a body",
      { match: "/v1/models", kind: "respond", status: 503 },
      'Simulator fault: body is required for a "respond" fault',
    ],
    [
      "redirect without a location",
      { match: "/v1/models", kind: "redirect" },
      'Simulator fault: location is required for a "redirect" fault',
    ],
    [
      "a path without its leading slash (it could never match)",
      { match: "v1/models", kind: "hang" },
      'Simulator fault: match must be a path starting with "/", like "/api/v1/models", got "v1/models"',
    ],
    [
      "times 0",
      { match: "/v1/models", kind: "hang", times: 0 },
      'Simulator fault: times must be a positive integer (leave it out for "always"), got 0',
    ],
    [
      "times negative",
      { match: "/v1/models", kind: "hang", times: -2 },
      'Simulator fault: times must be a positive integer (leave it out for "always"), got -2',
    ],
    [
      "a field of another kind",
      { match: "/v1/models", kind: "delay", ms: 5, body: "x" },
      'Simulator fault: "body" is not a field of a "delay" fault (known: kind, match, method, times, ms)',
    ],
    [
      "a status that is no HTTP status",
      { match: "/v1/models", kind: "respond", body: "x", status: 42 },
      "Simulator fault: status must be an HTTP status from 100 to 599, got 42",
    ],
    [
      "no match",
      { kind: "hang" },
      "Simulator fault: match must be a path string or a RegExp, got undefined",
    ],
    [
      "a negative delay",
      { match: "/v1/models", kind: "delay", ms: -1 },
      "Simulator fault: ms must be a non-negative number, got -1",
    ],
  ];
  for (const [name, fault, message] of cases) {
    it(name, async () => {
      const s = await sim();
      assert.throws(() => s.inject(fault as SimFault), (error: unknown) => {
        assert.ok(error instanceof TypeError, `a TypeError, got ${String(error)}`);
        assert.equal(error.message, message);
        return true;
      });
      // Nothing was added: the route still answers normally.
      assert.equal((await request(s, "GET", "/v1/models")).status, 200);
    });
  }

  it("well-formed faults are accepted and fire", async () => {
    const s = await sim();
    s.inject({
      match: /^\/v1\//,
      method: "get",
      kind: "respond",
      status: 503,
      body: { error: "busy" },
      times: 1,
    });
    s.inject({ match: "/v1/models", kind: "redirect", location: "/api/v1/models", times: 1 });
    assert.equal((await request(s, "GET", "/v1/models")).status, 503);
    const redirected = await fetch(`${s.url}/v1/models`, { redirect: "manual" });
    assert.equal(redirected.status, 302);
    await redirected.body?.cancel();
  });
});
