/**
 * The quick `check` (src/cli_quick.ts): it answers only a plain `check` that succeeds, printing
 * exactly what the CLI frame prints for the same run, and leaves everything else to the frame
 * without printing (and, where the command line is not plain, without asking the server).
 */
import assert from "node:assert/strict";
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { runCheckCli } from "../src/cli_check.ts";
import { plainBaseUrl, plainDuration, quickCheck, type QuickCheckOutcome } from "../src/cli_quick.ts";
import { parseDuration } from "../src/deadline.ts";
import { createFakeLmStudioHome } from "../src/testing/fake_home.ts";
import type { Simulator } from "../src/testing/simulator.ts";
import { normalizeBaseUrl } from "../src/url.ts";
import { VERSION } from "../src/version.ts";
import { GPT } from "./_fixtures.ts";
import {
  cleanly,
  closedPortUrl,
  type Defer,
  interruptCli,
  runCliProcess,
  useSimulators,
  workspace,
} from "./_helpers.ts";

const sim = useSimulators();

/**
 * A repository inside a workspace (both hold `.git`: the lookup stops at the repository, and never
 * leaves the workspace), and the sub-folder of the repository to run in.
 */
function repository(defer: Defer): { outer: string; repo: string; cwd: string } {
  const outer = workspace(defer);
  const repo = join(outer, "repo");
  mkdirSync(join(repo, ".git"), { recursive: true });
  mkdirSync(join(repo, "src"));
  return { outer, repo, cwd: join(repo, "src") };
}

interface Both {
  quick: QuickCheckOutcome;
  quickOut: string;
  frameCode: number;
  frameOut: string;
  /** Requests the quick check made. */
  quickRequests: number;
}

/** Runs one command line through the quick check, then through the frame, with the same env and folder. */
async function both(
  s: Simulator | undefined,
  argv: string[],
  env: Record<string, string>,
  cwd: string,
): Promise<Both> {
  const read = (name: string) => env[name];
  let quickOut = "";
  const before = s?.requests.length ?? 0;
  const quick = await quickCheck(argv, {
    stdout: (text) => quickOut += text,
    signal: new AbortController().signal,
    env: read,
    cwd,
  });
  const quickRequests = (s?.requests.length ?? 0) - before;
  let frameOut = "";
  const frameCode = await runCheckCli(argv, {
    stdout: (text) => frameOut += text,
    stderr: () => {},
    env: read,
    cwd,
    stderrIsTTY: false,
  });
  return { quick, quickOut, frameCode, frameOut, quickRequests };
}

/** The quick check answered, and printed what the frame prints. */
function sameAnswer(run: Both, what: string): void {
  assert.equal(run.quick.done, true, `${what}: the quick check answers`);
  assert.equal(run.frameCode, 0, `${what}: the frame succeeds too`);
  assert.notEqual(run.quickOut, "", what);
  assert.equal(run.quickOut, run.frameOut, `${what}: same output`);
}

/** The quick check left the run to the frame, printing nothing. */
function leftToFrame(run: Both, what: string): void {
  assert.equal(run.quick.done, false, `${what}: left to the frame`);
  assert.equal(run.quickOut, "", `${what}: nothing printed`);
  assert.deepEqual(run.quick.done ? undefined : run.quick.handover, {}, `${what}: nothing handed over`);
}

describe("quick check: a plain check that succeeds, printed as the frame prints it", () => {
  it(
    "answers the plain command lines, with the URL from a flag, the environment or LM Studio's settings",
    cleanly(async (defer) => {
      const { cwd } = repository(defer);
      const s = await sim({ models: [GPT], loaded: [GPT.key] });
      const env = { LMSTUDIO_URL: s.url };
      for (
        const argv of [
          [],
          ["check"],
          ["--json"],
          ["check", "--json", "-q"],
          ["--no-color", "check", "--quiet"],
          ["--timeout", "30s", "--json"],
          ["--timeout=30000ms", "check"],
        ]
      ) sameAnswer(await both(s, argv, env, cwd), `LMSTUDIO_URL, ${JSON.stringify(argv)}`);
      for (const url of [s.url, `${s.url}/v1/`, `${s.url}/`]) {
        sameAnswer(await both(s, ["check", "--json", "--url", url], {}, cwd), `--url ${url}`);
        sameAnswer(
          await both(s, [`--url=${url}`], { LMSTUDIO_URL: "http://127.0.0.1:9" }, cwd),
          `--url=${url}`,
        );
      }
      const home = await createFakeLmStudioHome({ simulator: s });
      defer(() => home.cleanup());
      const fromSettings = await both(s, ["check", "--json"], home.env, cwd);
      sameAnswer(fromSettings, "LM Studio's saved settings");
      assert.equal(JSON.parse(fromSettings.quickOut).baseUrlSource, "lmstudio-settings");
      assert.equal(fromSettings.quickRequests, 1, "one request");
    }),
  );

  it("answers --version and -V alone", async () => {
    for (const argv of [["--version"], ["-V"]]) {
      let out = "";
      const outcome = await quickCheck(argv, {
        stdout: (t) => out += t,
        signal: new AbortController().signal,
      });
      assert.equal(outcome.done, true);
      assert.equal(out, `${VERSION}\n`);
    }
  });

  it(
    "leaves any other command line to the frame without asking the server",
    cleanly(async (defer) => {
      const { cwd } = repository(defer);
      const s = await sim({ models: [GPT] });
      const env = { LMSTUDIO_URL: s.url };
      for (
        const argv of [
          ["models"],
          ["ensure"],
          ["check", "--start-server"],
          ["check", "check"],
          ["--json", "--json"],
          ["-q", "--quiet"],
          ["--json=yes"],
          ["--url"],
          ["--url", "--json"],
          ["--url="],
          ["--token", "sk-lm-abcdefgh:01234567890123456789"],
          ["-m", "openai/gpt-oss-20b"],
          ["--lms", "/usr/bin/lms"],
          ["--help"],
          ["--version", "--json"],
          ["-V", "--json"],
          ["--json", "--version"],
          ["--timeout", "soon"],
          ["--url", "localhost:1234"],
          ["--", "check"],
        ]
      ) {
        const run = await both(s, argv, env, cwd);
        leftToFrame(run, JSON.stringify(argv));
        assert.equal(run.quickRequests, 0, `${JSON.stringify(argv)}: no request`);
      }
    }),
  );

  it(
    "leaves a token, a vtcode.toml or a workspace it cannot read to the frame, without asking the server",
    cleanly(async (defer) => {
      const { outer, repo, cwd } = repository(defer);
      const s = await sim({ models: [GPT] });
      const env = { LMSTUDIO_URL: s.url };
      const cases: [string, Record<string, string>, () => void][] = [
        ["LM_API_TOKEN", { ...env, LM_API_TOKEN: "sk-lm-abcdefgh:01234567890123456789" }, () => {}],
        ["vtcode.toml in the folder", env, () => writeFileSync(join(cwd, "vtcode.toml"), "[lmstudio]\n")],
        ["an empty vtcode.toml", env, () => writeFileSync(join(cwd, "vtcode.toml"), "")],
        [
          "vtcode.toml at the repository root",
          env,
          () => writeFileSync(join(repo, "vtcode.toml"), ""),
        ],
        ["a folder named vtcode.toml", env, () => mkdirSync(join(cwd, "vtcode.toml"))],
        ["a vtcode.toml link that loops", env, () => {
          symlinkSync(join(cwd, "loop-b"), join(cwd, "vtcode.toml"));
          symlinkSync(join(cwd, "vtcode.toml"), join(cwd, "loop-b"));
        }],
      ];
      for (const [what, caseEnv, arrange] of cases) {
        rmSync(join(cwd, "vtcode.toml"), { recursive: true, force: true });
        rmSync(join(cwd, "loop-b"), { force: true });
        rmSync(join(repo, "vtcode.toml"), { force: true });
        arrange();
        const run = await both(s, ["check", "--json"], caseEnv, cwd);
        leftToFrame(run, what);
        assert.equal(run.quickRequests, 0, `${what}: no request`);
      }
      // Above the repository the lookup does not look, and neither does the quick check.
      rmSync(join(cwd, "vtcode.toml"), { recursive: true, force: true });
      rmSync(join(cwd, "loop-b"), { force: true });
      writeFileSync(join(outer, "vtcode.toml"), '[lmstudio]\nbase_url = "http://127.0.0.1:9"\n');
      sameAnswer(await both(s, ["check", "--json"], env, cwd), "a vtcode.toml above the repository");
    }),
  );

  it(
    "leaves every answer but a well-formed REST v1 listing to the frame, which then says what it is",
    cleanly(async (defer) => {
      const { cwd } = repository(defer);
      /** What the server answers, how to arrange it, and flags added to `check --json`. */
      type Answer = [string, Parameters<typeof sim>[0], ((s: Simulator) => void) | undefined, string[]?];
      const answers: Answer[] = [
        ["an LM Studio without REST v1 (0.3)", { version: "0.3", models: [GPT] }, undefined],
        [
          "authentication on",
          { models: [GPT], auth: { token: "sk-lm-abcdefgh:01234567890123456789" } },
          undefined,
        ],
        [
          "a redirect",
          { models: [GPT] },
          (s) => s.inject({ match: "/api/v1/models", kind: "redirect", location: "https://example.com/" }),
        ],
        [
          "HTML",
          { models: [GPT] },
          (s) => s.inject({ match: "/api/v1/models", kind: "respond", status: 200, body: "<html>hi</html>" }),
        ],
        [
          "a 200 with an error body",
          { models: [GPT] },
          (s) => s.inject({ match: "/api/v1/models", kind: "respond", status: 200, body: { error: "busy" } }),
        ],
        [
          "a malformed listing",
          { models: [GPT] },
          (s) =>
            s.inject({
              match: "/api/v1/models",
              kind: "respond",
              status: 200,
              body: { models: [{ key: 7 }] },
            }),
          // A generous deadline (a plain one, which the quick check reads too): the frame's check
          // loads the validator (zod) for this first malformed listing inside it.
          ["--timeout", "30s"],
        ],
        [
          "a body that breaks off",
          { models: [GPT] },
          (s) => s.inject({ match: "/api/v1/models", kind: "close-mid-body" }),
        ],
        [
          "a body over the limit",
          { models: [GPT] },
          (s) =>
            s.inject({ match: "/api/v1/models", kind: "size", bytes: 9 * 1024 * 1024, declareLength: true }),
        ],
      ];
      for (const [what, state, arrange, flags = []] of answers) {
        const s = await sim(state);
        arrange?.(s);
        const run = await both(s, ["check", "--json", ...flags], { LMSTUDIO_URL: s.url }, cwd);
        leftToFrame(run, what);
        assert.equal(run.quickRequests, 1, `${what}: one request`);
        assert.equal(JSON.parse(run.frameOut).ok, run.frameCode === 0, what);
      }
      const closed = await both(undefined, ["check", "--json"], { LMSTUDIO_URL: await closedPortUrl() }, cwd);
      leftToFrame(closed, "nothing listening");
      assert.equal(closed.frameCode, 3);
    }),
  );
});

describe("quick check: what it reads for itself, it reads as the library does, or not at all", () => {
  /** What the library's reader gives, or `undefined` when it refuses. */
  const libraryReads = <T>(read: () => T): T | undefined => {
    try {
      return read();
    } catch {
      return undefined;
    }
  };

  it("a base URL: the plain shapes, written as normalizeBaseUrl writes them; any other left to the frame", () => {
    const plain = [
      "http://localhost:1234",
      "http://127.0.0.1:1234/",
      "http://127.0.0.1:1234/v1",
      "https://lmstudio.example.com/V1/",
      "HTTP://LocalHost:1234",
      "http://box.lan:80",
      "https://box.lan:443/",
      "http://0x7f.1:1234",
      "http://localhost",
    ];
    for (const url of plain) {
      assert.equal(plainBaseUrl(url), normalizeBaseUrl(url), url);
    }
    const others = [
      " http://localhost:1234",
      "http://localhost:1234 ",
      "localhost:1234",
      "http://[::1]:1234",
      "http://user:pw@localhost:1234",
      "http://localhost:1234/lmstudio",
      "http://localhost:1234/v1/models",
      "http://localhost:1234//",
      "http://localhost:1234?x=1",
      "http://localhost:1234#x",
      "http://localhost:99999",
      "ftp://localhost:1234",
      "http://bücher.example:1234",
      "http://local_host:1234",
      "",
    ];
    for (const url of others) {
      assert.equal(plainBaseUrl(url), undefined, url);
    }
    // Whatever it accepts, the library accepts and writes the same way.
    for (const url of [...plain, ...others]) {
      const quick = plainBaseUrl(url);
      if (quick !== undefined) assert.equal(quick, libraryReads(() => normalizeBaseUrl(url)), url);
    }
  });

  it("a --timeout: the plain shapes, in the ms parseDuration gives; any other left to the frame", () => {
    const plain: [string, number][] = [["30", 30_000], ["2s", 2000], ["500ms", 500], ["1ms", 1], [
      "007",
      7000,
    ]];
    for (const [text, ms] of plain) {
      assert.equal(plainDuration(text), ms, text);
      assert.equal(parseDuration(text), ms, text);
    }
    const others = [
      "0",
      "0ms",
      "1.5s",
      "5m",
      "1h",
      " 30",
      "30S",
      "-1",
      "9999999",
      "2147484",
      "2147483648ms",
      "soon",
      "",
    ];
    for (const text of others) assert.equal(plainDuration(text), undefined, text);
    assert.equal(plainDuration(String(2 ** 31 - 1) + "ms"), 2 ** 31 - 1, "the longest deadline");
    for (const text of [...plain.map(([t]) => t), ...others, "2147483647ms", "2147483s"]) {
      const quick = plainDuration(text);
      if (quick !== undefined) assert.equal(quick, libraryReads(() => parseDuration(text)), text);
    }
  });

  it(
    "the base URL's sources in the resolver's order: a blank LMSTUDIO_URL counts as unset",
    cleanly(async (defer) => {
      const { cwd } = repository(defer);
      const s = await sim({ models: [GPT] });
      const home = await createFakeLmStudioHome({ simulator: s });
      defer(() => home.cleanup());
      const blank = await both(s, ["check", "--json"], { ...home.env, LMSTUDIO_URL: "  " }, cwd);
      sameAnswer(blank, "a blank LMSTUDIO_URL");
      assert.equal(JSON.parse(blank.quickOut).baseUrlSource, "lmstudio-settings");
      const flag = await both(s, ["check", "--json", "--url", s.url], {
        ...home.env,
        LMSTUDIO_URL: "http://127.0.0.1:9",
      }, cwd);
      sameAnswer(flag, "--url over LMSTUDIO_URL over the saved settings");
      assert.equal(JSON.parse(flag.quickOut).baseUrlSource, "option");
      // A URL in a shape the quick check does not read: the frame reads it, and answers.
      const spaced = await both(s, ["check", "--json"], { LMSTUDIO_URL: ` ${s.url} ` }, cwd);
      leftToFrame(spaced, "a URL with spaces around it");
      assert.equal(spaced.quickRequests, 0);
      assert.equal(spaced.frameCode, 0);
    }),
  );
});

describe("quick check: what cannot be asked again is handed over", () => {
  it(
    "a deadline that passed: the frame reports TIMEOUT (exit 124) without asking again",
    cleanly(async (defer) => {
      const { cwd } = repository(defer);
      const s = await sim({ models: [GPT] });
      s.inject({ match: "/api/v1/models", kind: "hang" });
      const outcome = await quickCheck(["check", "--timeout", "300ms"], {
        stdout: () => assert.fail("nothing printed"),
        signal: new AbortController().signal,
        env: (name) => name === "LMSTUDIO_URL" ? s.url : undefined,
        cwd,
      });
      assert.deepEqual(outcome, {
        done: false,
        handover: {
          stoppedWith: { code: "TIMEOUT", what: `Checking ${s.url}`, timeoutMs: 300 },
        },
      });

      // Only the first request hangs: a second one (the frame asking again) would be answered, and
      // the check would succeed.
      s.clearFaults();
      s.inject({ match: "/api/v1/models", kind: "hang", times: 1 });
      const run = await runCliProcess(["check", "--json", "--timeout", "300ms"], {
        env: { LMSTUDIO_URL: s.url },
        cwd,
      });
      assert.equal(run.code, 124, run.stderr);
      const doc = JSON.parse(run.stdout);
      assert.equal(doc.error.code, "TIMEOUT");
      assert.equal(doc.error.message, `Checking ${s.url} timed out after 300ms`);
      assert.match(doc.error.hint, /--timeout/);
    }),
  );

  it(
    "a Ctrl-C: the frame reports INTERRUPTED (exit 130) without asking again",
    cleanly(async (defer) => {
      const { cwd } = repository(defer);
      const s = await sim({ models: [GPT] });
      // As above: a second request would be answered.
      s.inject({ match: "/api/v1/models", kind: "hang", times: 1 });
      const run = await interruptCli(["check", "--json"], () => s.requestCount("/api/v1/models") > 0, {
        env: { LMSTUDIO_URL: s.url },
        cwd,
      });
      assert.equal(run.code, 130, run.stderr);
      assert.equal(JSON.parse(run.stdout).error.code, "INTERRUPTED");
    }),
  );
});
