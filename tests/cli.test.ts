import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, it } from "node:test";
import { checkRunsAlone } from "../src/cli_check.ts";
import { type CliIO, runCli } from "../src/cli_main.ts";
import { HELP } from "../src/cli_run.ts";
import { createFakeLmStudioHome } from "../src/testing/fake_home.ts";
import { createFakeLms } from "../src/testing/fake_lms.ts";
import {
  atFileEnd,
  cliCommand,
  closedPortUrl,
  denoWithoutNode,
  interruptCli,
  isAlive,
  ROOT,
  runCliProcess,
  startServer,
  useSimulators,
} from "./_helpers.ts";
import { CHAT, CODER, FAST, GPT, QWEN } from "./_fixtures.ts";

const later = atFileEnd();

const VERSION = JSON.parse(readFileSync(join(ROOT, "deno.json"), "utf8")).version;

const sim = useSimulators();

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  json: Record<string, unknown> & { error?: { code: string; message: string; hint?: string } };
}

/** Runs the CLI in-process with a clean environment (plus `env`), collecting its output. */
async function cli(args: string[], env: Record<string, string> = {}, io: Partial<CliIO> = {}): Promise<Run> {
  let stdout = "";
  let stderr = "";
  const code = await runCli(args, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    env: (name) => env[name],
    stderrIsTTY: false,
    cwd: ROOT,
    ...io,
  });
  let json = {} as Run["json"];
  if (args.includes("--json")) {
    assert.equal(stdout.trim().split("\n").length, 1, `exactly one JSON document: ${stdout}`);
    json = JSON.parse(stdout);
  }
  return { code, stdout, stderr, json };
}

/** `run` over `items`, at most `limit` at a time; the results in the order of `items`. */
async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  run: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await run(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

describe("CLI: usage", () => {
  it("--help prints usage with examples to stdout and exits 0", async () => {
    const run = await cli(["--help"]);
    assert.equal(run.code, 0);
    assert.match(run.stdout, /Usage: vtcode-lmstudio/);
    assert.match(run.stdout, /Examples:/);
    assert.equal(run.stderr, "");
  });

  it("--version prints the bare version from deno.json", async () => {
    const run = await cli(["-V"]);
    assert.equal(run.code, 0);
    assert.equal(run.stdout, `${VERSION}\n`);
  });

  it("with --json, --version and --help print exactly one JSON document; without, plain text", async () => {
    for (
      const argv of [["-V", "--json"], ["--version", "--json"], ["--json", "-V"], ["ensure", "-V", "--json"]]
    ) {
      const run = await cli(argv);
      assert.equal(run.code, 0, argv.join(" "));
      assert.deepEqual(
        run.json,
        { ok: true, command: "version", baseUrl: null, version: VERSION },
        argv.join(" "),
      );
      assert.equal(run.stderr, "");
    }
    for (const argv of [["-h", "--json"], ["--help", "--json"], ["load", "--json", "--help"]]) {
      const run = await cli(argv);
      assert.equal(run.code, 0, argv.join(" "));
      assert.deepEqual(run.json, { ok: true, command: "help", baseUrl: null, usage: HELP }, argv.join(" "));
      assert.equal(run.stderr, "");
    }
    for (const argv of [["--version"], ["-V"]]) assert.equal((await cli(argv)).stdout, `${VERSION}\n`);
    for (const argv of [["--help"], ["-h"]]) assert.equal((await cli(argv)).stdout, HELP);
  });

  for (
    const args of [
      ["--bogus"],
      ["frobnicate"],
      ["load"],
      ["unload"],
      ["unload", "a", "--all"],
      ["check", "--timeout", "soon"],
      ["check", "--timeout", "-5"],
      ["ensure", "--context-length", "1.5"],
      ["ensure", "--help-me"],
      ["load", "--rf"],
      ["load", "-x"],
      ["ensure", "a\nb"],
      ["ensure", "x".repeat(10_000)],
      ["models", "--no-download"],
      ["download", "m", "--all"],
      ["check", "--url", "javascript:alert(1)"],
      ["check", "--url", "file:///etc/passwd"],
      ["check", "--url", "http://alice:hunter2@host:1234"],
    ]
  ) {
    it(`exits 2 with a one-line reason for ${JSON.stringify(args).slice(0, 60)}`, async () => {
      const run = await cli([...args, "--json"]);
      assert.equal(run.code, 2);
      assert.equal(run.json.ok, false);
      assert.equal(run.json.error?.code, "USAGE");
      assert.ok(run.stderr.startsWith("error: "));
      assert.equal(run.stderr.split("\n").filter((l) => l.startsWith("error:")).length, 1);
      assert.doesNotMatch(run.stdout + run.stderr, /hunter2|alice/);
    });
  }

  it("a usage error's JSON names the command typed, not the default", async () => {
    const run = await cli(["load", "--json"]);
    assert.equal(run.code, 2);
    assert.equal(run.json.command, "load");
    assert.equal(run.json.server, undefined);
  });

  it("points to --help on bad flags", async () => {
    const run = await cli(["--bogus"]);
    assert.match(run.stderr, /--help/);
  });
});

describe("CLI: check", () => {
  it("exit 0 and the JSON document when LM Studio answers", async () => {
    const s = await sim({ models: [GPT] });
    const run = await cli(["check", "--json", "--url", `${s.url}/v1/`]);
    assert.equal(run.code, 0);
    assert.deepEqual(run.json, {
      ok: true,
      command: "check",
      baseUrl: s.url,
      baseUrlSource: "option",
      server: { reachable: true, api: "v1" },
    });
  });

  it("is the default command and reads LMSTUDIO_URL", async () => {
    const s = await sim({ version: "0.3", models: [GPT] });
    const run = await cli(["--json"], { LMSTUDIO_URL: s.url });
    assert.equal(run.code, 0);
    assert.equal((run.json.server as { api: string }).api, "v0");
  });

  it("exit 3 SERVER_UNREACHABLE when nothing listens", async () => {
    const url = await closedPortUrl();
    const run = await cli(["check", "--json", "--url", url]);
    assert.equal(run.code, 3);
    assert.equal(run.json.error?.code, "SERVER_UNREACHABLE");
    assert.deepEqual(run.json.server, { reachable: false, api: null });
    assert.match(run.json.error!.hint!, /lms server start/);
  });

  it("exit 3 NOT_LMSTUDIO when something else answers", async () => {
    const server = await startServer((_req, res) =>
      void res.writeHead(404, { "content-type": "text/html" }).end("<h1>nope</h1>")
    );
    later(() => server.close());
    const run = await cli(["check", "--json", "--url", server.url]);
    assert.equal(run.code, 3);
    assert.equal(run.json.error?.code, "NOT_LMSTUDIO");
  });

  it("exit 4 AUTH_REQUIRED without the token; 0 with it; the token is never printed", async () => {
    const token = "sk-lm-CliTok12:abcdefghij0123456789";
    const s = await sim({ models: [GPT], auth: { token } });
    const denied = await cli(["check", "--json", "--url", s.url]);
    assert.equal(denied.code, 4);
    assert.equal(denied.json.error?.code, "AUTH_REQUIRED");
    const wrong = await cli([
      "check",
      "--json",
      "--url",
      s.url,
      "--token",
      "sk-lm-Wrong123:zzzzzzzzzz0123456789",
    ]);
    assert.equal(wrong.code, 4);
    assert.doesNotMatch(wrong.stdout + wrong.stderr, /Wrong123|zzzzzzzzzz/);
    const allowed = await cli(["check", "--json", "--url", s.url], { LM_API_TOKEN: token });
    assert.equal(allowed.code, 0);
    assert.doesNotMatch(allowed.stdout + allowed.stderr, /CliTok12/);
  });

  it("exit 124 TIMEOUT when the server is too slow for --timeout", async () => {
    const s = await sim({ models: [GPT] });
    s.inject({ match: "/api/v1/models", kind: "hang" });
    const run = await cli(["check", "--json", "--url", s.url, "--timeout", "300ms"]);
    assert.equal(run.code, 124);
    assert.equal(run.json.error?.code, "TIMEOUT");
  });

  it("exit 1 INVALID_RESPONSE for LM Studio answering a malformed listing", async () => {
    const s = await sim({ models: [GPT] });
    s.inject({ match: "/api/v1/models", kind: "respond", body: { models: [{ key: null }] } });
    // A generous deadline: the first malformed listing loads the validator (zod) inside it.
    const run = await cli(["models", "--json", "--url", s.url, "--timeout", "30s"]);
    assert.equal(run.code, 1);
    assert.equal(run.json.error?.code, "INVALID_RESPONSE");
  });
});

describe("CLI: models", () => {
  it("lists models with loaded state; loaded: null where the server cannot say", async () => {
    const s = await sim({ models: [GPT, QWEN], loaded: [QWEN.key] });
    const run = await cli(["models", "--json", "--url", s.url]);
    assert.equal(run.code, 0);
    const models = run.json.models as { id: string; loaded: boolean | null; type?: string }[];
    assert.deepEqual(models.map((m) => [m.id, m.loaded, m.type]), [[GPT.key, false, "llm"], [
      QWEN.key,
      true,
      "llm",
    ]]);
    const old = await sim({ version: "0.2", models: [GPT] });
    const openaiRun = await cli(["models", "--json", "--url", old.url]);
    assert.equal((openaiRun.json.models as { loaded: null }[])[0].loaded, null);
    const human = await cli(["models", "--url", s.url]);
    assert.match(human.stdout, /qwen\/qwen3-4b-2507\tllm\tloaded/);
  });
});

describe("CLI: ensure, download, load, unload", () => {
  it("ensure downloads then loads and reports actions in order", async () => {
    const s = await sim({ catalog: [GPT], download: FAST });
    const run = await cli(["ensure", "--json", "--url", s.url]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.json.model, GPT.key);
    assert.equal(run.json.downloaded, true);
    assert.equal(run.json.loaded, true);
    assert.deepEqual(run.json.actions, ["check", "list", "download", "load"]);
    assert.match(run.stderr, /Downloading openai\/gpt-oss-20b/);
  });

  it("ensure takes the model from --model, then LMSTUDIO_MODEL", async () => {
    const s = await sim({ models: [GPT, QWEN] });
    assert.equal(
      (await cli(["ensure", "--json", "--no-load", "--url", s.url, "-m", QWEN.key])).json.model,
      QWEN.key,
    );
    assert.equal(
      (await cli(["ensure", "--json", "--no-load", "--url", s.url], { LMSTUDIO_MODEL: QWEN.key })).json.model,
      QWEN.key,
    );
  });

  it("ensure --no-download exits 5 MODEL_NOT_FOUND with suggestions", async () => {
    const s = await sim({ models: [QWEN] });
    const run = await cli(["ensure", "qwen3-4b", "--no-download", "--json", "--url", s.url]);
    assert.equal(run.code, 5);
    assert.equal(run.json.error?.code, "MODEL_NOT_FOUND");
    assert.match(run.json.error!.message, /Did you mean: qwen\/qwen3-4b-2507/);
  });

  it("ensure --no-load stops once the model is present", async () => {
    const s = await sim({ models: [GPT] });
    const run = await cli(["ensure", GPT.key, "--no-load", "--json", "--url", s.url]);
    assert.equal(run.code, 0);
    assert.deepEqual(run.json.actions, ["check", "list"]);
    assert.equal(run.json.loaded, false);
  });

  it("download exits 6 DOWNLOAD_FAILED when the job fails", async () => {
    const s = await sim({ catalog: [GPT] });
    s.failNextDownload(GPT.key, 0.2);
    const run = await cli(["download", GPT.key, "--json", "--url", s.url]);
    assert.equal(run.code, 6);
    assert.equal(run.json.error?.code, "DOWNLOAD_FAILED");
  });

  it("download succeeds and says so", async () => {
    const s = await sim({ catalog: [QWEN], download: FAST });
    const run = await cli(["download", QWEN.key, "--json", "--url", s.url]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.json.downloaded, true);
    assert.equal(run.json.model, QWEN.key);
  });

  it("load exits 7 LOAD_FAILED when the server cannot load", async () => {
    const s = await sim({ models: [GPT] });
    s.failNextLoad(GPT.key, "Insufficient VRAM");
    const run = await cli(["load", GPT.key, "--json", "--url", s.url]);
    assert.equal(run.code, 7);
    assert.equal(run.json.error?.code, "LOAD_FAILED");
    assert.match(run.json.error!.message, /Insufficient VRAM/);
  });

  it("load never creates a second instance", async () => {
    const s = await sim({ models: [GPT], loaded: [GPT.key] });
    const run = await cli(["load", GPT.key, "--json", "--url", s.url]);
    assert.equal(run.code, 0);
    assert.deepEqual(run.json.actions, ["check", "list"]);
    assert.equal(s.state.loaded().length, 1);
  });

  it("load narrates what happened: an instance already there is said so; a replace unloads, then loads", async () => {
    const s = await sim({ models: [GPT], loaded: [{ key: GPT.key, contextLength: 8192 }] });
    const kept = await cli(["load", GPT.key, "--url", s.url]);
    assert.equal(kept.code, 0, kept.stderr);
    assert.equal(kept.stderr, `✔ ${GPT.key} already loaded as ${GPT.key} (context 8192)\n`);
    const replaced = await cli(["load", GPT.key, "--context-length", "16384", "--url", s.url]);
    assert.equal(replaced.code, 0, replaced.stderr);
    assert.deepEqual(replaced.stderr.split("\n").filter((line) => line !== ""), [
      `› Unloading ${GPT.key} (context 8192): less context than the 16384 asked`,
      `› Loading ${GPT.key}`,
      `✔ ${GPT.key} loaded as ${GPT.key} (rest, context 16384)`,
    ]);
  });

  it("unload a model, and unload --all", async () => {
    const s = await sim({ models: [GPT, QWEN], loaded: [GPT.key, QWEN.key] });
    const one = await cli(["unload", GPT.key, "--json", "--url", s.url]);
    assert.deepEqual(one.json.unloaded, [GPT.key]);
    const all = await cli(["unload", "--all", "--json", "--url", s.url]);
    assert.deepEqual(all.json.unloaded, [QWEN.key]);
    assert.equal(all.json.loaded, false);
  });

  it("which-lms exits 8 LMS_NOT_FOUND when lms is nowhere, and finds it via LMSTUDIO_LMS_PATH", async () => {
    const missing = await cli(["which-lms", "--json"], { PATH: "/nonexistent", HOME: "/nonexistent-home" });
    assert.equal(missing.code, 8);
    assert.equal(missing.json.error?.code, "LMS_NOT_FOUND");
    const lms = await createFakeLms({});
    later(() => lms.cleanup());
    const found = await cli(["which-lms", "--json"], { LMSTUDIO_LMS_PATH: lms.path, PATH: "/nonexistent" });
    assert.equal(found.code, 0);
    assert.deepEqual(found.json.lms, { path: lms.path, how: "env", source: "env" });
  });

  it("which-lms says how in the contract's words: LM Studio's own place is a fallback, named", async () => {
    const s = await sim({ models: [GPT] });
    const home = await createFakeLmStudioHome({ simulator: s, lms: true, pointer: false });
    later(() => home.cleanup());
    const env = { HOME: home.userHome, PATH: "/nonexistent" };
    const found = await cli(["which-lms", "--json"], env);
    assert.equal(found.code, 0, found.stderr);
    assert.deepEqual(found.json.lms, { path: home.lmsPath, how: "fallback", source: "default-home" });
    const text = await cli(["which-lms"], env);
    assert.equal(text.stdout, `${home.lmsPath}\t(fallback: default-home)\n`);
    const flagged = await cli(["which-lms", "--json", "--lms", home.lmsPath!], env);
    assert.deepEqual(flagged.json.lms, { path: home.lmsPath, how: "option", source: "option" });
  });

  it("wait returns once the server answers", async () => {
    const s = await sim({ models: [GPT], serverRunning: false });
    setTimeout(() => void s.setServerRunning(true), 300);
    const run = await cli(["wait", "--json", "--url", s.url, "--timeout", "5s"]);
    assert.equal(run.code, 0);
    assert.deepEqual(run.json.server, { reachable: true, api: "v1" });
  });

  it("check --start-server starts a local server through lms", async () => {
    const s = await sim({ models: [GPT], serverRunning: false });
    const lms = await createFakeLms({ simulator: s });
    later(() => lms.cleanup());
    const run = await cli(["check", "--start-server", "--json", "--url", s.url, "--lms", lms.path]);
    assert.equal(run.code, 0, run.stderr);
    assert.ok(lms.calls().some((argv) => argv.slice(0, 2).join(" ") === "server start"));
  });

  it("--no-color and NO_COLOR keep escape codes out of a TTY's error lines", async () => {
    const url = await closedPortUrl();
    const coloured = await cli(["check", "--url", url], {}, { stderrIsTTY: true, stderrColumns: 80 });
    assert.match(coloured.stderr, /\x1b\[31m/);
    const flag = await cli(["check", "--url", url, "--no-color"], {}, {
      stderrIsTTY: true,
      stderrColumns: 80,
    });
    assert.doesNotMatch(flag.stderr, /\x1b\[/);
    const env = await cli(["check", "--url", url], { NO_COLOR: "1" }, {
      stderrIsTTY: true,
      stderrColumns: 80,
    });
    assert.doesNotMatch(env.stderr, /\x1b\[/);
  });

  it("--quiet says nothing on stderr on success", async () => {
    const s = await sim({ models: [GPT] });
    const run = await cli(["ensure", GPT.key, "-q", "--url", s.url]);
    assert.equal(run.code, 0);
    assert.equal(run.stderr, "");
    assert.match(run.stdout, /^ready: openai\/gpt-oss-20b/);
  });
});

describe("CLI as a subprocess on this runtime", () => {
  it("check --json: exit 0 with the document on stdout, and exit 3 when refused", async () => {
    const s = await sim({ models: [GPT] });
    const ok = await runCliProcess(["check", "--json", "--url", s.url]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(JSON.parse(ok.stdout), {
      ok: true,
      command: "check",
      baseUrlSource: "option",
      baseUrl: s.url,
      server: { reachable: true, api: "v1" },
    });
    const refused = await runCliProcess(["check", "--json", "--url", await closedPortUrl()]);
    assert.equal(refused.code, 3);
    assert.equal(JSON.parse(refused.stdout).error.code, "SERVER_UNREACHABLE");
  });

  it("every command and every exit code, as a real process", { timeout: 120_000 }, async () => {
    const token = "sk-lm-ProcTok1:abcdefghij0123456789";
    const s = await sim({
      models: [GPT, QWEN],
      loaded: [QWEN.key],
      catalog: [GPT, { key: "x/y" }],
      download: FAST,
    });
    const secured = await sim({ models: [GPT], auth: { token } });
    const failing = await sim({ models: [GPT], catalog: [{ key: "a/b" }] });
    failing.failNextDownload("a/b", 0.1);
    failing.failNextLoad(GPT.key, "boom");
    const hung = await sim({ models: [GPT] });
    hung.inject({ match: "/api/v1/models", kind: "hang" });
    const broken = await sim({ models: [GPT] });
    broken.inject({ match: "/api/v1/models", kind: "respond", body: { models: [{ key: 7 }] } });
    const lms = await createFakeLms({});
    try {
      const refused = await closedPortUrl();
      // Where the exit code is not TIMEOUT's, a deadline no slow start-up can reach (its own default
      // would be 5 s for a check, in which `models --url broken` also loads zod).
      const T = ["--timeout", "30s"];
      const cases: [string[], number, Record<string, string>?][] = [
        [["check", "--url", s.url, ...T], 0],
        [["models", "--url", s.url, ...T], 0],
        [["ensure", QWEN.key, "--url", s.url, ...T], 0],
        [["download", "x/y", "--url", s.url, ...T], 0],
        [["load", GPT.key, "--url", s.url, ...T], 0],
        [["unload", "--all", "--url", s.url, ...T], 0],
        [["wait", "--url", s.url, ...T], 0],
        [["which-lms", "--lms", lms.path], 0],
        [["models", "--url", broken.url, ...T], 1],
        [["check", "--url", "ftp://x"], 2],
        [["check", "--url", refused, ...T], 3],
        [["check", "--url", secured.url, ...T], 4],
        [["ensure", "nobody/none", "--no-download", "--url", s.url, ...T], 5],
        [["download", "a/b", "--url", failing.url, ...T], 6],
        [["load", GPT.key, "--url", failing.url, ...T], 7],
        [["which-lms"], 8, { PATH: "/nonexistent", HOME: "/nonexistent" }],
        [["check", "--url", hung.url, "--timeout", "300ms"], 124],
      ];
      // Three processes at a time, not 17 at once: the burst starved this file's processes and the
      // test file running beside it. Killed only if one hangs far past its deadline.
      const runs = await mapLimited(
        cases,
        3,
        ([args, _, env]) =>
          runCliProcess([...args, "--json"], { env: { NO_COLOR: "1", ...env }, timeoutMs: 60_000 }),
      );
      cases.forEach(([args, code], i) => {
        const run = runs[i];
        assert.equal(run.code, code, `${args.join(" ")}: ${run.stderr}`);
        const doc = JSON.parse(run.stdout);
        assert.equal(doc.ok, code === 0);
        assert.equal(doc.command, args[0]);
        if (code !== 0) assert.equal(typeof doc.error.code, "string");
      });
    } finally {
      await lms.cleanup();
    }
  });

  it("ensure with a download through lms get (LM Studio 0.3), plain progress lines when piped", async () => {
    const s = await sim({ version: "0.3", catalog: [QWEN] });
    const lms = await createFakeLms({ simulator: s });
    later(() => lms.cleanup());
    const run = await runCliProcess(["ensure", QWEN.key, "--json", "--url", s.url, "--lms", lms.path]);
    assert.equal(run.code, 0, run.stderr);
    const doc = JSON.parse(run.stdout);
    assert.deepEqual(doc.actions, ["check", "list", "download", "load"]);
    assert.match(run.stderr, /download qwen\/qwen3-4b-2507: \d/);
    assert.doesNotMatch(run.stderr, /\x1b\[/, "no escape codes when stderr is not a TTY");
  });

  it("exit 2 on a bad flag, --version and --help exit 0", async () => {
    assert.equal((await runCliProcess(["--nope"])).code, 2);
    const version = await runCliProcess(["--version"]);
    assert.equal(version.code, 0);
    assert.equal(version.stdout, `${VERSION}\n`);
    assert.match((await runCliProcess(["-h"])).stdout, /Exit codes:/);
    // With --json, one JSON document: the quick path leaves `--version --json` to the frame.
    const versionJson = await runCliProcess(["--version", "--json"]);
    assert.equal(versionJson.code, 0, versionJson.stderr);
    assert.equal(
      versionJson.stdout,
      `${JSON.stringify({ ok: true, command: "version", baseUrl: null, version: VERSION })}\n`,
    );
    const helpJson = await runCliProcess(["-h", "--json"]);
    assert.equal(helpJson.code, 0, helpJson.stderr);
    assert.deepEqual(JSON.parse(helpJson.stdout), { ok: true, command: "help", baseUrl: null, usage: HELP });
  });

  it("SIGINT exits 130 and leaves no lms process behind", async () => {
    const s = await sim({ version: "0.3", catalog: [QWEN] });
    const lms = await createFakeLms({ simulator: s, script: { get: { hangWithChild: true } } });
    later(() => lms.cleanup());
    const run = await interruptCli(
      ["download", QWEN.key, "--json", "--url", s.url, "--lms", lms.path],
      () => lms.pids().length >= 2, // fake lms and its child run
    );
    assert.equal(run.code, 130, run.stderr);
    assert.equal(JSON.parse(run.stdout).error.code, "INTERRUPTED");
    await new Promise((r) => setTimeout(r, 200));
    for (const child of lms.pids()) assert.equal(isAlive(child), false, `pid ${child} survived`);
  });

  it("draws a progress bar on a TTY and honours NO_COLOR", { skip: !hasScript() }, async () => {
    const s = await sim({ catalog: [GPT], download: { mode: "time", bytesPerSecond: 12_000_000_000 } });
    const { cmd, args } = cliCommand();
    const line = [cmd, ...args, "download", GPT.key, "--url", s.url].map((a) => `'${a}'`).join(" ");
    const tty = await runUnderScript(`stty cols 100 rows 30; ${line}`, {});
    assert.match(tty, /Downloading/);
    assert.match(stripColour(tty), /\[[#>-]+\]/, "a bar is drawn");
    assert.match(tty, /\x1b\[3\dm/, "in colour");
    const again = await sim({ catalog: [GPT], download: { mode: "time", bytesPerSecond: 12_000_000_000 } });
    const plain = await runUnderScript(`stty cols 100 rows 30; ${line.replace(s.url, again.url)}`, {
      NO_COLOR: "1",
    });
    assert.match(stripColour(plain), /\[[#>-]+\]/, "still a bar");
    assert.doesNotMatch(plain, /\x1b\[3\dm/, "without colour");
  });
});

function stripColour(text: string): string {
  return text.replace(/\x1b\[[0-9;]*m/g, "");
}

function hasScript(): boolean {
  return spawnSync("script", ["--version"], { stdio: "ignore" }).status === 0;
}

async function runUnderScript(command: string, env: Record<string, string>): Promise<string> {
  const { spawn } = await import("node:child_process");
  return await new Promise((done) => {
    const child = spawn("script", ["-qec", command, "/dev/null"], {
      env: { ...process.env, ...env, LMSTUDIO_URL: "", LM_API_TOKEN: "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout!.setEncoding("utf8").on("data", (c: string) => (out += c));
    child.on("close", () => done(out));
  });
}

describe("CLI: agent readiness (--context-length, --require, exit 9)", () => {
  it("ensure replaces a 4096 instance and reports instanceId and contextLength", async () => {
    const s = await sim({ models: [CODER], loaded: [{ key: CODER.key, contextLength: 4096 }] });
    const run = await cli([
      "ensure",
      CODER.key,
      "--context-length",
      "32768",
      "--require",
      "tool-use",
      "--json",
      "--url",
      s.url,
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.json.instanceId, CODER.key);
    assert.equal(run.json.contextLength, 32768);
    assert.deepEqual(run.json.actions, ["check", "list", "unload", "load"]);
    assert.equal(run.json.baseUrlSource, "option");
    const instances = s.state.instances().filter((i) => i.key === CODER.key);
    assert.deepEqual(instances.map((i) => i.contextLength), [32768]);
  });

  it("LM Studio giving less context than asked is exit 9 MODEL_UNSUITABLE naming both numbers", async () => {
    const s = await sim({ models: [CODER], memory: { maxContextLength: 8192 } });
    const run = await cli(["ensure", CODER.key, "--context-length", "32768", "--json", "--url", s.url]);
    assert.equal(run.code, 9);
    assert.equal(run.json.error?.code, "MODEL_UNSUITABLE");
    assert.match(run.json.error!.message, /8192.*32768/);
    assert.match(run.json.error!.hint ?? "", /--context-length/);
  });

  it("a model without tool use is exit 9 before anything loads", async () => {
    const s = await sim({ models: [CHAT] });
    const run = await cli(["ensure", CHAT.key, "--require", "tool-use", "--url", s.url]);
    assert.equal(run.code, 9);
    assert.match(run.stderr, /lacks tool-use/);
    assert.equal(s.requestCount("/api/v1/models/load"), 0);
  });

  it("load prints the context it got, with or without the flag", async () => {
    const s = await sim({ models: [CODER] });
    const run = await cli(["load", CODER.key, "--url", s.url]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, `loaded: ${CODER.key} as ${CODER.key} (context 4096)\n`);
  });

  it("models --json shows instances with context, the ceiling and capabilities", async () => {
    const s = await sim({ models: [CODER, CHAT], loaded: [{ key: CODER.key, contextLength: 16384 }] });
    const run = await cli(["models", "--json", "--url", s.url]);
    const models = run.json.models as Record<string, unknown>[];
    const coder = models.find((m) => m.id === CODER.key)!;
    assert.deepEqual(coder.instances, [{ id: CODER.key, contextLength: 16384 }]);
    assert.equal(coder.maxContextLength, 131072);
    assert.deepEqual(coder.capabilities, ["tool-use"]);
    const chat = models.find((m) => m.id === CHAT.key)!;
    assert.deepEqual([chat.instances, chat.capabilities], [[], []]);
  });

  for (
    const bad of [
      ["--context-length", "0"],
      ["--context-length", "-5"],
      ["--context-length", "1.5"],
      ["--context-length", "1e9"],
      ["--context-length", "abc"],
      ["--context-length", "4294967296"],
      ["--require", ""],
      ["--require", "telepathy"],
      ["--require", "tool-use,"],
    ]
  ) {
    it(`${bad.join(" ")} is exit 2 with a hint`, async () => {
      const run = await cli(["ensure", "x/y", ...bad, "--json", "--url", "http://127.0.0.1:9"]);
      assert.equal(run.code, 2);
      assert.equal(run.json.error?.code, "USAGE");
      assert.ok(run.json.error?.hint);
    });
  }

  it("--require applies to ensure and load only", async () => {
    const run = await cli(["check", "--require", "tool-use"]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /applies to ensure and load only/);
  });
});

describe("CLI start-up on Deno: check loads no Node compatibility layer", () => {
  const cli = pathToFileURL(join(ROOT, "cli.ts")).href;
  const script = `await import(${JSON.stringify(cli)});\n`;

  it(
    "check --json with the port from LM Studio's settings: exit 0, no node: import, no process",
    {
      skip: process.platform === "win32" ? "Deno on Windows reads files through node:fs" : false,
      timeout: 60_000,
    },
    async () => {
      const s = await sim({ models: [GPT] });
      const home = await createFakeLmStudioHome({ simulator: s });
      try {
        const run = await denoWithoutNode(home.userHome, script, ["check", "--json"]);
        assert.equal(run.code, 0, run.stdout + run.stderr);
        assert.equal(JSON.parse(run.stdout).baseUrlSource, "lmstudio-settings");
        assert.equal(run.touched, false, "process was touched");
        // which-lms needs node:fs (through process): the trap must see it.
        assert.equal((await denoWithoutNode(home.userHome, script, ["which-lms", "--json"])).touched, true);
      } finally {
        await home.cleanup();
      }
    },
  );
});

describe("CLI: a plain check runs alone (a successful one quicker still), every other command loads the whole CLI", () => {
  it("checkRunsAlone: check (also by default), --help, --version and usage errors; not --start-server or another command", () => {
    const alone = [
      [],
      ["check"],
      ["check", "--json", "--url", "http://127.0.0.1:1234", "--timeout", "2s"],
      ["--json"],
      ["--help"],
      ["ensure", "--help"],
      ["-V"],
      ["--no-such-flag"],
      ["check", "--timeout", "soon"],
    ];
    const whole = [
      ["check", "--start-server"],
      ["models"],
      ["ensure", "qwen/qwen3-4b-2507"],
      ["download", "qwen/qwen3-4b-2507"],
      ["load", "qwen/qwen3-4b-2507"],
      ["unload", "--all"],
      ["wait"],
      ["which-lms"],
    ];
    for (const argv of alone) assert.equal(checkRunsAlone(argv), true, argv.join(" "));
    for (const argv of whole) assert.equal(checkRunsAlone(argv), false, argv.join(" "));
  });

  it(
    "check, --help and a usage error never load the client, lms or the other commands; models does; a successful check loads not even the frame",
    {
      skip: process.versions.bun || (globalThis as { Deno?: unknown }).Deno
        ? "module resolve hooks are Node's (the module graph is the same source)"
        : false,
    },
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "check-alone-"));
      later(() => rmSync(dir, { recursive: true, force: true }));
      // A resolve hook that refuses the whole CLI's modules, naming what asked for them.
      const refusing = (name: string, modules: string) => {
        writeFileSync(
          join(dir, `${name}.mjs`),
          `export async function resolve(specifier, context, next) {
  if (/(${modules})\\.ts$/.test(specifier)) throw new Error("refused " + specifier);
  return next(specifier, context);
}\n`,
        );
        writeFileSync(
          join(dir, `register_${name}.mjs`),
          `import { register } from "node:module";\nregister(new URL("./${name}.mjs", import.meta.url));\n`,
        );
        return join(dir, `register_${name}.mjs`);
      };
      const wholeCli = refusing("whole", "cli_main|client|lms_find|lms|ensure");
      // What the quick check must do without: the CLI frame, its parser, and the vtcode.toml reader.
      const frame = refusing(
        "frame",
        "cli_check|cli_run|cli_args|parse_args|cli_reporter|config_files|detect",
      );
      // Asynchronously: the simulator answers from this process's event loop.
      const run = (args: string[], hook = wholeCli) =>
        new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
          execFile(
            process.execPath,
            ["--import", "tsx", "--import", hook, join(ROOT, "cli.ts"), ...args],
            {
              cwd: ROOT,
              env: { ...process.env, LMSTUDIO_URL: "", LM_API_TOKEN: "", NO_COLOR: "1" },
              timeout: 20_000,
            },
            (error, stdout, stderr) => {
              const status = error ? (typeof error.code === "number" ? error.code : null) : 0;
              resolve({ status, stdout, stderr });
            },
          );
        });
      const s = await sim({ models: [GPT] });
      const check = await run(["check", "--json", "--url", s.url]);
      assert.equal(check.status, 0, check.stderr);
      assert.equal(JSON.parse(check.stdout).server.api, "v1");
      assert.equal((await run(["--help"])).status, 0);
      assert.equal((await run(["check", "--timeout", "soon"])).status, 2);
      const models = await run(["models", "--json", "--url", s.url]);
      assert.notEqual(models.status, 0);
      assert.match(
        models.stderr,
        /refused \.\/cli_main\.ts/,
        "models loads the whole CLI (the hook works)",
      );
      // A plain check that succeeds, and --version, need not even the frame; a failing one loads it.
      const quick = await run(["check", "--json", "--url", s.url], frame);
      assert.equal(quick.status, 0, quick.stderr);
      assert.equal(JSON.parse(quick.stdout).server.api, "v1");
      assert.equal((await run(["--version"], frame)).status, 0);
      // With --json it is the frame's (a JSON document), still without the whole CLI.
      const versionJson = await run(["--version", "--json"]);
      assert.equal(versionJson.status, 0, versionJson.stderr);
      assert.deepEqual(JSON.parse(versionJson.stdout), {
        ok: true,
        command: "version",
        baseUrl: null,
        version: VERSION,
      });
      const failing = await run(["check", "--json", "--url", await closedPortUrl()], frame);
      assert.match(failing.stderr, /refused \.\/src\/cli_check\.ts/, "a failing check goes on to the frame");
    },
  );
});
