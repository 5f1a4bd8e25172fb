/**
 * Specs of the fake `lms` (`@vtcode/lmstudio/testing`): it is a real executable that needs only
 * node, prints what `lms` prints (streams, formats, exit codes, its traps included), changes the
 * simulator's state like `lms` changes LM Studio's, and plays scripted failures.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { delimiter } from "node:path";
import process from "node:process";
import { createFakeLms, type FakeLms, type FakeLmsOptions } from "../src/testing/fake_lms.ts";
import { type Simulator, type SimulatorState, startSimulator } from "../src/testing/simulator.ts";
import { GPT, NOMIC, QWEN } from "./_fixtures.ts";
import { atFileEnd, until } from "./_helpers.ts";

const later = atFileEnd();

/** The shared QWEN with the one variant LM Studio's catalog lists for it. */
const QWEN_VARIANTS = { ...QWEN, variants: ["qwen/qwen3-4b-2507@q4_k_m"] };
const windows = process.platform === "win32";

interface Run {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

interface Running {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Settles when all output is in (the pipes closed). */
  done: Promise<Run>;
  /** Settles when the process itself exits (a grandchild may still hold the pipes). */
  exited: Promise<void>;
}

/**
 * Spawns without blocking (the simulator lives in this process); killed after 20 s as a safety net
 * (it only bounds a hang: a run takes ~0.1 s).
 */
function start(cmd: string, args: string[], env: Record<string, string | undefined> = process.env): Running {
  const child = spawn(cmd, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const guard = setTimeout(() => child.kill("SIGKILL"), 20_000);
  const done = new Promise<Run>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(guard);
      resolve({ code, signal, stdout, stderr });
    });
  });
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  return { child, stdout: () => stdout, stderr: () => stderr, done, exited };
}

const run = (cmd: string, args: string[]): Promise<Run> => start(cmd, args).done;

async function rig(
  state: SimulatorState = {},
  options: FakeLmsOptions = {},
): Promise<{ sim: Simulator; fake: FakeLms; lms: (...args: string[]) => Promise<Run> }> {
  const sim = await startSimulator(state);
  const fake = await createFakeLms({ simulator: sim, ...options });
  later(async () => {
    await fake.cleanup();
    await sim.close();
  });
  return { sim, fake, lms: (...args: string[]) => run(fake.path, args) };
}

function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8")); // a zombie is dead too
  } catch {
    return false;
  }
}

const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;?]*[A-Za-z]`, "g");
const stripAnsi = (text: string): string => text.replace(ANSI, "");

describe("fake lms: the executable", () => {
  it("is an executable node script (plus lms.cmd on request) that runs from PATH", async () => {
    const fake = await createFakeLms({ windowsShim: true });
    later(() => fake.cleanup());
    assert.equal(readFileSync(fake.path, "utf8").split("\n")[0], "#!/usr/bin/env node");
    if (!windows) assert.equal(statSync(fake.path).mode & 0o777, 0o755);
    assert.match(readFileSync(`${fake.dir}/lms.cmd`, "utf8"), /^@echo off\r\nnode "%~dp0lms" %\*\r\n$/);
    const onPath = await start("lms", ["version", "--json"], {
      ...process.env,
      PATH: `${fake.dir}${delimiter}${process.env.PATH ?? ""}`,
    }).done;
    assert.equal(onPath.code, 0);
    assert.deepEqual(JSON.parse(onPath.stdout), { version: "07b7252" });
  });

  it("prints its version like lms: commit hash now, the old semver text for old CLIs", async () => {
    const fake = await createFakeLms();
    const old = await createFakeLms({ cliVersion: "0.0.47" });
    later(async () => {
      await fake.cleanup();
      await old.cleanup();
    });
    assert.equal((await run(fake.path, ["--version"])).stdout, "CLI commit: 07b7252\n");
    assert.equal((await run(fake.path, ["version"])).stdout, "CLI commit: 07b7252\n");
    assert.equal((await run(old.path, ["version"])).stdout, "lms - LM Studio CLI - v0.0.47\n");
    assert.equal((await run(old.path, ["version", "--json"])).stdout, '{"version":"0.0.47"}\n');
  });

  it("records the argv of every call verbatim, and the pid of every process", async () => {
    const { fake, lms } = await rig();
    await lms("version");
    await lms("ls", "--json");
    await lms("load", "-y", 'a "quoted" name with spaces', "", "ünï");
    assert.deepEqual(fake.calls(), [["version"], ["ls", "--json"], [
      "load",
      "-y",
      'a "quoted" name with spaces',
      "",
      "ünï",
    ]]);
    assert.equal(fake.pids().length, 3);
    assert.ok(fake.pids().every((pid) => Number.isInteger(pid) && pid > 0));
  });

  it("without a reachable LM Studio fails like lms; server status still answers, with exit 0", async () => {
    const fake = await createFakeLms();
    const sim = await startSimulator();
    const closed = await createFakeLms({ simulator: sim });
    await sim.close();
    later(async () => {
      await fake.cleanup();
      await closed.cleanup();
    });
    for (const path of [fake.path, closed.path]) {
      const ls = await run(path, ["ls", "--json"]);
      assert.equal(ls.code, 1);
      assert.equal(ls.stdout, "");
      assert.equal(ls.stderr, "Error: Failed to start or connect to local LM Studio API server.\n");
      const status = await run(path, ["server", "status", "--json"]);
      assert.equal(status.code, 0);
      assert.equal(status.stdout, '{"running":false}\n');
      assert.equal((await run(path, ["server", "stop"])).code, 1);
    }
  });

  it("prints 'Waking up LM Studio service...' on the first call that needs the service when asked to", async () => {
    const { lms } = await rig({}, { wakeUp: "first" });
    assert.equal((await lms("version")).stderr, "");
    assert.equal((await lms("ps", "--json")).stderr, "Waking up LM Studio service...\n");
    assert.equal((await lms("ps", "--json")).stderr, "");
  });

  it("rejects options lms does not have, as commander does", async () => {
    const { lms } = await rig({ catalog: [QWEN_VARIANTS] });
    const removed = await lms("get", QWEN.key, "--yes", "--limit", "5");
    assert.equal(removed.code, 1);
    assert.equal(removed.stderr, "error: unknown option '--limit'\n");
    const badNumber = await lms("load", "-y", QWEN.key, "--context-length", "lots");
    assert.equal(badNumber.code, 1);
    assert.match(badNumber.stderr, /^error: option '--context-length' argument 'lots' is invalid/);
    assert.equal((await lms("frobnicate")).stderr, "error: unknown command 'frobnicate'\n");
  });
});

describe("fake lms: get", () => {
  const PROGRESS =
    /(\d+\.\d{2})%\s*\|\s*([\d.]+ [KMGT]?B) \/\s*([\d.]+ [KMGT]?B) \|\s*([\d.]+ [KMGT]?B)\/s \| ETA ([\d:]+)/;

  it("draws lms's progress bar on stdout, then Finalizing/Download completed on stderr; the model appears", async () => {
    const { sim, fake } = await rig({
      catalog: [QWEN_VARIANTS],
      download: { mode: "manual", bytesPerSecond: 45_670_000 },
    });
    const get = start(fake.path, ["get", "--yes", QWEN.key]);
    await until("the download job", () => sim.state.jobs().length === 1);
    sim.advanceDownload(undefined, Math.round(QWEN.sizeBytes * 0.2857));
    await until("a 28.57% frame", () => get.stdout().includes("28.57%"));
    sim.advanceDownload();
    const result = await get.done;
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, "Finalizing download...\nDownload completed.\n");
    assert.ok(result.stdout.startsWith("Resolution completed. Downloading 2.50 GB...\n"));
    const frames = result.stdout.split(/[\r\n]/).map(stripAnsi).filter((line) => PROGRESS.test(line));
    const frame = frames.find((line) => line.includes("28.57%"))!;
    assert.match(
      frame,
      /^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] \[██████▍ {15}\] 28\.57% \| 713\.47 MB \/ 2\.50 GB \| 45\.67 MB\/s \| ETA 00:39 *$/,
    );
    assert.match(frames.at(-1)!, /100\.00% \| 2\.50 GB \/ 2\.50 GB/);
    assert.ok(result.stdout.includes("\x1b[?25l\x1b[s"), "hides and saves the cursor like lms");
    assert.ok(
      result.stdout.endsWith("\x1b[2K\x1b[1G\x1b[?25h"),
      "clears the bar and shows the cursor at the end",
    );
    assert.deepEqual(sim.state.models().map((m) => m.key), [QWEN.key]);
  });

  it("says 'Model already downloaded' on stderr with exit 0", async () => {
    const { sim, lms } = await rig({ models: [QWEN_VARIANTS], catalog: [QWEN_VARIANTS] });
    const result = await lms("get", "--yes", QWEN.key);
    assert.deepEqual(result, {
      code: 0,
      signal: null,
      stdout: "",
      stderr: `Model already downloaded. To use, run: lms load ${QWEN.key}\n`,
    });
    assert.deepEqual(sim.state.jobs(), []);
  });

  // lms src/subcommands/get.ts (07b7252): `owner/name` goes to LM Studio's artifact resolution,
  // anything else to the staff-pick search; both failures exit 1 with lms's "Error:" line.
  it("an owner/name the catalog does not have: LM Studio's resolution error, as lms prints it", async () => {
    const { sim, lms } = await rig({ catalog: [QWEN_VARIANTS] });
    const unknown = await lms("get", "--yes", "Nobody/Nothing");
    assert.equal(unknown.code, 1);
    assert.equal(
      unknown.stderr,
      'Error: Failed to resolve artifact "nobody/nothing": The artifact does not exist or you do not have permission to read it\n',
    );
    assert.deepEqual(stripAnsi(unknown.stdout).split(/\r?\n/).map((line) => line.trim()), [
      "",
      "⠋ nobody/nothing - Resolving...",
      "",
      "⠴ Resolving download plan...",
      "",
    ]);
    assert.deepEqual(sim.state.jobs(), []);
  });

  it("a search term without staff picks, and a missing variant: lms's own words", async () => {
    const { sim, lms } = await rig({ catalog: [QWEN_VARIANTS], download: { bytesPerSecond: 1e12 } });
    const search = await lms("get", "--yes", "Nothing-Like-It");
    assert.equal(search.code, 1);
    assert.equal(
      search.stderr,
      "Searching staff picks with the term Nothing-Like-It\nError: No staff picks found with the specified search criteria.\n",
    );
    const variant = await lms("get", "--yes", `${QWEN.key}@q8_0`);
    assert.equal(variant.code, 1);
    assert.equal(variant.stderr, "Error: Cannot find variant q8_0.\n");
    const upper = await lms("get", "--yes", `${QWEN.key}@Q4_K_M`, "--yes");
    assert.equal(upper.code, 0, "a variant is matched whatever its case");
    const ats = await lms("get", "--yes", "a@b@c");
    assert.equal(ats.stderr, "Error: You cannot have more than 2 @'s in the model name argument.\n");
    assert.deepEqual(sim.state.models().map((m) => m.key), [QWEN.key]);
  });

  it("a search term with --yes picks the first staff pick", async () => {
    const { sim, lms } = await rig({
      catalog: [QWEN_VARIANTS, { key: "qwen/qwen3-8b" }],
      download: { bytesPerSecond: 1e12 },
    });
    const result = await lms("get", "qwen3", "--yes");
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stderr,
      /^Searching staff picks with the term qwen3\nMultiple staff picks found\. Automatically selecting the first one due to --yes\.\n/,
    );
    assert.deepEqual(sim.state.models().map((m) => m.key), [QWEN.key]);
  });

  it("a failed download ends with 'Error: Download failed: ...' and exit 1; nothing is added", async () => {
    const { sim, lms } = await rig({ catalog: [QWEN_VARIANTS], download: { bytesPerSecond: 1e12 } });
    sim.failNextDownload(QWEN.key, 0.5);
    const result = await lms("get", "-y", QWEN.key);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^Error: Download failed: /m);
    assert.deepEqual(sim.state.models(), []);
  });
});

describe("fake lms: load and unload", () => {
  it("loads with -y: spinner on stdout, success and identifier on stderr; a second load makes :2", async () => {
    const { sim, lms } = await rig({ models: [QWEN_VARIANTS] });
    const first = await lms("load", "-y", QWEN.key);
    assert.equal(first.code, 0);
    assert.equal(first.stdout, `\rLoading ${QWEN.key} 0% ⠋\rLoading ${QWEN.key} 100% ⠙\r\x1b[K`);
    assert.match(
      first.stderr,
      new RegExp(
        `^Model loaded successfully in \\d+\\.\\d{2}s\\.\\n\\(2\\.33 GiB\\)\\nTo use the model in the API/SDK, use the identifier "${QWEN.key}"\\.\\n$`,
      ),
    );
    const second = await lms("load", QWEN.key, "--yes");
    assert.match(second.stderr, new RegExp(`use the identifier "${QWEN.key}:2"`));
    assert.deepEqual(sim.state.loaded().map((i) => i.id), [QWEN.key, `${QWEN.key}:2`]);
  });

  it("passes --context-length, --identifier and --ttl through to the instance", async () => {
    const { lms } = await rig({ models: [QWEN_VARIANTS] });
    assert.equal(
      (await lms("load", "-y", QWEN.key, "-c", "16384", "--identifier", "mine", "--ttl", "3600")).code,
      0,
    );
    const [instance] = JSON.parse((await lms("ps", "--json")).stdout) as Record<string, unknown>[];
    assert.equal(instance!.identifier, "mine");
    assert.equal(instance!.contextLength, 16384);
    assert.equal(instance!.ttlMs, 3_600_000);
    const clash = await lms("load", "-y", QWEN.key, "--identifier", "mine");
    assert.equal(clash.code, 1);
    assert.match(clash.stderr, /^Error: .*already exists/);
  });

  it("matches keys fuzzily, and warns when several match", async () => {
    const { sim, lms } = await rig({ models: [GPT, QWEN_VARIANTS, { key: "qwen/qwen3-8b" }] });
    assert.equal((await lms("load", "-y", "gpt-oss")).code, 0);
    const several = await lms("load", "-y", "qwen3");
    assert.match(
      several.stderr,
      /^W 2 models match the provided model key on the same device\. Loading the first one\.\n/,
    );
    assert.deepEqual(sim.state.loaded().map((i) => i.id), [GPT.key, QWEN.key]);
  });

  it("fails with exit 1 when nothing matches or the load fails, and loads nothing", async () => {
    const { sim, lms } = await rig({ models: [QWEN_VARIANTS] });
    const missing = await lms("load", "-y", "llama-9000");
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^Error: Model not found/);
    sim.failNextLoad(QWEN.key, "Error loading model. (Exit code: 18446744072635810000)");
    const failed = await lms("load", "-y", QWEN.key);
    assert.equal(failed.code, 1);
    assert.equal(failed.stderr, "Error: Error loading model. (Exit code: 18446744072635810000)\n");
    assert.deepEqual(sim.state.loaded(), []);
  });

  it("unloads by identifier; an unknown identifier prints an error but exits 0, as real lms does", async () => {
    const { sim, lms } = await rig({ models: [QWEN_VARIANTS], loaded: [QWEN.key, QWEN.key] });
    const one = await lms("unload", `${QWEN.key}:2`);
    assert.deepEqual([one.code, one.stderr], [0, `Model "${QWEN.key}:2" unloaded.\n`]);
    const unknown = await lms("unload", "ghost");
    assert.equal(unknown.code, 0);
    assert.match(unknown.stderr, /Cannot find a model with the identifier "ghost"\./);
    assert.deepEqual(sim.state.loaded().map((i) => i.id), [QWEN.key]);
  });

  it("unload --all unloads everything; with nothing loaded a bare unload exits 1", async () => {
    const { sim, lms } = await rig({ models: [QWEN_VARIANTS, NOMIC], loaded: [QWEN.key, NOMIC.key] });
    const all = await lms("unload", "--all");
    assert.equal(all.code, 0);
    assert.equal(all.stderr, `Unloading "${QWEN.key}"...\nUnloading "${NOMIC.key}"...\nUnloaded 2 models.\n`);
    assert.deepEqual(sim.state.loaded(), []);
    assert.deepEqual([(await lms("unload", "-a")).stderr], ["No models to unload.\n"]);
    const bare = await lms("unload");
    assert.equal(bare.code, 1);
    assert.equal(bare.stderr, `You don't have any models loaded. Use "lms load" to load a model.\n`);
  });
});

describe("fake lms: ls, ps and server", () => {
  it("ls --json prints SDK ModelInfo objects (camelCase; MLX as safetensors)", async () => {
    const { lms } = await rig({
      models: [QWEN_VARIANTS, NOMIC, { key: "mlx-community/qwen3-8b", format: "mlx", vision: true }],
    });
    const result = await lms("ls", "--json");
    assert.equal(result.code, 0);
    const [qwen, nomic, mlx] = JSON.parse(result.stdout) as Record<string, unknown>[];
    assert.deepEqual(qwen, {
      type: "llm",
      modelKey: QWEN.key,
      format: "gguf",
      displayName: "Qwen3 4b 2507",
      publisher: "qwen",
      path: QWEN.key,
      sizeBytes: QWEN.sizeBytes,
      indexedModelIdentifier: QWEN.key,
      deviceIdentifier: null,
      paramsString: "4B",
      architecture: "llama",
      quantization: { name: "Q4_K_M", bits: 4 },
      variants: QWEN_VARIANTS.variants,
      selectedVariant: QWEN_VARIANTS.variants[0],
      vision: false,
      trainedForToolUse: false,
      maxContextLength: 131072,
    });
    assert.equal(nomic!.type, "embedding");
    assert.equal(nomic!.path, `nomic-ai/${NOMIC.key}-GGUF/${NOMIC.key}-Q4_K_M.gguf`);
    assert.equal("vision" in nomic!, false);
    assert.equal(mlx!.format, "safetensors");
    const llms = JSON.parse((await lms("ls", "--llm", "--json")).stdout) as { modelKey: string }[];
    assert.deepEqual(llms.map((m) => m.modelKey), [QWEN.key, "mlx-community/qwen3-8b"]);
    assert.match((await lms("ls")).stdout, /^You have 3 models, taking up [\d.]+ GB of disk space\.\n/);
  });

  it("ps --json prints loaded instances, LLMs first, with status, queued and parallel; [] when none", async () => {
    const { sim, lms } = await rig({ models: [NOMIC, QWEN_VARIANTS] });
    assert.equal((await lms("ps", "--json")).stdout, "[]\n");
    sim.loadModel(NOMIC.key);
    sim.loadModel(QWEN.key, { contextLength: 8192 });
    const [qwen, nomic] = JSON.parse((await lms("ps", "--json")).stdout) as Record<string, unknown>[];
    assert.equal(qwen!.identifier, QWEN.key);
    assert.equal(qwen!.modelKey, QWEN.key);
    assert.equal(qwen!.contextLength, 8192);
    assert.equal(qwen!.ttlMs, null);
    assert.equal(qwen!.status, "idle");
    assert.equal(qwen!.queued, 0);
    assert.equal(qwen!.parallel, 4);
    assert.equal("instanceReference" in qwen!, false);
    assert.equal(nomic!.identifier, NOMIC.key);
    assert.equal(nomic!.parallel, null);
  });

  it("server stop/start turn the simulator's API off and on; status --json always exits 0", async () => {
    const { sim, lms } = await rig();
    assert.equal((await lms("server", "status", "--json")).stdout, `{"running":true,"port":${sim.port}}\n`);
    assert.deepEqual([(await lms("server", "stop")).stderr], [`Stopped the server on port ${sim.port}.\n`]);
    await assert.rejects(fetch(`${sim.url}/lmstudio-greeting`), TypeError);
    const status = await lms("server", "status", "--json");
    assert.deepEqual([status.code, status.stdout], [0, `{"running":false,"port":${sim.port}}\n`]);
    assert.equal((await lms("server", "stop")).code, 1);
    const started = await lms("server", "start");
    assert.equal(started.code, 0);
    assert.equal(started.stderr, `Starting server...\nSuccess! Server is now running on port ${sim.port}\n`);
    assert.equal((await fetch(`${sim.url}/lmstudio-greeting`)).status, 200);
  });

  it("server start on a server that is already running just reports success", async () => {
    const { lms, sim } = await rig();
    const again = await lms("server", "start", "--port", String(sim.port));
    assert.equal(again.code, 0);
    assert.match(again.stderr, new RegExp(`Success! Server is now running on port ${sim.port}\\n$`));
  });
});

describe("fake lms: scripted behaviour", () => {
  it("scripted output and exit code replace the real command and leave the simulator alone", async () => {
    const { sim, fake, lms } = await rig({ models: [QWEN_VARIANTS] }, {
      script: { load: { stdout: "out\n", stderr: "Error: scripted\n", exitCode: 7 } },
    });
    assert.deepEqual(await lms("load", "-y", QWEN.key), {
      code: 7,
      signal: null,
      stdout: "out\n",
      stderr: "Error: scripted\n",
    });
    assert.deepEqual(sim.state.loaded(), []);
    fake.script({});
    assert.equal((await lms("load", "-y", QWEN.key)).code, 0, "script() replaces the behaviour at once");
  });

  it("a two-word key wins over the command, which wins over '*'", async () => {
    const { lms } = await rig({}, {
      script: {
        "server start": { stdout: "two\n" },
        server: { stdout: "one\n" },
        "*": { stdout: "any\n", exitCode: 3 },
      },
    });
    assert.equal((await lms("server", "start")).stdout, "two\n");
    assert.equal((await lms("server", "status")).stdout, "one\n");
    const other = await lms("ps");
    assert.deepEqual([other.stdout, other.code], ["any\n", 3]);
  });

  it("garbage prints non-JSON bytes; bigOutputBytes prints exactly that many bytes", async () => {
    const { lms } = await rig({}, { script: { ps: { garbage: true }, ls: { bigOutputBytes: 300_000 } } });
    const garbage = await lms("ps", "--json");
    assert.equal(garbage.code, 0);
    assert.throws(() => JSON.parse(garbage.stdout));
    const big = await lms("ls", "--json");
    assert.equal(new TextEncoder().encode(big.stdout).length, 300_000);
  });

  it("noop prints the usual success but changes nothing (a lying lms)", async () => {
    const { sim, lms } = await rig({ models: [QWEN_VARIANTS], loaded: [QWEN.key] }, {
      script: { load: { noop: true }, unload: { noop: true } },
    });
    const load = await lms("load", "-y", QWEN.key);
    assert.equal(load.code, 0);
    assert.match(load.stderr, new RegExp(`use the identifier "${QWEN.key}:2"`));
    assert.equal((await lms("unload", QWEN.key)).stderr, `Model "${QWEN.key}" unloaded.\n`);
    assert.deepEqual(sim.state.loaded().map((i) => i.id), [QWEN.key]);
  });

  it("delayMs waits before behaving normally", async () => {
    const { lms } = await rig({}, { script: { ps: { delayMs: 50 } } });
    assert.equal((await lms("ps", "--json")).stdout, "[]\n");
  });

  it("killSelf dies by the given signal after printing", { skip: windows }, async () => {
    const { lms } = await rig({}, { script: { load: { stdout: "before\n", killSelf: "SIGTERM" } } });
    const result = await lms("load", "-y", "x");
    assert.equal(result.signal, "SIGTERM");
    assert.equal(result.stdout, "before\n");
  });

  it("hang never exits on its own; the caller has to kill it", { skip: windows }, async () => {
    const { fake } = await rig({}, { script: { get: { hang: true } } });
    const running = start(fake.path, ["get", "--yes", "x"]);
    await until("the call to be recorded", () => fake.calls().length === 1);
    running.child.kill("SIGKILL");
    const result = await running.done;
    assert.equal(result.signal, "SIGKILL");
  });

  it(
    "hangWithChild leaves a grandchild that pids() reports and cleanup() kills",
    { skip: windows },
    async () => {
      const sim = await startSimulator();
      later(() => sim.close());
      const fake = await createFakeLms({ simulator: sim, script: { load: { hangWithChild: true } } });
      const running = start(fake.path, ["load", "-y", "x"]);
      await until("lms and its grandchild", () => fake.pids().length === 2);
      const [lmsPid, grandchild] = fake.pids() as [number, number];
      assert.equal(lmsPid, running.child.pid);
      assert.equal(gone(grandchild), false, "the grandchild runs");
      running.child.kill("SIGKILL");
      await running.exited;
      assert.equal(gone(grandchild), false, "killing lms alone leaves the grandchild behind");
      await fake.cleanup();
      await until("the grandchild to be gone", () => gone(grandchild));
      await running.done; // the grandchild held the pipes until now
      assert.equal(existsSync(fake.dir), false, "cleanup() removed the temp dir");
    },
  );
});
