/**
 * Reliability matrix, part 3 (issue 8): hostile input. Model names, URLs and environment values
 * that look like options, shell syntax, control characters or credentials are never executed or
 * interpreted: each is refused with USAGE (exit 2), or, where it is a legal name, passed verbatim
 * to the server or to `lms` and simply not found. Marker files prove nothing ran; a canary in a
 * sandboxed HOME proves `~` was not touched.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { describe, it } from "node:test";
import { LMStudioClient } from "../src/client.ts";
import { ensureReady } from "../src/ensure.ts";
import { Lms } from "../src/lms.ts";
import { createFakeLms, type FakeLms } from "../src/testing/fake_lms.ts";
import { type Simulator, startSimulator } from "../src/testing/simulator.ts";
import { GPT, NEW, QWEN, TYPICAL } from "./_fixtures.ts";
import { rejectsWith, ROOT } from "./_helpers.ts";
import {
  assertNothingRunning,
  assertNoUnhandledRejections,
  cli,
  type CliRun,
  collectUnhandledRejections,
  killLeftovers,
} from "./_reliability.ts";

collectUnhandledRejections();

const posix = process.platform !== "win32";
const sandbox = mkdtempSync(join(tmpdir(), "rel-input-"));
const home = join(sandbox, "home");
mkdirSync(home);
const canary = join(home, "canary");
writeFileSync(canary, "still here\n");
const marker = (name: string) => join(sandbox, `pwned-${name}`);

/** Names that are legal model names (no control characters, no leading `-`): passed verbatim. */
const LEGAL: readonly string[] = [
  "a;rm -rf ~",
  "$(touch pwned)",
  `$(touch ${marker("dollar")})`,
  "`id`",
  `\`touch ${marker("backtick")}\``,
  `x && touch ${marker("and")}`,
  `x | tee ${marker("pipe")}`,
  `x > ${marker("redirect")}`,
  "*",
  "~",
  "$HOME",
  `it's "quoted"`,
  "a b",
];

/** Names refused before anything runs. */
const REFUSED: readonly [string, string][] = [
  ["--help", "an option"],
  ["-rf", "a short option"],
  ["--host=evil.example", "an option with a value"],
  ["a\nb", "a newline"],
  ["a\u0000b", "a NUL"],
  ["a\rb", "a carriage return"],
  ["\u001b[31mred\u001b[0m", "ANSI escapes"],
  ["abc\u202edef", "a bidi override"],
  ["x".repeat(10_240), "10 kB"],
  ["   ", "only spaces"],
];

const T = { timeout: 10_000 };

function assertUsage(run: CliRun, what: string): void {
  assert.equal(run.code, 2, `${what}: exit ${run.code}\n${run.stderr}`);
  assert.equal(run.json?.error?.code, "USAGE", what);
  assert.ok(run.json?.error?.hint, `${what}: a hint`);
  // The name is quoted, never echoed raw: no control character reaches the terminal.
  // deno-lint-ignore no-control-regex
  assert.doesNotMatch(run.stdout + run.stderr, /[\u0000\u001b\r\u202e]/, `${what}: raw control characters`);
  assert.equal(run.stderr.split("\n").filter((line) => line.startsWith("error:")).length, 1);
  assert.ok(run.stdout.length + run.stderr.length < 4000, `${what}: bounded output`);
}

/** Sets HOME to the sandbox while `body` runs `lms`, so a `~` that reached a shell would hit the canary. */
async function withSandboxedHome<T>(body: () => Promise<T>): Promise<T> {
  const saved = process.env.HOME;
  process.env.HOME = home;
  try {
    return await body();
  } finally {
    if (saved === undefined) delete process.env.HOME;
    else process.env.HOME = saved;
  }
}

async function rig(
  version: "0.4" | "0.3",
): Promise<{ sim: Simulator; fake: FakeLms; close(): Promise<void> }> {
  const sim = await startSimulator({ ...TYPICAL, version });
  const fake = await createFakeLms({ simulator: sim });
  return {
    sim,
    fake,
    close: async () => {
      killLeftovers(fake.dir);
      await fake.cleanup();
      await sim.close();
    },
  };
}

describe("reliability: hostile model names refused with USAGE", () => {
  for (const [name, what] of REFUSED) {
    it(`${what}: every CLI command, every library entry point, nothing sent, nothing run`, T, async () => {
      const r = await rig("0.4");
      try {
        for (const command of ["ensure", "download", "load", "unload"]) {
          for (const form of [["--", name], [`--model=${name}`]]) {
            const run = await cli([command, "--json", "--url", r.sim.url, "--lms", r.fake.path, ...form]);
            assertUsage(run, `${command} ${form[0]}`);
          }
        }
        const client = new LMStudioClient({ baseUrl: r.sim.url, lmsPath: r.fake.path, env: () => undefined });
        const lms = new Lms(r.fake.path);
        const call = { timeoutMs: 3000 };
        await rejectsWith(client.loadModel(name, call), "USAGE");
        await rejectsWith(client.downloadModel(name, call), "USAGE");
        await rejectsWith(client.downloadModel(name, { ...call, route: "lms" }), "USAGE");
        await rejectsWith(client.unloadModel(name, call), "USAGE");
        await rejectsWith(client.findModel(name, call), "USAGE");
        await rejectsWith(ensureReady({ client, model: name, ...call }), "USAGE");
        await rejectsWith(lms.get(name, call), "USAGE");
        await rejectsWith(lms.load(name, call), "USAGE");
        await rejectsWith(lms.load(QWEN.key, { ...call, identifier: name }), "USAGE");
        await rejectsWith(lms.unload(name, call), "USAGE");
        assert.deepEqual(
          r.sim.requests.map((q) => `${q.method} ${q.path}`),
          [],
          "nothing reached the server",
        );
        assert.deepEqual(r.fake.calls(), [], "lms never ran");
      } finally {
        await r.close();
      }
    });
  }

  it("`load --help` prints the usage and runs nothing; `load -rf` is an unknown option", T, async () => {
    const r = await rig("0.4");
    try {
      const help = await cli(["load", "--help", "--url", r.sim.url]);
      assert.equal(help.code, 0);
      assert.match(help.stdout, /^vtcode-lmstudio /);
      assertUsage(await cli(["load", "-rf", "--json", "--url", r.sim.url]), "load -rf");
      assertUsage(await cli(["ensure", "--model", "--help", "--json", "--url", r.sim.url]), "--model --help");
      assert.equal(r.sim.requests.length, 0);
    } finally {
      await r.close();
    }
  });
});

describe("reliability: legal but hostile-looking names are passed verbatim", {
  skip: !posix && "POSIX shell markers",
}, () => {
  for (const name of LEGAL) {
    it(
      `${JSON.stringify(name)}: sent as-is to the server and to lms, not found, nothing executed`,
      T,
      async () => {
        const v1 = await rig("0.4");
        const v0 = await rig("0.3");
        try {
          await withSandboxedHome(async () => {
            // REST v1: the name is a JSON string in the request body, and the server does not know it.
            const download = await cli(["download", name, "--json", "--url", v1.sim.url]);
            assert.equal(download.code, 5, download.stderr);
            assert.equal(download.json?.error?.code, "MODEL_NOT_FOUND");
            const posted = v1.sim.requests.filter((q) => q.path === "/api/v1/models/download");
            assert.deepEqual(posted.map((q) => JSON.parse(q.body).model), [name]);
            for (const command of ["load", "unload"]) {
              const run = await cli([command, "--json", "--url", v1.sim.url, "--", name]);
              assert.equal(run.code, 5, `${command}: ${run.stderr}`);
            }
            const ensure = await cli([
              "ensure",
              `--model=${name}`,
              "--no-download",
              "--json",
              "--url",
              v1.sim.url,
            ]);
            assert.equal(ensure.code, 5);
            assert.ok(
              ensure.json?.error?.message.includes(JSON.stringify(name).slice(1, -1)) ||
                ensure.json?.error?.message.includes(name),
            );

            // LM Studio 0.3: `lms get` receives the name as one argument, exactly.
            const viaLms = await cli([
              "download",
              "--json",
              "--url",
              v0.sim.url,
              "--lms",
              v0.fake.path,
              "--",
              name,
            ]);
            // Not in the catalog: `lms get` says so, and it is MODEL_NOT_FOUND as over REST v1.
            assert.equal(viaLms.code, 5, viaLms.stderr);
            assert.equal(viaLms.json?.error?.code, "MODEL_NOT_FOUND");
            const lms = new Lms(v0.fake.path);
            await rejectsWith(lms.load(name, { timeoutMs: 3000 }), "LOAD_FAILED");
            assert.deepEqual(
              v0.fake.calls().filter((argv) => argv[0] === "get" || argv[0] === "load"),
              [["get", "--yes", name], ["load", "-y", name]],
            );
          });
          await assertNothingRunning(v0.fake.pids(), v0.fake.dir);
        } finally {
          await v1.close();
          await v0.close();
        }
      },
    );
  }
});

describe("reliability: hostile URLs are USAGE, never fetched", () => {
  const URLS: readonly string[] = [
    "file:///etc/passwd",
    "http://user:pass@host",
    "http://user:pass@127.0.0.1:1234/v1",
    "javascript:alert(1)",
    "javascript:",
    "data:text/plain,hello",
    "ftp://127.0.0.1/",
    "localhost:1234",
    "http://127.0.0.1:1234/?model=x",
    "http://127.0.0.1:1234/#x",
    "http://127.0.0.1:1234 --token x",
    "http://127.0.0.1:1234\nhttp://evil.example",
    "http://127.0.0.1:1234/\u202eevil",
    `localhost:1234/${"x".repeat(10_240)}`,
    `not a url ${"x".repeat(10_240)}`,
    `${"a".repeat(10_240)}://host`,
  ];
  for (const url of URLS) {
    it(
      `${JSON.stringify(url).slice(0, 60)}: --url, LMSTUDIO_URL and the library all refuse it`,
      T,
      async () => {
        const fromFlag = await cli(["check", "--json", "--url", url]);
        assertUsage(fromFlag, "--url");
        // No URL is claimed for one that is not a URL; where it came from is said (check, ensure),
        // and the message names it: that is where it must be fixed.
        assert.equal(fromFlag.json!.baseUrl, null);
        assert.equal(fromFlag.json!.baseUrlSource, "option");
        assert.match(fromFlag.json!.error!.message, /^--url: /);
        const fromEnv = await cli(["models", "--json"], { LMSTUDIO_URL: url });
        assertUsage(fromEnv, "LMSTUDIO_URL");
        assert.equal(fromEnv.json!.baseUrl, null);
        assert.match(fromEnv.json!.error!.message, /^LMSTUDIO_URL: /);
        const flag = await cli(["check", "--url", url]);
        assert.ok(!(flag.stdout + flag.stderr).includes("user:pass@"), "no credentials echoed");
        assert.throws(() => new LMStudioClient({ baseUrl: url, env: () => undefined }), { code: "USAGE" });
        assert.throws(() => new LMStudioClient({ env: (n) => (n === "LMSTUDIO_URL" ? url : undefined) }), {
          code: "USAGE",
          message: /^LMSTUDIO_URL: /,
        });
        await rejectsWith(ensureReady({ baseUrl: url, env: () => undefined, timeoutMs: 3000 }), "USAGE");
        await rejectsWith(
          LMStudioClient.tryFromProvider({ baseUrl: url }, { env: () => undefined, timeoutMs: 3000 }),
          "USAGE",
        );
      },
    );
  }
});

describe(
  "reliability: environment values with spaces and newlines",
  { skip: !posix && "POSIX paths" },
  () => {
    it("LMSTUDIO_URL: surrounding whitespace is trimmed; inner space or a newline is USAGE", T, async () => {
      const sim = await startSimulator({ models: [GPT] });
      try {
        assert.equal((await cli(["check", "--json"], { LMSTUDIO_URL: `  ${sim.url}/v1 \n` })).code, 0);
        assertUsage(await cli(["check", "--json"], { LMSTUDIO_URL: `${sim.url} --token x` }), "space");
        assertUsage(await cli(["check", "--json"], { LMSTUDIO_URL: `${sim.url}\n--json` }), "newline");
        assert.equal(sim.requests.length, 1, "only the valid URL was used");
      } finally {
        await sim.close();
      }
    });

    it(
      "LMSTUDIO_MODEL: a space is part of the name; a newline is USAGE; shell syntax is just text",
      T,
      async () => {
        const sim = await startSimulator({ models: [GPT] });
        try {
          const spaced = await cli(["ensure", "--no-download", "--json", "--url", sim.url], {
            LMSTUDIO_MODEL: "my model",
          });
          assert.equal(spaced.code, 5);
          assert.match(spaced.json!.error!.message, /my model/);
          assertUsage(
            await cli(["ensure", "--json", "--url", sim.url], { LMSTUDIO_MODEL: "a\nrm -rf ~" }),
            "newline",
          );
          const shell = await cli(["ensure", "--no-download", "--json", "--url", sim.url], {
            LMSTUDIO_MODEL: `$(touch ${marker("env-model")})`,
          });
          assert.equal(shell.code, 5);
        } finally {
          await sim.close();
        }
      },
    );

    it(
      "LMSTUDIO_LMS_PATH: a directory with spaces works; a newline or shell syntax is a path that does not exist",
      T,
      async () => {
        const spaced = join(sandbox, "dir with spaces; and $(touch x)");
        mkdirSync(spaced, { recursive: true });
        const sim = await startSimulator({ version: "0.3", catalog: [NEW] });
        const fake = await createFakeLms({ simulator: sim, dir: spaced });
        try {
          const which = await cli(["which-lms", "--json"], { LMSTUDIO_LMS_PATH: fake.path });
          assert.equal(which.code, 0, which.stderr);
          assert.deepEqual((which.json as unknown as { lms: unknown }).lms, {
            path: fake.path,
            how: "env",
            source: "env",
          });
          const download = await cli(["download", NEW.key, "--json", "--url", sim.url], {
            LMSTUDIO_LMS_PATH: fake.path,
          });
          assert.equal(download.code, 0, download.stderr);
          for (
            const path of [`${fake.path}\n--version`, `$(touch ${marker("lms-path")})`, "lms; touch pwned"]
          ) {
            const run = await cli(["which-lms", "--json"], { LMSTUDIO_LMS_PATH: path });
            assert.equal(run.code, 8, run.stderr);
            assert.equal(run.json?.error?.code, "LMS_NOT_FOUND");
          }
          await assertNothingRunning(fake.pids(), fake.dir);
        } finally {
          killLeftovers(fake.dir);
          await fake.cleanup();
          await sim.close();
        }
      },
    );

    it(
      "LM_API_TOKEN: surrounding whitespace is trimmed; inner spaces are sent and rejected; a newline is USAGE",
      T,
      async () => {
        const token = "sk-lm-InpuTtok:abcdefghij0123456789";
        const sim = await startSimulator({ models: [GPT], auth: { token } });
        try {
          assert.equal(
            (await cli(["check", "--json", "--url", sim.url], { LM_API_TOKEN: `  ${token}\n` })).code,
            0,
          );
          const spaced = await cli(["check", "--json", "--url", sim.url], {
            LM_API_TOKEN: "sk-lm-with spaces inside",
          });
          assert.equal(spaced.code, 4);
          assert.match(spaced.json!.error!.hint!, /LM_API_TOKEN/);
          for (const bad of [`${token}\nX-Evil: 1`, "sk-lm-a\u0000b", "sk-lm-\u20ac"]) {
            const run = await cli(["check", "--json", "--url", sim.url], { LM_API_TOKEN: bad });
            assertUsage(run, JSON.stringify(bad));
            assert.match(run.json!.error!.hint!, /LM_API_TOKEN/);
            assert.ok(!run.stdout.includes("X-Evil") && !run.stderr.includes("X-Evil"));
            assertUsage(await cli(["check", "--json", "--url", sim.url, "--token", bad]), "--token");
          }
          assert.ok(sim.requests.every((q) => !("x-evil" in q.headers)), "no header was injected");
        } finally {
          await sim.close();
        }
      },
    );

    it("other values with newlines are USAGE: --timeout, --context-length", T, async () => {
      assertUsage(await cli(["check", "--json", "--timeout", "1\n0"]), "--timeout");
      assertUsage(await cli(["ensure", "--json", "--context-length", "4096\n"]), "--context-length");
    });

    it(
      "a duration no timer can keep is USAGE, not a deadline that passes at once: --timeout, timeoutMs, pollIntervalMs",
      T,
      async () => {
        // Node and Bun fire a timer longer than 2^31-1 ms after 1 ms: such a deadline would report
        // TIMEOUT before the server could answer. The simulator answers at once; it is never asked.
        const sim = await startSimulator({ models: [GPT] });
        try {
          for (const timeout of ["9999999", "597h", "0.0001s", "0"]) {
            const run = await cli(["check", "--json", "--url", sim.url, "--timeout", timeout]);
            assertUsage(run, `--timeout ${timeout}`);
            assert.match(run.json!.error!.hint!, /596h/);
          }
          assert.equal((await cli(["check", "--json", "--url", sim.url, "--timeout", "596h"])).code, 0);
          for (const timeoutMs of [2 ** 31, Infinity, -1, NaN]) {
            await rejectsWith(ensureReady({ baseUrl: sim.url, model: GPT.key, timeoutMs }), "USAGE");
          }
          for (const startServerTimeoutMs of [0, 2 ** 31, NaN]) {
            await assert.rejects(
              ensureReady({ baseUrl: sim.url, model: GPT.key, startServer: true, startServerTimeoutMs }),
              (e: Error & { code?: string }) => e.code === "USAGE" && /startServerTimeoutMs/.test(e.message),
            );
          }
          for (const pollIntervalMs of [0, -5, NaN, 2 ** 31]) {
            assert.throws(
              () => new LMStudioClient({ baseUrl: sim.url, pollIntervalMs }),
              (e: Error & { code?: string }) => e.code === "USAGE" && /pollIntervalMs/.test(e.message),
            );
          }
          assert.equal(sim.requests.length, 1, "only the 596h check asked the server");
        } finally {
          await sim.close();
        }
      },
    );
  },
);

it("reliability (input): nothing was executed, ~ untouched, no unhandled rejection", async () => {
  const markers = [
    ...["dollar", "backtick", "and", "pipe", "redirect", "env-model", "lms-path"].map(marker),
    join(ROOT, "pwned"),
    join(process.cwd(), "pwned"),
    join(home, "pwned"),
  ];
  assert.deepEqual(markers.filter((m) => existsSync(m)), [], "marker files");
  assert.ok(existsSync(canary), "the canary in the sandboxed HOME survived");
  await assertNoUnhandledRejections();
  rmSync(sandbox, { recursive: true, force: true });
});
