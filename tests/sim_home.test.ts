/**
 * Specs of the fake LM Studio home (`createFakeLmStudioHome` in `@vtcode/lmstudio/testing`): the
 * layout LM Studio's tools look for (home pointer, `.internal/http-server-config.json` naming
 * the simulator's port, `bin/lms`), settings files a test can break, and a clean removal.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { createFakeLmStudioHome, type FakeLmStudioHome, type FakeLmStudioHomeOptions } from "../testing.ts";
import { type Simulator, startSimulator } from "../src/testing/simulator.ts";
import { atFileEnd } from "./_helpers.ts";
import { QWEN } from "./_fixtures.ts";

const later = atFileEnd();

const windows = process.platform === "win32";

async function home(options: FakeLmStudioHomeOptions = {}): Promise<FakeLmStudioHome> {
  const h = await createFakeLmStudioHome(options);
  later(() => h.cleanup());
  return h;
}

async function sim(): Promise<Simulator> {
  const s = await startSimulator({ models: [QWEN] });
  later(() => s.close());
  return s;
}

function run(
  cmd: string,
  args: string[],
  env: Record<string, string | undefined>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env, timeout: 10_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** LM Studio's own lookup (lmstudio-js findLMStudioHome, then lms's getServerConfig), written out. */
function discover(userHome: string): { lmstudioHome: string; port: number; networkInterface: string } {
  const pointer = join(userHome, ".lmstudio-home-pointer");
  const legacy = join(userHome, ".cache", "lm-studio");
  const lmstudioHome = existsSync(pointer)
    ? readFileSync(pointer, "utf8").trim()
    : existsSync(legacy)
    ? legacy
    : join(userHome, ".lmstudio");
  const config = JSON.parse(readFileSync(join(lmstudioHome, ".internal", "http-server-config.json"), "utf8"));
  return { lmstudioHome, port: config.port, networkInterface: config.networkInterface };
}

describe("fake LM Studio home: layout", () => {
  it("a pointer, the settings file naming the simulator's port and bin/lms; LM Studio's lookup finds the server", async () => {
    const s = await sim();
    const h = await home({ simulator: s, lms: !windows });
    assert.equal(h.userHome, join(h.root, "home"));
    assert.equal(h.lmstudioHome, join(h.userHome, ".lmstudio"));
    assert.equal(h.settingsPath, join(h.lmstudioHome, ".internal", "http-server-config.json"));
    assert.equal(readFileSync(h.pointerPath, "utf8"), h.lmstudioHome);
    assert.deepEqual(JSON.parse(readFileSync(h.settingsPath, "utf8")), {
      autoStartOnLaunch: false,
      port: s.port,
      cors: false,
      logSensitiveData: true,
      logIncomingTokens: false,
      verbose: false,
      logLinesLimit: 500,
      networkInterface: "127.0.0.1",
      justInTimeModelLoading: true,
      fileLoggingMode: "succinct",
    });
    assert.deepEqual(h.defaultSettings, JSON.parse(readFileSync(h.settingsPath, "utf8")));
    const found = discover(h.userHome);
    assert.deepEqual(found, { lmstudioHome: h.lmstudioHome, port: s.port, networkInterface: "127.0.0.1" });
    const greeting = await fetch(`http://${found.networkInterface}:${found.port}/lmstudio-greeting`);
    assert.deepEqual(await greeting.json(), { lmstudio: true });
    assert.deepEqual(h.env, { HOME: h.userHome, USERPROFILE: h.userHome });
    if (!windows) {
      assert.equal(h.lmsPath, join(h.lmstudioHome, "bin", "lms"));
      assert.equal(statSync(h.lmsPath!).mode & 0o111, 0o111);
      const ls = await run(h.lmsPath!, ["ls", "--json"], { ...process.env, ...h.env });
      assert.equal(ls.code, 0, ls.stderr);
      assert.deepEqual(JSON.parse(ls.stdout).map((m: { modelKey: string }) => m.modelKey), [QWEN.key]);
      assert.deepEqual(h.lms!.calls(), [["ls", "--json"]]);
    }
  });

  it("its env makes a child process's home the fake user home", { skip: windows }, async () => {
    const h = await home();
    const child = await run("node", ["-e", "process.stdout.write(require('node:os').homedir())"], {
      ...process.env,
      ...h.env,
    });
    assert.equal(child.stdout, h.userHome);
    assert.equal(discover(child.stdout).port, 1234);
  });

  it("without a simulator or port it names 1234; port and networkInterface can be chosen; no lms unless asked", async () => {
    const plain = await home();
    assert.equal(discover(plain.userHome).port, 1234);
    assert.equal(plain.lmsPath, undefined);
    assert.equal(plain.lms, undefined);
    assert.equal(existsSync(join(plain.lmstudioHome, "bin")), false);
    const chosen = await home({ port: 41234, networkInterface: "0.0.0.0" });
    assert.deepEqual(discover(chosen.userHome), {
      lmstudioHome: chosen.lmstudioHome,
      port: 41234,
      networkInterface: "0.0.0.0",
    });
    await assert.rejects(
      createFakeLmStudioHome({ port: 70000 }),
      /"port" must be an integer from 0 to 65535/,
    );
  });

  it("legacy puts the LM Studio home at ~/.cache/lm-studio; pointer: false leaves the fallback to find it", async () => {
    const pointed = await home({ legacy: true });
    assert.equal(pointed.lmstudioHome, join(pointed.userHome, ".cache", "lm-studio"));
    assert.equal(readFileSync(pointed.pointerPath, "utf8"), pointed.lmstudioHome);
    const bare = await home({ legacy: true, pointer: false, port: 5555 });
    assert.equal(existsSync(bare.pointerPath), false);
    assert.deepEqual(discover(bare.userHome).lmstudioHome, bare.lmstudioHome);
    assert.equal(discover(bare.userHome).port, 5555);
    const modern = await home({ pointer: false, port: 6666 });
    assert.equal(existsSync(modern.pointerPath), false);
    assert.deepEqual(discover(modern.userHome), {
      lmstudioHome: join(modern.userHome, ".lmstudio"),
      port: 6666,
      networkInterface: "127.0.0.1",
    });
  });
});

describe("fake LM Studio home: settings a test can break", () => {
  it("settings: an object is merged over LM Studio's fields, a string written as is, null writes none", async () => {
    const merged = await home({ settings: { justInTimeModelLoading: false, port: 4321 } });
    const read = JSON.parse(readFileSync(merged.settingsPath, "utf8"));
    assert.equal(read.justInTimeModelLoading, false);
    assert.equal(read.port, 4321);
    assert.equal(read.fileLoggingMode, "succinct");
    const raw = await home({ settings: '{"port": "not a number"' });
    assert.equal(readFileSync(raw.settingsPath, "utf8"), '{"port": "not a number"');
    const none = await home({ settings: null });
    assert.equal(existsSync(none.settingsPath), false);
    assert.equal(existsSync(join(none.lmstudioHome, ".internal")), true);
  });

  it("writeSettings rewrites the file: malformed, huge, another object, then gone", async () => {
    const h = await home();
    h.writeSettings("{ not json");
    assert.throws(() => discover(h.userHome), SyntaxError);
    const huge = `{"port": 1234, "pad": "${"x".repeat(5_000_000)}"}`;
    h.writeSettings(huge);
    assert.equal(statSync(h.settingsPath).size, huge.length);
    h.writeSettings({ ...h.defaultSettings, port: 2345 });
    assert.equal(discover(h.userHome).port, 2345);
    h.writeSettings(null);
    assert.equal(existsSync(h.settingsPath), false);
    h.writeSettings(null); // already gone: no error
  });
});

describe("fake LM Studio home: cleanup", () => {
  it(
    "removes everything, stops the fake lms's leftovers, and can be called twice",
    { skip: windows },
    async () => {
      const s = await sim();
      const h = await createFakeLmStudioHome({
        simulator: s,
        lms: { script: { ls: { hangWithChild: true } } },
      });
      const hung = run(h.lmsPath!, ["ls"], process.env);
      for (let i = 0; i < 200 && h.lms!.pids().length < 2; i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(h.lms!.pids().length, 2); // the fake lms and its grandchild
      await h.cleanup();
      await h.cleanup();
      assert.equal(existsSync(h.root), false);
      const ended = await hung;
      assert.notEqual(ended.code, 0);
    },
  );
});
