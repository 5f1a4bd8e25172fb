/**
 * The CLI contract on failure: what a failed run says, and where. Errors reach stderr even with
 * `-q`; the JSON document says what is known (the URL the run would have used, what was done so far,
 * whether a server answered) and nothing that was not observed; a usage error never shows a token,
 * wherever the configuration says it lives; one `--timeout` bounds the whole run.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createFakeLms } from "../src/testing/fake_lms.ts";
import { FAST, GPT, QWEN } from "./_fixtures.ts";
import { cleanly, closedPortUrl, useSimulators, workspace } from "./_helpers.ts";
import { cli } from "./_reliability.ts";

const sim = useSimulators();

/**
 * A JSON document with its error reduced to the code: the rest is asserted whole, the message and
 * hint apart where they matter.
 */
function shape(run: { json?: Record<string, unknown> }): Record<string, unknown> {
  assert.ok(run.json, "a JSON document");
  const { error, ...rest } = run.json as Record<string, unknown> & { error?: { code: string } };
  return error === undefined ? rest : { ...rest, error: { code: error.code } };
}

describe("CLI failures: errors are not narration", () => {
  it("-q keeps the error and its hint on stderr (and --json on stdout)", async () => {
    const url = await closedPortUrl();
    const quiet = await cli(["check", "-q", "--url", url]);
    assert.equal(quiet.code, 3);
    assert.equal(quiet.stdout, "");
    assert.match(quiet.stderr, /^error: .*\n {2}hint: /);
    const json = await cli(["check", "-q", "--json", "--url", url]);
    assert.equal(json.json!.error!.code, "SERVER_UNREACHABLE");
    assert.match(json.stderr, /^error: /);
  });
});

describe("CLI failures: the JSON document claims only what is known", () => {
  it("a usage error in the flags still names the URL the run would have used, and its source", async () => {
    const run = await cli(["check", "--json", "--timeout", "0"], { LMSTUDIO_URL: "http://gpu-box:4321/v1" });
    assert.equal(run.code, 2);
    assert.equal(run.json!.baseUrl, "http://gpu-box:4321");
    assert.equal(run.json!.baseUrlSource, "env");
  });

  it("…and the --url among the flags, when it is the only one; with two, no URL is claimed", async () => {
    const one = await cli(["check", "--json", "--bogus", "--url", "http://gpu-box:4321"]);
    assert.equal(one.code, 2);
    assert.equal(one.json!.baseUrl, "http://gpu-box:4321");
    assert.equal(one.json!.baseUrlSource, "option");
    const two = await cli(["check", "--json", "--bogus", "--url", "http://a:1", "--url=http://b:2"]);
    assert.equal(two.json!.baseUrl, null);
    assert.equal(two.json!.baseUrlSource, null);
  });

  it(
    "check and ensure always give baseUrlSource: null where the configuration could not be resolved",
    cleanly(async (defer) => {
      const unresolved = { ok: false, baseUrl: null, baseUrlSource: null, error: { code: "USAGE" } };
      const check = { ...unresolved, command: "check", server: { reachable: false, api: null } };
      // `--url` with no value: before another flag (taken as its value), or at the end.
      assert.deepEqual(shape(await cli(["check", "--url", "--json"])), check);
      assert.deepEqual(shape(await cli(["check", "--json", "--url"])), check);
      // A vtcode.toml that cannot be read as TOML.
      const dir = workspace(defer, { "vtcode.toml": "[lmstudio\nbase_url = \n" });
      const malformed = await cli(["check", "--json"], {}, { cwd: dir });
      assert.equal(malformed.code, 2, malformed.stderr);
      assert.deepEqual(shape(malformed), check);
      const ensure = await cli(["ensure", "--json"], {}, { cwd: dir });
      assert.equal(ensure.code, 2, ensure.stderr);
      assert.deepEqual(shape(ensure), {
        ...unresolved,
        command: "ensure",
        model: null,
        downloaded: false,
        loaded: null,
        instanceId: null,
        contextLength: null,
        actions: [],
      });
      // A configured URL that is not one: no URL claimed, its source still said.
      assert.deepEqual(shape(await cli(["check", "--json"], { LMSTUDIO_URL: "ftp://x" })), {
        ...check,
        baseUrlSource: "env",
      });
    }),
  );

  it(
    "a usage error names the command typed, even after a flag's value, and ensure's model from the config",
    cleanly(async (defer) => {
      const dir = workspace(defer, { "vtcode.toml": `[lmstudio]\nmodel = "qwen/qwen3-4b-2507"\n` });
      const run = await cli(["--url", "http://x:1", "ensure", "--frob", "--json"], {}, { cwd: dir });
      assert.equal(run.code, 2);
      const doc = run.json as Record<string, unknown>;
      assert.equal(doc.command, "ensure");
      assert.equal(doc.model, "qwen/qwen3-4b-2507");
      assert.deepEqual(doc.actions, []);
    }),
  );

  it(
    "a usage error's model is the one the command line names when valid, null when rejected, else ensure's configured one",
    cleanly(async (defer) => {
      const dir = workspace(defer, { "vtcode.toml": `[lmstudio]\nmodel = "qwen/qwen3-4b-2507"\n` });
      const nothingDone = { downloaded: false, loaded: null, actions: [] };
      const known = { instanceId: null, contextLength: null };
      const cases: [string[], Record<string, unknown>][] = [
        // Rejected names: nothing was acted on, and the configured model is not what was named.
        [["ensure", "a\nb"], { model: null, ...known }],
        [["ensure", "--model=-x"], { model: null, ...known }],
        [["ensure", "a/b", "--model", "c/d"], { model: null, ...known }],
        [["ensure", "a/b", "c/d"], { model: null, ...known }],
        [["load", "--", "-x"], { model: null, ...known }],
        // Valid names, whatever else is wrong with the line (a flag for another command, an unknown one).
        [["download", "m", "--start-server"], { model: "m" }],
        [["ensure", "m", "--frob"], { model: "m", ...known }],
        [["ensure", "--frob", "--model", "m"], { model: "m", ...known }],
        [["unload", "m", "--all"], { model: "m" }],
        [["load", "m", "--context-length", "0"], { model: "m", ...known }],
        // None named: ensure's model is the configured one; the others have none.
        [["ensure", "--context-length", "0"], { model: "qwen/qwen3-4b-2507", ...known }],
        [["load"], { model: null, ...known }],
      ];
      for (const [argv, fields] of cases) {
        const run = await cli([...argv, "--json"], {}, { cwd: dir });
        assert.equal(run.code, 2, `${JSON.stringify(argv)}: ${run.stderr}`);
        const doc = shape(run);
        const command = argv[0];
        assert.deepEqual(doc, {
          ok: false,
          command,
          baseUrl: "http://localhost:1234",
          ...(command === "ensure" ? { baseUrlSource: "default" } : {}),
          error: { code: "USAGE" },
          ...nothingDone,
          ...fields,
        }, JSON.stringify(argv));
      }
    }),
  );

  it("server.reachable is true when something answered: not LM Studio, a malformed listing", async () => {
    const s = await sim({ models: [GPT] });
    s.inject({ match: "/api/v1/models", kind: "respond", body: { models: [{ key: 42 }] } });
    // A generous deadline: the first malformed listing of a process loads zod inside it (~0.3 s).
    const malformed = await cli(["check", "--json", "--timeout", "30s", "--url", s.url]);
    assert.equal(malformed.json!.error!.code, "INVALID_RESPONSE");
    assert.deepEqual((malformed.json as Record<string, unknown>).server, { reachable: true, api: null });
    const down = await cli(["check", "--json", "--url", await closedPortUrl()]);
    assert.deepEqual((down.json as Record<string, unknown>).server, { reachable: false, api: null });
  });

  it("a failed ensure says the model and the steps started, the last being the one that failed", async () => {
    const s = await sim({ models: [QWEN], catalog: [GPT], download: FAST });
    s.failNextDownload(GPT.key, 0.5);
    const run = await cli(["ensure", GPT.key, "--json", "-q", "--url", s.url]);
    assert.equal(run.code, 6);
    const doc = run.json as Record<string, unknown>;
    assert.equal(doc.model, GPT.key);
    assert.deepEqual(doc.actions, ["check", "list", "download"]);
    assert.equal(doc.downloaded, false);
    assert.equal(doc.loaded, null);
    assert.deepEqual(shape(run), {
      ok: false,
      command: "ensure",
      baseUrl: s.url,
      baseUrlSource: "option",
      error: { code: "DOWNLOAD_FAILED" },
      model: GPT.key,
      downloaded: false,
      loaded: null,
      instanceId: null,
      contextLength: null,
      actions: ["check", "list", "download"],
    });
  });

  it("exit 9 after LM Studio loaded less than asked: the document says the model is loaded (it stays so)", async () => {
    for (const command of ["ensure", "load"]) {
      const s = await sim({ models: [GPT], memory: { maxContextLength: 12288 } });
      const run = await cli([command, GPT.key, "--context-length", "32768", "--json", "-q", "--url", s.url]);
      assert.equal(run.code, 9, run.stderr);
      const doc = run.json as Record<string, unknown>;
      assert.equal(doc.loaded, true, command);
      assert.equal(s.state.loaded().length, 1);
    }
  });

  it("exit 9 after a load: the document names the instance LM Studio loaded and the context it gave", async () => {
    for (const command of ["ensure", "load"]) {
      for (const before of [[], [{ key: GPT.key, contextLength: 4096 }]]) {
        const s = await sim({ models: [GPT], loaded: before, memory: { maxContextLength: 12288 } });
        const run = await cli([
          command,
          GPT.key,
          "--context-length",
          "32768",
          "--json",
          "-q",
          "--url",
          s.url,
        ]);
        assert.equal(run.code, 9, run.stderr);
        assert.match(run.json!.error!.message, /12288 tokens, less than the 32768 asked/);
        assert.deepEqual(shape(run), {
          ok: false,
          command,
          baseUrl: s.url,
          ...(command === "ensure" ? { baseUrlSource: "option" } : {}),
          error: { code: "MODEL_UNSUITABLE" },
          model: GPT.key,
          downloaded: false,
          loaded: true,
          instanceId: GPT.key,
          contextLength: 12288,
          // An instance with too little is replaced first.
          actions: before.length > 0 ? ["check", "list", "unload", "load"] : ["check", "list", "load"],
        }, `${command} with ${before.length} instance(s) before`);
      }
    }
  });

  it("a failed load says what is loaded now: nothing (null instance), or the instance a replace left", async () => {
    const s = await sim({ models: [GPT] });
    s.failNextLoad(GPT.key, "Insufficient VRAM");
    const failed = await cli(["load", GPT.key, "--json", "-q", "--url", s.url]);
    assert.equal(failed.code, 7, failed.stderr);
    assert.deepEqual(shape(failed), {
      ok: false,
      command: "load",
      baseUrl: s.url,
      error: { code: "LOAD_FAILED" },
      model: GPT.key,
      downloaded: false,
      loaded: false,
      instanceId: null,
      contextLength: null,
      actions: ["check", "list", "load"],
    });
    const kept = await sim({ models: [GPT], loaded: [{ key: GPT.key, contextLength: 4096 }] });
    kept.inject({
      match: "/api/v1/models/unload",
      kind: "respond",
      status: 500,
      body: { error: { message: "x" } },
    });
    const replace = await cli([
      "load",
      GPT.key,
      "--context-length",
      "8192",
      "--json",
      "-q",
      "--url",
      kept.url,
    ]);
    assert.notEqual(replace.code, 0);
    assert.deepEqual(shape(replace), {
      ok: false,
      command: "load",
      baseUrl: kept.url,
      error: { code: "INTERNAL" },
      model: GPT.key,
      downloaded: false,
      loaded: true,
      instanceId: GPT.key,
      contextLength: 4096,
      actions: ["check", "list", "unload"],
    });
  });

  it("load and unload record each step as it starts: a timeout in the check is [check]", async () => {
    const hung = await sim({ models: [GPT], loaded: [GPT.key] });
    hung.inject({ match: "/api/v1/models", kind: "hang" });
    // The listing hangs, so the deadline surely falls in the check; 2 s leaves a slow machine time to
    // start the check first.
    const T = ["--timeout", "2s", "--json", "-q", "--url", hung.url];
    const nothingKnown = { downloaded: false, loaded: null, actions: ["check"] };
    const timedOut = { ok: false, baseUrl: hung.url, error: { code: "TIMEOUT" }, ...nothingKnown };
    const load = await cli(["load", GPT.key, ...T]);
    assert.equal(load.code, 124, load.stderr);
    assert.match(load.json!.error!.message, /Loading openai\/gpt-oss-20b timed out after 2s/);
    assert.deepEqual(shape(load), {
      ...timedOut,
      command: "load",
      model: GPT.key,
      instanceId: null,
      contextLength: null,
    });
    for (const [target, model] of [[["--all"], null], [[GPT.key], GPT.key]] as const) {
      const unload = await cli(["unload", ...target, ...T]);
      assert.equal(unload.code, 124, unload.stderr);
      assert.deepEqual(shape(unload), { ...timedOut, command: "unload", model });
    }
    assert.equal(hung.state.loaded().length, 1, "nothing was unloaded");
  });

  it("load of a model the listing does not show stops after the listing: [check, list]", async () => {
    const s = await sim({ models: [GPT] });
    const run = await cli(["load", "nope/nope", "--json", "-q", "--url", s.url]);
    assert.equal(run.code, 5, run.stderr);
    assert.deepEqual(shape(run), {
      ok: false,
      command: "load",
      baseUrl: s.url,
      error: { code: "MODEL_NOT_FOUND" },
      model: "nope/nope",
      downloaded: false,
      loaded: null,
      instanceId: null,
      contextLength: null,
      actions: ["check", "list"],
    });
  });

  it("an unload that fails ends on the unload step; one that succeeds says its steps", async () => {
    const s = await sim({ models: [GPT, QWEN], loaded: [GPT.key, QWEN.key] });
    s.inject({
      match: "/api/v1/models/unload",
      kind: "respond",
      status: 500,
      body: { error: { message: "Instance is busy" } },
      times: 1,
    });
    const failed = await cli(["unload", GPT.key, "--json", "-q", "--url", s.url]);
    assert.equal(failed.code, 1, failed.stderr);
    assert.deepEqual(shape(failed), {
      ok: false,
      command: "unload",
      baseUrl: s.url,
      error: { code: "INTERNAL" },
      model: GPT.key,
      downloaded: false,
      loaded: null,
      actions: ["check", "list", "unload"],
    });
    const all = await cli(["unload", "--all", "--json", "-q", "--url", s.url]);
    assert.equal(all.code, 0, all.stderr);
    assert.deepEqual(shape(all), {
      ok: true,
      command: "unload",
      baseUrl: s.url,
      model: null,
      downloaded: false,
      loaded: false,
      unloaded: [GPT.key, QWEN.key],
      actions: ["check", "list", "unload"],
    });
  });

  it("a replace whose unload fails ends on the unload step, and says the old instance is still loaded", async () => {
    const s = await sim({ models: [GPT], loaded: [{ key: GPT.key, contextLength: 4096 }] });
    s.inject({
      match: "/api/v1/models/unload",
      kind: "respond",
      status: 500,
      body: { error: { message: "x" } },
    });
    const run = await cli(["ensure", GPT.key, "--context-length", "8192", "--json", "--url", s.url]);
    assert.notEqual(run.code, 0);
    const doc = run.json as Record<string, unknown>;
    assert.deepEqual(doc.actions, ["check", "list", "unload"]);
    assert.equal(doc.loaded, true);
    assert.doesNotMatch(run.stderr, /Loading/);
  });

  it("download of a model already there: downloaded false, and the steps as they ran", async () => {
    const s = await sim({ models: [GPT], catalog: [GPT] });
    const run = await cli(["download", GPT.key, "--json", "--url", s.url]);
    assert.equal(run.code, 0);
    const doc = run.json as Record<string, unknown>;
    assert.equal(doc.downloaded, false);
    assert.deepEqual(doc.actions, ["check", "download", "list"]);
  });
});

describe("CLI failures: hints in flag words", () => {
  it("an http → https redirect: point --url at the https address", async () => {
    const s = await sim({ models: [GPT] });
    const host = new URL(s.url).host;
    s.inject({ match: "/api/v1/models", kind: "redirect", location: `https://${host}/api/v1/models` });
    const run = await cli(["check", "--json", "--url", s.url]);
    assert.equal(run.code, 3);
    assert.equal(run.json!.error!.hint, `The server wants https: point --url at https://${host}.`);
  });
});

describe("CLI failures: hints fit the command", () => {
  it("unload of a model the server does not have: check the name, never download it first", async () => {
    const s = await sim({ models: [GPT], loaded: [GPT.key] });
    const run = await cli(["unload", "nope/nope", "--json", "--url", s.url]);
    assert.equal(run.code, 5);
    assert.equal(run.json!.error!.code, "MODEL_NOT_FOUND");
    assert.match(run.json!.error!.hint!, /`vtcode-lmstudio models`/);
    assert.doesNotMatch(run.json!.error!.hint!, /[Dd]ownload/);
    assert.equal(s.state.loaded().length, 1, "nothing was unloaded");
    // The listing showed no such model: the unload step never started.
    assert.deepEqual(shape(run), {
      ok: false,
      command: "unload",
      baseUrl: s.url,
      error: { code: "MODEL_NOT_FOUND" },
      model: "nope/nope",
      downloaded: false,
      loaded: null,
      actions: ["check", "list"],
    });
  });
});

describe("CLI failures: the hint covers every capability lacking", () => {
  it("--require tool-use,vision on a model with neither names both, and the flag", async () => {
    const s = await sim({ models: [{ key: "plain/text-only", trainedForToolUse: false, vision: false }] });
    const run = await cli([
      "ensure",
      "plain/text-only",
      "--require",
      "tool-use,vision",
      "--json",
      "--url",
      s.url,
    ]);
    assert.equal(run.code, 9);
    assert.match(run.json!.error!.message, /lacks tool-use and vision/);
    assert.match(run.json!.error!.hint!, /vision model trained for tool use.*--require/);
  });
});

describe("CLI failures: the auth hint names the variable the configuration reads", () => {
  it(
    "api_token_env in vtcode.toml: no token says to set that variable; LM_API_TOKEN still counts, named when wrong",
    cleanly(async (defer) => {
      const token = "sk-lm-Abcd1234:ZyXw9876VuTs5432RqPo";
      const s = await sim({ models: [GPT], auth: { token } });
      const dir = workspace(defer, { "vtcode.toml": `[lmstudio]\napi_token_env = "MY_TOK"\n` });
      const none = await cli(["check", "--json", "--url", s.url], {}, { cwd: dir });
      assert.equal(none.code, 4);
      assert.match(none.json!.error!.hint!, /set MY_TOK \(or pass --token\)/);
      const contract = await cli(["check", "--json", "--url", s.url], { LM_API_TOKEN: token }, { cwd: dir });
      assert.equal(contract.code, 0, "the contract's LM_API_TOKEN works beside a file's api_token_env");
      const wrong = await cli(["check", "--json", "--url", s.url], {
        LM_API_TOKEN: "sk-lm-Wrong123:Nope4567",
      }, {
        cwd: dir,
      });
      assert.equal(wrong.code, 4);
      assert.match(
        wrong.json!.error!.hint!,
        /rejected the token from LM_API_TOKEN\. .* put it in LM_API_TOKEN\./,
      );
    }),
  );
});

describe("CLI failures: -q and secrets", () => {
  it("-q keeps warnings: a context LM Studio does not report is said even then", async () => {
    const s = await sim({ version: "0.2", models: [GPT] });
    const run = await cli(["ensure", GPT.key, "--context-length", "8192", "-q", "--json", "--url", s.url], {
      LMSTUDIO_LMS_PATH: "/no/such/lms",
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal((run.json as Record<string, unknown>).contextLength, null);
    assert.match(run.stderr, /^warning: /m);
    assert.doesNotMatch(run.stderr, /›/, "no narration");
  });

  it("a model name that is the token is redacted in the failure document and the narration", async () => {
    const token = "PlainTok3nValue987654";
    const s = await sim({ models: [GPT] });
    const run = await cli(["ensure", token, "--json", "--no-download", "--url", s.url], {
      LM_API_TOKEN: token,
    });
    assert.equal(run.code, 5);
    assert.ok(!run.stdout.includes(token) && !run.stderr.includes(token), run.stdout + run.stderr);
    assert.equal((run.json as Record<string, unknown>).model, "[redacted]");
  });
});

describe("CLI failures: inputs", () => {
  it("--url '' is a usage error, like --token '' and --lms '' (a script's unset variable)", async () => {
    const run = await cli(["check", "--json", "--url", ""]);
    assert.equal(run.code, 2);
    assert.match(run.json!.error!.message, /--url is empty/);
  });

  it("a flag whose value starts with a dash says how to write such a value", async () => {
    for (
      const [argv, written] of [
        [["--timeout", "-5"], "'--timeout=-XYZ'"],
        [["-m", "-x"], "'--model=-XYZ' or '-m-XYZ'"],
      ] as const
    ) {
      const run = await cli(["ensure", ...argv, "--json"]);
      assert.equal(run.code, 2, run.stderr);
      assert.equal(run.json!.error!.code, "USAGE");
      assert.equal(
        run.json!.error!.message,
        `Option '${
          argv[0]
        }' argument is ambiguous: did you forget its value? (a value that starts with a dash is written ${written})`,
      );
    }
  });

  it("which-lms asks no server: a configured URL that is not one does not stop it", async () => {
    const run = await cli(["which-lms", "--json"], {
      LMSTUDIO_URL: "ftp://x",
      LMSTUDIO_LMS_PATH: "/no/such/lms",
    });
    assert.equal(run.code, 8, run.stderr);
    assert.equal(run.json!.error!.code, "LMS_NOT_FOUND");
    assert.equal(run.json!.baseUrl, null);
  });

  it(
    "a usage error quoting the token of the variable vtcode.toml names shows it redacted",
    cleanly(async (defer) => {
      const token = "PlainTok3nValue987654";
      const dir = workspace(defer, { "vtcode.toml": `[lmstudio]\napi_token_env = "MY_TOK"\n` });
      for (const argv of [["check", "--json", "--timeout", token], ["check", token, "--json"]]) {
        const run = await cli(argv, { MY_TOK: token }, { cwd: dir });
        assert.equal(run.code, 2);
        assert.ok(!run.stdout.includes(token) && !run.stderr.includes(token), run.stdout + run.stderr);
        assert.match(run.json!.error!.message, /\[redacted\]/);
      }
    }),
  );
});

describe("CLI failures: one --timeout for the whole run", () => {
  it("wait --start-server starts a server that is down at once, as check does, not after a wait", async () => {
    const s = await sim({ models: [GPT], serverRunning: false });
    const lms = await createFakeLms({ simulator: s });
    try {
      // When each note reached stderr: the order of the start and the wait is asserted below.
      let stderr = "";
      const noted: { text: string; at: number }[] = [];
      const run = await cli(
        [
          "wait",
          "--json",
          "--start-server",
          "--timeout",
          "30s",
          "--url",
          s.url,
          "--lms",
          lms.path,
        ],
        {},
        {
          stderr: (text) => {
            stderr += text;
            noted.push({ text, at: performance.now() });
          },
        },
      );
      assert.equal(run.code, 0, stderr);
      assert.ok(lms.calls().some((argv) => argv[0] === "server" && argv[1] === "start"));
      // The regression this catches: `wait --start-server` first waited 2 s for the server, and only then
      // started it (so a --timeout under 2 s never started it): its start note could not come before 2 s
      // into the wait. Now one refused probe comes first: the note follows within milliseconds.
      const waiting = noted.find((n) => n.text.includes("Waiting for LM Studio at"));
      const starting = noted.find((n) => n.text.includes("starting it with `lms server start`"));
      assert.ok(waiting && starting, `both notes: ${stderr}`);
      const gap = starting.at - waiting.at;
      assert.ok(gap < 2000, `the server was started ${Math.round(gap)} ms into the wait, not at once`);
    } finally {
      await lms.cleanup();
    }
  });

  for (const command of ["wait", "check"]) {
    it(`${command} --start-server stops at --timeout, however long \`lms server start\` takes`, async () => {
      const s = await sim({ models: [GPT], serverRunning: false });
      const lms = await createFakeLms({ simulator: s, script: { "server start": { delayMs: 20_000 } } });
      try {
        const started = Date.now();
        const run = await cli([
          command,
          "--json",
          "--start-server",
          "--timeout",
          "1s",
          "--url",
          s.url,
          "--lms",
          lms.path,
        ]);
        const took = Date.now() - started;
        assert.equal(run.code, 124, run.stderr);
        assert.match(run.json!.error!.message, /timed out after 1s/);
        // Ordering, not speed: the run ended while `lms server start` (20 s) was still running.
        assert.ok(took < 20_000, `ended after ${took} ms, after lms server start`);
      } finally {
        await lms.cleanup();
      }
    });
  }
});
