/**
 * Reliability matrix, part 4 (issue 8): with an API token set, no failure path shows it. Every
 * server-answer case of the matrix is replayed with the token (library errors with their whole
 * `cause` chain through util.inspect, and the CLI's stdout, stderr and --json), plus `lms`
 * failures that echo it, servers that echo it, and URLs with `user:password@` credentials.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { inspect } from "node:util";
import { LMStudioClient } from "../src/client.ts";
import { type EnsureEvent, ensureReady } from "../src/ensure.ts";
import { ensureOssReady } from "../src/ensure_oss.ts";
import { LMStudioError } from "../src/errors.ts";
import type { FakeLmsScript } from "../src/testing/fake_lms.ts";
import { startSimulator } from "../src/testing/simulator.ts";
import { GPT, NEW, OTHER_TOKEN, QWEN, TOKEN } from "./_fixtures.ts";
import { closedPortUrl, rejection, rejectsWith, startServer } from "./_helpers.ts";
import {
  assertNoSecrets,
  assertNoUnhandledRejections,
  cli,
  collectUnhandledRejections,
  everythingAbout,
  runServerCase,
  SERVER_CASES,
  simulatorForCli,
  withLmsRig,
} from "./_reliability.ts";

collectUnhandledRejections();

/** Above the library cases' own deadline (CASE_TIMEOUT_MS), so that a slow case fails as the case. */
const T = { timeout: 30_000 };
/** Credentials that appear in URLs below; they must be redacted wherever they would show. */
const URL_PASSWORD = "s3cr3tPw0rd";

it("the scanner itself catches a leaked token, a piece of it, and URL credentials", () => {
  assert.throws(() => assertNoSecrets(`Bearer ${TOKEN}`, "probe"));
  assert.throws(() => assertNoSecrets(`provided: ${TOKEN.slice(0, 10)}...`, "probe"));
  assert.throws(() => assertNoSecrets("fetching http://bob:hunter2@hf.example/x", "probe"));
  assertNoSecrets("fetching http://[redacted]@hf.example/x, token [redacted]", "probe");
});

describe("reliability: the token never shows (library, every server-answer case)", () => {
  for (const c of SERVER_CASES) {
    it(`${c.group}: ${c.name}`, T, async () => {
      // Deadlines are cut short here: what is checked is what the error shows, not when it comes.
      const { error } = await runServerCase(c, { token: TOKEN, hangMs: 250 });
      assertNoSecrets(everythingAbout(error), `${c.code} error`);
      await assertNoUnhandledRejections();
    });
  }
});

describe("reliability: the token never shows (CLI, every server-answer case)", () => {
  SERVER_CASES.forEach((c, index) => {
    it(`${c.group}: ${c.name}`, T, async () => {
      const server = await simulatorForCli(c, TOKEN);
      try {
        // Half the runs take the token from the environment, half from --token.
        const viaFlag = index % 2 === 1;
        // A manual download never moves on without the library case's own steps: cut it short too.
        const short = c.timeoutMs !== undefined || c.state?.download?.mode === "manual";
        const args = [
          ...(c.cli ?? ["check"]),
          "--json",
          "--url",
          server.url,
          "--timeout",
          short ? "250ms" : "5s",
        ];
        const env: Record<string, string> = { LMSTUDIO_LMS_PATH: "/nonexistent/lms-must-not-run" };
        if (viaFlag) args.push("--token", TOKEN);
        else env.LM_API_TOKEN = TOKEN;
        const run = await cli(args, env);
        assertNoSecrets(`${run.stdout}\n${run.stderr}`, `CLI ${args[0]} (exit ${run.code})`);
        if (run.code !== 0) assert.equal(run.json?.ok, false);
      } finally {
        await server.close();
      }
    });
  });
});

describe("reliability: servers and lms that echo the token", () => {
  it("a wrong token echoed by a 401 (first characters) is redacted", T, async () => {
    const sim = await startSimulator({ models: [GPT], auth: { token: OTHER_TOKEN } });
    try {
      const client = new LMStudioClient({ baseUrl: sim.url, apiToken: TOKEN, env: () => undefined });
      const error = await rejectsWith(client.check({ timeoutMs: 3000 }), "AUTH_REQUIRED", /\[redacted\]/);
      assertNoSecrets(everythingAbout(error), "401");
      const run = await cli(["models", "--json", "--url", sim.url], { LM_API_TOKEN: TOKEN });
      assert.equal(run.code, 4);
      assertNoSecrets(run.stdout + run.stderr, "CLI 401");
    } finally {
      await sim.close();
    }
  });

  it(
    "a server error that quotes the Authorization header and a URL with credentials is redacted",
    T,
    async () => {
      const sim = await startSimulator({ models: [GPT, QWEN], auth: { token: TOKEN } });
      try {
        const quoted =
          `Bad header 'Authorization: Bearer ${TOKEN}' while fetching http://bob:${URL_PASSWORD}@hf.example/x`;
        sim.inject({
          match: "/api/v1/models/load",
          kind: "respond",
          status: 500,
          body: { error: { message: quoted } },
        });
        sim.inject({
          match: "/api/v1/models/download",
          kind: "respond",
          status: 200,
          body: { error: quoted },
        });
        const client = new LMStudioClient({ baseUrl: sim.url, apiToken: TOKEN, env: () => undefined });
        const load = await rejectsWith(client.loadModel(GPT.key, { timeoutMs: 3000 }), "LOAD_FAILED");
        const download = await rejectsWith(
          client.downloadModel(NEW.key, { timeoutMs: 3000 }),
          "DOWNLOAD_FAILED",
        );
        for (const error of [load, download]) {
          assertNoSecrets(everythingAbout(error), error.code, [
            URL_PASSWORD,
          ]);
        }
        for (const args of [["load", GPT.key], ["download", NEW.key]]) {
          const run = await cli([...args, "--json", "--url", sim.url], { LM_API_TOKEN: TOKEN });
          assert.notEqual(run.code, 0);
          assertNoSecrets(run.stdout + run.stderr, `CLI ${args[0]}`, [URL_PASSWORD]);
        }
      } finally {
        await sim.close();
      }
    },
  );

  const lmsEchoes: [string, FakeLmsScript, (c: LMStudioClient) => Promise<unknown>, string[]][] = [
    [
      "lms get fails printing the token and a credentialed URL",
      {
        get: {
          exitCode: 1,
          stderr: `Error: 401 for ${TOKEN} at http://me:${URL_PASSWORD}@registry.example/\n`,
        },
      },
      (c) => c.downloadModel(NEW.key, { timeoutMs: 3000 }),
      ["download", NEW.key],
    ],
    [
      "lms load is killed after printing the token",
      { load: { stdout: `token=${TOKEN}\n`, stderr: `Error: bearer ${TOKEN}\n`, killSelf: "SIGKILL" } },
      (c) => c.loadModel(GPT.key, { timeoutMs: 3000 }),
      ["load", GPT.key],
    ],
    [
      "lms ps prints the token instead of JSON",
      { ps: { stdout: `LM_API_TOKEN=${TOKEN}\n`, exitCode: 0 } },
      (c) => c.unloadModel(QWEN.key, { timeoutMs: 3000 }),
      ["unload", QWEN.key],
    ],
  ];
  for (const [name, script, call, args] of lmsEchoes) {
    it(name, T, async () => {
      await withLmsRig({ script, client: { apiToken: TOKEN } }, async ({ sim, fake, client }) => {
        const thrown = await rejection(call(client));
        assertNoSecrets(everythingAbout(thrown), thrown.code, [URL_PASSWORD]);
        const run = await cli([...args, "--json", "--url", sim.url, "--lms", fake.path], {
          LM_API_TOKEN: TOKEN,
        });
        assert.notEqual(run.code, 0);
        assertNoSecrets(run.stdout + run.stderr, `CLI ${args[0]}`, [URL_PASSWORD]);
      });
    });
  }
});

describe("reliability: a token typed in the wrong place", () => {
  // Each case has a token of its own, registered nowhere before: the redaction must come from the
  // CLI knowing its token before it parses, or from the token's well-known shape.
  const lmToken = (id: string) => `sk-lm-${id}:Wr0ngPlace0123456789`;
  const runs: [string, string[], Record<string, string>, string][] = [
    ["as the command, with LM_API_TOKEN set", [lmToken("AsCmd001"), "--json"], {
      LM_API_TOKEN: lmToken("AsCmd001"),
    }, lmToken("AsCmd001")],
    ["as an extra argument, with LM_API_TOKEN set", ["check", "own-format-1a2b3c", "--json"], {
      LM_API_TOKEN: "own-format-1a2b3c",
    }, "own-format-1a2b3c"],
    ["as a model name, with LM_API_TOKEN set", ["load", "--json", "--", "-own-format-4d5e6f"], {
      LM_API_TOKEN: "-own-format-4d5e6f",
    }, "own-format-4d5e6f"],
    [
      "as a --timeout value next to --token",
      ["check", "--json", "--timeout", "own-format-7g8h9i", "--token", "own-format-7g8h9i"],
      {},
      "own-format-7g8h9i",
    ],
    [
      "as a stray argument next to --token=",
      ["check", "own-format-0j1k2l", "--token=own-format-0j1k2l"],
      {},
      "own-format-0j1k2l",
    ],
    ["an LM Studio token nobody registered", ["models", lmToken("NotRegd1")], {}, lmToken("NotRegd1")],
  ];
  for (const [name, args, env, secret] of runs) {
    it(name, async () => {
      const run = await cli(args, env);
      assert.equal(run.code, 2, run.stderr);
      assertNoSecrets(run.stdout + run.stderr, name, [secret]);
      assert.match(run.stderr, /\[redacted\]/);
    });
  }
});

describe("reliability: URL credentials", () => {
  it("--url and LMSTUDIO_URL with user:password@ are refused without echoing them", T, async () => {
    const url = `http://admin:${URL_PASSWORD}@127.0.0.1:1234/v1`;
    for (
      const run of [await cli(["check", "--json", "--url", url]), await cli(["check"], { LMSTUDIO_URL: url })]
    ) {
      assert.equal(run.code, 2);
      assertNoSecrets(run.stdout + run.stderr, "CLI", [URL_PASSWORD, "admin:"]);
    }
    const thrown = (() => {
      try {
        new LMStudioClient({ baseUrl: url, env: () => undefined });
      } catch (error) {
        return error;
      }
    })();
    assert.ok(thrown instanceof LMStudioError && thrown.code === "USAGE");
    assertNoSecrets(everythingAbout(thrown), "constructor", [URL_PASSWORD]);
  });

  it(
    "a redirect to a URL with credentials: named, not followed, credentials and token redacted",
    T,
    async () => {
      const target = new URL(await closedPortUrl());
      const sim = await startSimulator({ models: [GPT], auth: { token: TOKEN } });
      try {
        const location = `http://admin:${URL_PASSWORD}@${target.host}/api/v1/models`;
        sim.inject({ match: "/api/v1/models", kind: "redirect", location });
        const client = new LMStudioClient({ baseUrl: sim.url, apiToken: TOKEN, env: () => undefined });
        let thrown: unknown;
        await client.check({ timeoutMs: 3000 }).catch((error: unknown) => (thrown = error));
        assert.ok(thrown instanceof LMStudioError, inspect(thrown));
        assert.equal(thrown.code, "NOT_LMSTUDIO", thrown.message);
        assert.match(thrown.message, new RegExp(`to http://${target.host}/api/v1/models`));
        assert.ok(thrown.hint);
        assertNoSecrets(everythingAbout(thrown), "redirect", [URL_PASSWORD]);
        const run = await cli(["check", "--json", "--url", sim.url], { LM_API_TOKEN: TOKEN });
        assertNoSecrets(run.stdout + run.stderr, "CLI redirect", [URL_PASSWORD]);
      } finally {
        await sim.close();
      }
    },
  );
});

describe("reliability: the token never shows (other surfaces)", () => {
  it("ensureReady's events and error, and ensureOssReady's warnings", T, async () => {
    const sim = await startSimulator({ models: [GPT], catalog: [NEW], auth: { token: TOKEN } });
    try {
      sim.inject({
        match: "/api/v1/models/download",
        kind: "respond",
        status: 500,
        body: { error: `denied ${TOKEN}` },
      });
      const events: EnsureEvent[] = [];
      const error = await rejectsWith(
        ensureReady({
          baseUrl: sim.url,
          apiToken: TOKEN,
          env: () => undefined,
          model: NEW.key,
          onEvent: (e) => events.push(e),
          timeoutMs: 3000,
        }),
        "DOWNLOAD_FAILED",
      );
      assertNoSecrets(`${everythingAbout(error)}\n${inspect(events, { depth: 20 })}`, "ensureReady");
      sim.clearFaults();
      sim.inject({
        match: "/api/v1/models",
        kind: "respond",
        status: 500,
        body: { error: `listing failed for ${TOKEN}` },
      });
      sim.inject({
        match: "/api/v1/models/load",
        kind: "respond",
        status: 500,
        body: { error: `load failed for ${TOKEN}` },
      });
      const warnings: string[] = [];
      const handle = await ensureOssReady({ baseUrl: sim.url, apiToken: TOKEN, model: GPT.key }, {
        env: () => undefined,
        onWarning: (message, warning) => warnings.push(message, everythingAbout(warning)),
      }).catch((e: unknown) => e);
      if (!(handle instanceof Error)) await (handle as { load: Promise<unknown> }).load;
      assertNoSecrets(`${everythingAbout(handle)}\n${warnings.join("\n")}`, "ensureOssReady");
    } finally {
      await sim.close();
    }
  });

  it("a client logged with util.inspect or JSON does not show its token", () => {
    const client = new LMStudioClient({
      baseUrl: "http://127.0.0.1:9",
      apiToken: TOKEN,
      env: () => undefined,
    });
    assertNoSecrets(inspect(client, { depth: 20, showHidden: true }), "inspect(client)");
    assertNoSecrets(JSON.stringify(client), "JSON.stringify(client)");
  });

  it("a token only the environment holds is redacted from an unreachable server's error", T, async () => {
    const url = await closedPortUrl();
    const client = new LMStudioClient({
      baseUrl: url,
      env: (name) => (name === "LM_API_TOKEN" ? TOKEN : undefined),
    });
    const error = await rejectsWith(client.listModels({ timeoutMs: 3000 }), "SERVER_UNREACHABLE");
    assertNoSecrets(everythingAbout(error), "refused");
  });

  it("a server that is not LM Studio and echoes every request header back", T, async () => {
    const echo = await startServer((req, res) => {
      res.writeHead(404, { "content-type": "text/plain" }).end(
        `no route; you sent ${JSON.stringify(req.headers)}`,
      );
    });
    try {
      const client = new LMStudioClient({ baseUrl: echo.url, apiToken: TOKEN, env: () => undefined });
      const error = await rejectsWith(client.check({ timeoutMs: 3000 }), "NOT_LMSTUDIO");
      assertNoSecrets(everythingAbout(error), "echo");
      const run = await cli(["check", "--json", "--url", echo.url, "--token", TOKEN]);
      assert.equal(run.code, 3);
      assertNoSecrets(run.stdout + run.stderr, "CLI echo");
    } finally {
      await echo.close();
    }
  });
});

it("reliability (secrets): no unhandled rejection in the whole file", async () => {
  await assertNoUnhandledRejections();
});
