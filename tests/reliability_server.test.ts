/**
 * Reliability matrix, part 1 (issue 8): every hostile answer a server can give on the endpoints we
 * call makes the library settle within its deadline with the documented code and a hint, and never
 * leaves an unhandled rejection. The cases live in `_reliability.ts` (the secrets suite replays them).
 */
import assert from "node:assert/strict";
import { type AddressInfo, createServer as createNetServer, type Socket } from "node:net";
import { describe, it } from "node:test";
import { LMStudioClient } from "../src/client.ts";
import { startSimulator } from "../src/testing/simulator.ts";
import { GPT, QWEN, TOKEN } from "./_fixtures.ts";
import { rejectsWith, startServer } from "./_helpers.ts";
import {
  assertNoUnhandledRejections,
  collectUnhandledRejections,
  runServerCase,
  SERVER_CASES,
} from "./_reliability.ts";

collectUnhandledRejections();

const groups = [...new Set(SERVER_CASES.map((c) => c.group))];

describe("reliability: server answers", () => {
  it("covers at least 30 distinct cases over every endpoint we call", () => {
    assert.ok(SERVER_CASES.length >= 30, `${SERVER_CASES.length} cases`);
    const names = SERVER_CASES.map((c) => `${c.group}: ${c.name}`);
    assert.equal(new Set(names).size, names.length, "case names are distinct");
    assert.equal(groups.length, 8);
  });

  for (const group of groups) {
    describe(group, () => {
      for (const c of SERVER_CASES.filter((x) => x.group === group)) {
        // Above the case's own deadline (CASE_TIMEOUT_MS), so that a slow case fails as the case.
        it(`${c.name} → ${c.code}`, { timeout: 30_000 }, async () => {
          const { error } = await runServerCase(c);
          // The code is the one the CLI contract maps to an exit code; the message names what failed.
          assert.ok(error.message.length < 2000, "a bounded message");
          await assertNoUnhandledRejections();
        });
      }
    });
  }
});

describe("reliability: something that does not speak HTTP at all", () => {
  for (
    const [name, hangs] of [["an SSH banner, then close", false], [
      "an SSH banner, then silence",
      true,
    ]] as const
  ) {
    it(`${name} → NOT_LMSTUDIO`, { timeout: 8000 }, async () => {
      const sockets = new Set<Socket>();
      const server = createNetServer((socket) => {
        sockets.add(socket);
        socket.on("error", () => {});
        socket.write("SSH-2.0-OpenSSH_9.6\r\n");
        if (!hangs) socket.end();
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      try {
        const { port } = server.address() as AddressInfo;
        const client = new LMStudioClient({ baseUrl: `http://127.0.0.1:${port}`, env: () => undefined });
        // Not a wait: the banner is a parse error at once, in both variants; the deadline only bounds it.
        await rejectsWith(client.check({ timeoutMs: 5000 }), "NOT_LMSTUDIO", /does not speak HTTP/);
        await assertNoUnhandledRejections();
      } finally {
        for (const socket of sockets) socket.destroy();
        await new Promise((resolve) => server.close(resolve));
      }
    });
  }
});

describe("reliability: redirects are never followed", () => {
  it("a redirect on the server's own origin is named, not followed", { timeout: 8000 }, async () => {
    const sim = await startSimulator({ models: [GPT] });
    try {
      const client = new LMStudioClient({ baseUrl: sim.url, env: () => undefined });
      await client.check();
      await client.listModels();
      sim.inject({ match: "/api/v1/models", kind: "redirect", location: "/api/v1/models", times: 1 });
      await rejectsWith(client.listModels({ timeoutMs: 3000 }), "NOT_LMSTUDIO", /never redirects/);
      // One for the check (its listing is reused once), then the redirected one: nothing followed it.
      assert.equal(sim.requestCount("/api/v1/models"), 2);
    } finally {
      await sim.close();
    }
  });

  it(
    "an http → https move of the same host gets a hint to use the https URL",
    { timeout: 8000 },
    async () => {
      const sim = await startSimulator({ models: [GPT] });
      try {
        const host = new URL(sim.url).host;
        sim.inject({ match: "/api/v1/models", kind: "redirect", location: `https://${host}/api/v1/models` });
        const client = new LMStudioClient({ baseUrl: sim.url, env: () => undefined });
        const error = await rejectsWith(client.check({ timeoutMs: 3000 }), "NOT_LMSTUDIO", /to https:\/\//);
        assert.match(error.hint ?? "", new RegExp(`https://${host.replace(".", "\\.")}`));
      } finally {
        await sim.close();
      }
    },
  );

  it("never sends the token to the address it is redirected to", { timeout: 8000 }, async () => {
    const seen: (string | undefined)[] = [];
    const elsewhere = await startServer((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ models: [] }));
    });
    const sim = await startSimulator({ models: [GPT], auth: { token: TOKEN } });
    try {
      const client = new LMStudioClient({ baseUrl: sim.url, apiToken: TOKEN, env: () => undefined });
      await client.check();
      await client.listModels();
      sim.inject({
        match: "/api/v1/models",
        kind: "redirect",
        location: `${elsewhere.url}/api/v1/models`,
        times: 1,
      });
      await rejectsWith(client.listModels({ timeoutMs: 3000 }), "NOT_LMSTUDIO", new RegExp(elsewhere.url));
      assert.deepEqual(seen, []);
    } finally {
      await sim.close();
      await elsewhere.close();
    }
  });
});

describe("reliability: the happy path still holds next to the faults", () => {
  it("a fault that fired once does not poison the next call", { timeout: 8000 }, async () => {
    const sim = await startSimulator({ models: [GPT, QWEN] });
    try {
      const client = new LMStudioClient({ baseUrl: sim.url, env: () => undefined });
      sim.inject({ match: "/api/v1/models", kind: "close", times: 1 });
      await rejectsWith(client.check({ timeoutMs: 3000 }), "SERVER_UNREACHABLE");
      assert.equal((await client.check({ timeoutMs: 3000 })).api, "v1");
      await client.listModels({ timeoutMs: 3000 }); // uses up the check's listing
      sim.inject({ match: "/api/v1/models", kind: "hang", times: 1 });
      await rejectsWith(client.listModels({ timeoutMs: 300 }), "TIMEOUT");
      assert.equal((await client.listModels({ timeoutMs: 3000 })).length, 2);
    } finally {
      await sim.close();
    }
  });
});

it("reliability (server): no unhandled rejection in the whole file", async () => {
  await assertNoUnhandledRejections();
});
