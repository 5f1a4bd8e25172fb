import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";
import { lmsSpawnPlan, runLms } from "../src/lms_run.ts";
import { LMStudioError } from "../src/errors.ts";
import { detectRuntime } from "../src/runtime.ts";
import {
  cleanly,
  type Defer,
  gone,
  isAlive,
  nodeWithout,
  rejection,
  rejectsWith,
  ROOT,
  useSimulators,
} from "./_helpers.ts";

const sim = useSimulators();

const posix = process.platform !== "win32";

/** A temp dir with executable `#!/bin/sh` scripts standing in for `lms`; removed after the test. */
function scripts(defer: Defer): { dir: string; script(name: string, body: string, mode?: number): string } {
  const dir = mkdtempSync(join(tmpdir(), "lms-run-"));
  defer(() => rmSync(dir, { recursive: true, force: true }));
  return {
    dir,
    script(name, body, mode = 0o755) {
      const file = join(dir, name);
      writeFileSync(file, `#!/bin/sh\n${body}\n`);
      chmodSync(file, mode);
      return file;
    },
  };
}

/** Kills a pid if a failed test left it running. */
function reap(defer: Defer, pids: () => number[]): void {
  defer(() => {
    for (const pid of pids()) {
      try {
        process.kill(pid, "SIGKILL");
      } catch { /* already gone */ }
    }
  });
}

/** A script that starts a grandchild and hangs: prints `child <pid>` and `grandchild <pid>`. */
const HANG_WITH_CHILD = 'sleep 60 &\necho "child $$"\necho "grandchild $!"\nwait';

function pidsFrom(text: string): { child: number; grandchild: number } {
  return {
    child: Number(/child (\d+)/.exec(text)?.[1]),
    grandchild: Number(/grandchild (\d+)/.exec(text)?.[1]),
  };
}

describe("runLms", { skip: !posix && "POSIX process groups; Windows uses taskkill /T" }, () => {
  it(
    "passes every argument literally: no shell, no globbing, no expansion",
    cleanly(async (defer) => {
      const { dir, script } = scripts(defer);
      const echo = script("lms", `printf '%s\\0' "$@"`);
      const args = [
        "get",
        `a;rm -rf ${dir}/victim`,
        `$(touch ${dir}/pwned)`,
        `\`touch ${dir}/pwned2\``,
        `x && touch ${dir}/pwned3`,
        "*",
        "~",
        "$HOME",
        `it's "quoted"`,
        "back\\slash",
        "",
        "two\nlines",
        "ünïcödé 名前 🙂",
      ];
      writeFileSync(join(dir, "victim"), "still here");
      const result = await runLms(echo, args);
      assert.equal(result.code, 0);
      assert.deepEqual(result.stdout.split("\0").slice(0, -1), args);
      assert.equal(existsSync(join(dir, "pwned")), false);
      assert.equal(existsSync(join(dir, "pwned2")), false);
      assert.equal(existsSync(join(dir, "pwned3")), false);
      assert.equal(readFileSync(join(dir, "victim"), "utf8"), "still here");
    }),
  );

  it(
    "closes stdin, so an lms that reads it sees end-of-file instead of hanging",
    cleanly(async (defer) => {
      const { script } = scripts(defer);
      const reader = script("lms", 'if read line; then echo "got $line"; else echo "eof"; fi');
      const result = await runLms(reader, []);
      assert.equal(result.stdout, "eof\n");
    }),
  );

  it(
    "returns a non-zero exit with stdout and stderr kept apart",
    cleanly(async (defer) => {
      const { script } = scripts(defer);
      const failing = script(
        "lms",
        'echo "Waking up LM Studio service..." >&2\necho partial\necho "Error: boom" >&2\nexit 3',
      );
      const result = await runLms(failing, ["load", "-y", "x"]);
      assert.equal(result.code, 3);
      assert.equal(result.stdout, "partial\n");
      assert.equal(result.stderr, "Waking up LM Studio service...\nError: boom\n");
      assert.equal(result.signal, null);
    }),
  );

  it(
    "passes extra environment variables and keeps the inherited ones",
    cleanly(async (defer) => {
      const { script } = scripts(defer);
      const env = script("lms", 'echo "$LMS_TEST_VALUE|${PATH:+has-path}"');
      const result = await runLms(env, [], { env: { LMS_TEST_VALUE: "a b;c" } });
      assert.equal(result.stdout, "a b;c|has-path\n");
    }),
  );

  it(
    "streams output to the callbacks while lms is still running",
    cleanly(async (defer) => {
      const { dir, script } = scripts(defer);
      const gate = join(dir, "gate");
      // Prints, then waits for the test to open the gate: only a streaming reader can open it.
      const streaming = script(
        "lms",
        `printf 'first\\r'\nwhile [ ! -f '${gate}' ]; do sleep 0.02; done\necho second\necho warn >&2`,
      );
      const seen: string[] = [];
      const errors: string[] = [];
      const result = await runLms(streaming, [], {
        timeoutMs: 4000,
        onStdout: (chunk) => {
          seen.push(chunk);
          if (chunk.includes("first")) writeFileSync(gate, "");
        },
        onStderr: (chunk) => errors.push(chunk),
      });
      assert.equal(seen.join(""), "first\rsecond\n");
      assert.equal(errors.join(""), "warn\n");
      assert.equal(result.code, 0);
    }),
  );

  it(
    "on a deadline, rejects with TIMEOUT naming the command, and kills lms and its children",
    cleanly(async (defer) => {
      const { script } = scripts(defer);
      const hang = script("lms", HANG_WITH_CHILD);
      let output = "";
      reap(defer, () => Object.values(pidsFrom(output)));
      const error = await rejection(
        // Long enough that the script surely printed its pids (ms normally) before the deadline kills it.
        runLms(hang, ["get", "--yes", "qwen/qwen3-4b"], { timeoutMs: 2000, onStdout: (c) => (output += c) }),
      );
      assert.equal(error.code, "TIMEOUT");
      assert.match(error.message, /lms get --yes qwen\/qwen3-4b timed out after 2s/);
      const { child, grandchild } = pidsFrom(output);
      assert.ok(child > 0 && grandchild > 0, `pids reported: ${output}`);
      assert.equal(await gone(child), true, "lms itself is gone");
      assert.equal(await gone(grandchild), true, "the process lms started is gone");
    }),
  );

  it(
    "on abort, rejects with INTERRUPTED and leaves no process behind",
    cleanly(async (defer) => {
      const { script } = scripts(defer);
      const hang = script("lms", HANG_WITH_CHILD);
      const controller = new AbortController();
      let output = "";
      reap(defer, () => Object.values(pidsFrom(output)));
      const error = await rejection(
        runLms(hang, ["ps"], {
          signal: controller.signal,
          onStdout: (chunk) => {
            output += chunk;
            if (/grandchild \d+/.test(output)) controller.abort();
          },
        }),
      );
      assert.equal(error.code, "INTERRUPTED");
      const { child, grandchild } = pidsFrom(output);
      assert.equal(await gone(child), true);
      assert.equal(await gone(grandchild), true);
    }),
  );

  it(
    "passes an LMStudioError abort reason through unchanged",
    cleanly(async (defer) => {
      const { script } = scripts(defer);
      const hang = script("lms", "echo ready\nexec sleep 60");
      const controller = new AbortController();
      const reason = new LMStudioError("TIMEOUT", "the whole ensure timed out");
      const error = await rejection(
        runLms(hang, [], { signal: controller.signal, onStdout: () => controller.abort(reason) }),
      );
      assert.equal(error, reason);
    }),
  );

  it(
    "escalates to SIGKILL when lms and its children ignore SIGTERM",
    cleanly(async (defer) => {
      const { script } = scripts(defer);
      const stubborn = script("lms", `trap '' TERM\n${HANG_WITH_CHILD}`);
      let output = "";
      reap(defer, () => Object.values(pidsFrom(output)));
      const error = await rejection(
        runLms(stubborn, [], { timeoutMs: 300, killGraceMs: 200, onStdout: (c) => (output += c) }),
      );
      assert.equal(error.code, "TIMEOUT");
      const { child, grandchild } = pidsFrom(output);
      assert.equal(await gone(child), true);
      assert.equal(await gone(grandchild), true);
    }),
  );

  it(
    "kills only its own lms: aborting one run leaves a concurrent run untouched",
    cleanly(async (defer) => {
      const { script } = scripts(defer);
      const hang = script("lms", HANG_WITH_CHILD);
      const controllers = [new AbortController(), new AbortController()];
      const outputs = ["", ""];
      reap(defer, () => outputs.flatMap((text) => Object.values(pidsFrom(text))));
      defer(() => controllers.forEach((c) => c.abort()));
      let bothStarted!: () => void;
      const started = new Promise<void>((resolve) => (bothStarted = resolve));
      const [first, second] = [0, 1].map((i) =>
        runLms(hang, [], {
          signal: controllers[i].signal,
          onStdout: (chunk) => {
            outputs[i] += chunk;
            if (outputs.every((text) => /grandchild \d+/.test(text))) bothStarted();
          },
        })
      );
      second.catch(() => {}); // settled below; never an unhandled rejection meanwhile
      await started;
      controllers[0].abort();
      assert.equal((await rejection(first)).code, "INTERRUPTED");
      const mine = pidsFrom(outputs[0]);
      const theirs = pidsFrom(outputs[1]);
      assert.equal(await gone(mine.child), true);
      assert.equal(await gone(mine.grandchild), true);
      assert.equal(isAlive(theirs.child), true, "the other lms still runs");
      assert.equal(isAlive(theirs.grandchild), true, "and so does its child");
      controllers[1].abort();
      assert.equal((await rejection(second)).code, "INTERRUPTED");
      assert.equal(await gone(theirs.grandchild), true);
    }),
  );

  it(
    "stops lms and rethrows when an output callback throws",
    cleanly(async (defer) => {
      const { script } = scripts(defer);
      const hang = script("lms", HANG_WITH_CHILD);
      let output = "";
      reap(defer, () => Object.values(pidsFrom(output)));
      const boom = new Error("callback failed");
      await assert.rejects(
        runLms(hang, [], {
          onStdout: (chunk) => {
            output += chunk;
            if (/grandchild \d+/.test(output)) throw boom;
          },
        }),
        (error) => error === boom,
      );
      const { child, grandchild } = pidsFrom(output);
      assert.equal(await gone(child), true);
      assert.equal(await gone(grandchild), true);
    }),
  );

  it(
    "rejects at once, without starting lms, when the signal is already aborted",
    cleanly(async (defer) => {
      const { dir, script } = scripts(defer);
      const marker = join(dir, "ran");
      const lms = script("lms", `touch '${marker}'`);
      const error = await rejection(runLms(lms, [], { signal: AbortSignal.abort() }));
      assert.equal(error.code, "INTERRUPTED");
      assert.equal(existsSync(marker), false);
    }),
  );

  it(
    "reports an lms killed by a signal as 128 + n with the signal name",
    cleanly(async (defer) => {
      const { script } = scripts(defer);
      const suicidal = script("lms", "echo 'Error: about to die' >&2\nkill -KILL $$");
      const result = await runLms(suicidal, []);
      assert.equal(result.code, 137);
      assert.equal(result.signal, "SIGKILL");
      assert.equal(result.stderr, "Error: about to die\n");
    }),
  );

  it(
    "survives garbage output: binary bytes and invalid UTF-8",
    cleanly(async (defer) => {
      const { script } = scripts(defer);
      const garbage = script("lms", "printf '\\377\\376\\000\\033[31m\\200ok'");
      const chunks: string[] = [];
      const result = await runLms(garbage, [], { onStdout: (c) => chunks.push(c) });
      assert.equal(result.code, 0);
      assert.ok(result.stdout.endsWith("ok"));
      assert.ok(chunks.join("").endsWith("ok"));
    }),
  );

  it(
    "caps megabytes of output, keeping the tail and saying how much was dropped",
    cleanly(async (defer) => {
      const { script } = scripts(defer);
      const flood = script("lms", "head -c 3000000 /dev/zero | tr '\\000' 'x'\necho END");
      let streamed = 0;
      const result = await runLms(flood, [], {
        maxOutputBytes: 100_000,
        onStdout: (c) => (streamed += c.length),
      });
      assert.equal(result.code, 0);
      assert.equal(streamed, 3_000_004, "callbacks still see everything");
      assert.equal(result.stdoutDroppedBytes, 3_000_004 - 100_000);
      assert.ok(result.stdout.endsWith("xxxxEND\n"), "the tail is kept");
      assert.match(result.stdout, /^\[lms output truncated: 2900004 earlier bytes dropped\]\n/);
      assert.ok(result.stdout.length < 100_100);
    }),
  );

  it(
    "returns when lms exits even if a process it left behind still holds its output open",
    cleanly(async (defer) => {
      const { script } = scripts(defer);
      const leaves = script("lms", 'sleep 30 &\necho "grandchild $!"\nexit 0');
      let output = "";
      reap(defer, () => [pidsFrom(output).grandchild]);
      const result = await runLms(leaves, [], { onStdout: (c) => (output += c) });
      assert.equal(result.code, 0);
      assert.match(result.stdout, /grandchild \d+/);
    }),
  );

  it(
    "turns a missing lms into LMS_NOT_FOUND with the install hint",
    cleanly(async (defer) => {
      const { dir } = scripts(defer);
      const error = await rejection(runLms(join(dir, "no-such-lms"), ["ps"]));
      assert.equal(error.code, "LMS_NOT_FOUND");
      assert.match(error.message, /no-such-lms/);
      assert.match(error.hint ?? "", /lmstudio\.ai\/download/);
    }),
  );

  it(
    "turns a non-executable lms into LMS_NOT_FOUND with a chmod hint",
    cleanly(async (defer) => {
      const { script } = scripts(defer);
      const plain = script("lms", "echo hi", 0o644);
      const error = await rejection(runLms(plain, ["ps"]));
      assert.equal(error.code, "LMS_NOT_FOUND");
      assert.match(error.hint ?? "", /chmod \+x/);
    }),
  );

  it("refuses an invalid timeout and a NUL in an argument as USAGE", async () => {
    await rejectsWith(runLms("/bin/true", [], { timeoutMs: 0 }), "USAGE");
    await rejectsWith(runLms("/bin/true", [], { timeoutMs: Number.NaN }), "USAGE");
    await rejectsWith(runLms("/bin/true", ["a\u0000b"]), "USAGE");
  });
});

describe("start-up cost: dax loads only when lms runs", {
  skip: detectRuntime().name !== "node" &&
    "module resolve hooks are Node's (the module graph is the same source)",
}, () => {
  it(
    "importing every entry point and running `check` never resolves dax; running lms does",
    cleanly(async (defer) => {
      const dir = mkdtempSync(join(tmpdir(), "no-dax-"));
      defer(() => rmSync(dir, { recursive: true, force: true }));
      const node = nodeWithout("dax", dir);
      const deno = JSON.parse(readFileSync(join(ROOT, "deno.json"), "utf8"));
      // Every public entry point but the CLI shell (it runs on import), and the CLI's own module.
      const entries = [
        ...Object.values(deno.exports as Record<string, string>).filter((file) => file !== "./cli.ts"),
        "./src/cli_main.ts",
      ].map((file) => pathToFileURL(join(ROOT, file)).href);
      writeFileSync(
        join(dir, "main.mjs"),
        `for (const entry of ${JSON.stringify(entries)}) await import(entry);
console.log("imported");
const { runLms } = await import(${JSON.stringify(pathToFileURL(join(ROOT, "src/lms_run.ts")).href)});
await runLms(process.execPath, ["-e", "0"]).then(() => console.log("lms ran without dax"), (e) => console.log(e.message));
`,
      );
      const noLmStudioEnv = { LMSTUDIO_URL: "", LM_API_TOKEN: "" };
      const imports = await node([join(dir, "main.mjs")], noLmStudioEnv);
      const [imported, ran] = imports.stdout.trim().split("\n");
      assert.equal(imported, "imported", "no entry point resolves dax at load");
      assert.match(ran, /^dax resolved from .*\/src\/lms_run\.ts$/, "running lms needs dax (the hook works)");

      const s = await sim({});
      const check = await node([join(ROOT, "cli.ts"), "check", "--json", "--url", s.url], noLmStudioEnv);
      assert.equal(JSON.parse(check.stdout).ok, true);
    }),
  );
});

describe("lmsSpawnPlan", () => {
  it("starts lms as a process-group leader on POSIX, with the arguments untouched", () => {
    assert.deepEqual(lmsSpawnPlan("/home/a/.lmstudio/bin/lms", ["get", "--yes", "a b"], "linux"), {
      command: "/home/a/.lmstudio/bin/lms",
      args: ["get", "--yes", "a b"],
      windowsVerbatimArguments: false,
      detached: true,
    });
    assert.equal(lmsSpawnPlan("/x/lms", [], "darwin").detached, true);
  });

  it("runs lms.exe directly on Windows (Node quotes the arguments)", () => {
    assert.deepEqual(lmsSpawnPlan("C:\\Users\\a\\.lmstudio\\bin\\lms.exe", ["ps", "--json"], "win32"), {
      command: "C:\\Users\\a\\.lmstudio\\bin\\lms.exe",
      args: ["ps", "--json"],
      windowsVerbatimArguments: false,
      detached: false,
    });
  });

  it("runs an lms.cmd shim through cmd.exe with every argument quoted", () => {
    const plan = lmsSpawnPlan(
      "C:\\Program Files\\lms\\lms.cmd",
      ["get", "a&b|c<d>e^f", "dir\\"],
      "win32",
      "C:\\Windows\\system32\\cmd.exe",
    );
    assert.equal(plan.command, "C:\\Windows\\system32\\cmd.exe");
    assert.equal(plan.windowsVerbatimArguments, true);
    assert.deepEqual(plan.args, [
      "/d",
      "/s",
      "/c",
      '""C:\\Program Files\\lms\\lms.cmd" "get" "a&b|c<d>e^f" "dir\\\\""',
    ]);
  });

  it("refuses what cmd.exe would expand or split even inside quotes", () => {
    for (const arg of ["%PATH%", "!x!", 'a"b', "a\nb"]) {
      assert.throws(() => lmsSpawnPlan("C:\\lms.bat", ["get", arg], "win32"), (error: unknown) => {
        return error instanceof LMStudioError && error.code === "USAGE";
      });
    }
    assert.doesNotThrow(() => lmsSpawnPlan("C:\\lms.exe", ["get", "%PATH%"], "win32"));
  });
});
