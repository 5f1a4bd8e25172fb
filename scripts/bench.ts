/**
 * Performance benchmark (issue 7): start-up, request economy and scale, per runtime, measured
 * against a bare `fetch`. Not part of the test suite.
 *
 *   npm run bench                              # everything, 7 runs per timed item, table on stdout
 *   npm run bench -- --json > bench.json       # the same, raw samples as JSON on stdout (table on stderr)
 *   npm run bench -- --runs 15 --only cli,import --runtimes bun,deno --no-build
 *
 * What is measured, and as what:
 * - "the CLI" is the npm bin as users run it: `scripts/build_npm.ts` builds and packs the package,
 *   the tarball is `npm install`ed into a temporary folder, and `node_modules/@vtcode/lmstudio/cli.js`
 *   (the same file as `dist/package/cli.js`: a small entry that loads the self-contained quick check,
 *   `cli_bun.js` with its bytecode on Bun, `cli_quick.js` elsewhere) runs with `node`, `bun` and
 *   `deno run -A`;
 * - "the library" is the installed package (`import "@vtcode/lmstudio"`: the built `mod.js` and the
 *   chunks it shares with the other library entry points) on every runtime; the TypeScript source
 *   (`mod.ts`, what Deno users get from JSR) is measured on Bun and Deno too, as extra rows;
 * - every timing is wall clock from spawn to exit, in the parent, median of `--runs` runs after one
 *   warm-up; the commands of one comparison run interleaved, so that load on the machine hits all
 *   of them alike.
 *
 * The LM Studio simulators live in this process, so every child process is spawned asynchronously.
 *
 * The items (`--only`): `cli` (CLI `check --json` vs a bare fetch, with the URL in `LMSTUDIO_URL`
 * and, as users mostly run it, from LM Studio's saved settings in a fake home), `import` (the package vs an
 * empty module), `ensure` (of a loaded model: requests and time), `refused` (CLI against a closed
 * port), `concurrent` (50 `ensureReady` of one missing model in one process: downloads and loads
 * started), `rss` (RSS growth during a simulated 1 GB download with progress, sampled in the child
 * every 5 ms from a settled baseline), `size` (`npm install` of the tarball, and of `@lmstudio/sdk`
 * and `ollama` into temporary folders, for comparison; needs the npm registry). `concurrent` and
 * `rss` run min(runs, 5) times, each against a fresh simulator.
 *
 * Options: `--runs N` (default 7), `--json`, `--only <items>`, `--runtimes <node,bun,deno>`,
 * `--no-build` (reuse dist/*.tgz).
 */
import { spawn } from "node:child_process";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { createFakeLmStudioHome } from "../src/testing/fake_home.ts";
import { type Simulator, startSimulator } from "../src/testing/simulator.ts";

const root = resolve(fileURLToPath(new URL(".", import.meta.url)), "..");
const bin = (name: string) => join(root, "node_modules", ".bin", name);

// ---------------------------------------------------------------------------------------------
// Options

const argv = process.argv.slice(2);
function option(name: string): string | undefined {
  const i = argv.indexOf(name);
  return i === -1 ? undefined : argv[i + 1];
}
const RUNS = Math.max(1, Number(option("--runs") ?? 7));
const JSON_OUT = argv.includes("--json");
const BUILD = !argv.includes("--no-build");
const ALL_ITEMS = ["cli", "import", "ensure", "refused", "concurrent", "rss", "size"] as const;
type Item = (typeof ALL_ITEMS)[number];
const ONLY = new Set((option("--only") ?? ALL_ITEMS.join(",")).split(",") as Item[]);
type RuntimeName = "node" | "bun" | "deno";
const RUNTIME_NAMES = (option("--runtimes") ?? "node,bun,deno").split(",") as RuntimeName[];
if (argv.includes("--help") || argv.includes("-h")) {
  console.log(
    "usage: npm run bench -- [--runs N] [--json] [--only cli,import,ensure,refused,concurrent,rss,size]",
  );
  console.log("                        [--runtimes node,bun,deno] [--no-build]");
  process.exit(0);
}
for (const item of ONLY) {
  if (!(ALL_ITEMS as readonly string[]).includes(item)) {
    throw new Error(`unknown item ${item}; items: ${ALL_ITEMS.join(", ")}`);
  }
}
for (const name of RUNTIME_NAMES) {
  if (!["node", "bun", "deno"].includes(name)) {
    throw new Error(`unknown runtime ${name}; runtimes: node, bun, deno`);
  }
}

/** How each runtime runs a JavaScript (or TypeScript) file. */
const RUNTIMES: Record<RuntimeName, { cmd: string; args: string[] }> = {
  node: { cmd: process.execPath, args: [] },
  bun: { cmd: bin("bun"), args: [] },
  deno: { cmd: bin("deno"), args: ["run", "-A"] },
};

const log = (text: string) => process.stderr.write(`${text}\n`);

// ---------------------------------------------------------------------------------------------
// Processes (always asynchronous: the simulators answer from this process's event loop)

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

const childEnv: Record<string, string> = {};
for (const [key, value] of Object.entries(process.env)) {
  if (
    value !== undefined &&
    !["LMSTUDIO_URL", "LM_API_TOKEN", "LMSTUDIO_MODEL", "LMSTUDIO_LMS_PATH"].includes(key)
  ) {
    childEnv[key] = value;
  }
}
Object.assign(childEnv, { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" });

function run(
  cmd: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<Run> {
  return new Promise((done, fail) => {
    const started = performance.now();
    const child = spawn(cmd, args, {
      cwd: options.cwd ?? root,
      env: { ...childEnv, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 120_000);
    child.on("error", fail);
    child.on("close", (code) => {
      const ms = performance.now() - started;
      clearTimeout(timer);
      done({ code, stdout, stderr, ms });
    });
  });
}

async function runOk(cmd: string, args: string[], options: Parameters<typeof run>[2] = {}): Promise<Run> {
  const result = await run(cmd, args, options);
  if (result.code !== 0) {
    throw new Error(
      `${[cmd, ...args].join(" ")} exited ${result.code}\n${
        result.stderr.trim().split("\n").slice(-10).join("\n")
      }`,
    );
  }
  return result;
}

/** A command of a timed comparison: the runtime, its arguments, and how to judge its output. */
interface Command {
  label: string;
  runtime: RuntimeName;
  args: string[];
  cwd?: string;
  env?: Record<string, string>;
  expectCode?: number;
  check?: (run: Run) => void;
}

/** One warm-up run each, then `RUNS` interleaved rounds; returns every run per label. */
async function timeInterleaved(commands: Command[], runs = RUNS): Promise<Map<string, Run[]>> {
  const out = new Map<string, Run[]>(commands.map((c) => [c.label, []]));
  for (let round = -1; round < runs; round++) {
    for (const command of commands) {
      const rt = RUNTIMES[command.runtime];
      const result = await run(rt.cmd, [...rt.args, ...command.args], { cwd: command.cwd, env: command.env });
      if (result.code !== (command.expectCode ?? 0)) {
        throw new Error(
          `${command.label}: exit ${result.code} (expected ${command.expectCode ?? 0})\n` +
            `stdout: ${result.stdout.trim().slice(0, 400)}\nstderr: ${
              result.stderr.trim().split("\n").slice(-8).join("\n")
            }`,
        );
      }
      command.check?.(result);
      if (round >= 0) out.get(command.label)!.push(result);
    }
  }
  return out;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
const msOf = (runs: Run[]) => runs.map((r) => Math.round(r.ms * 10) / 10);

// ---------------------------------------------------------------------------------------------
// Report

interface Row {
  item: string;
  values: Partial<Record<RuntimeName, string>>;
  target?: string;
  /** Per runtime: met (true), missed (false), no target (undefined). */
  met?: Partial<Record<RuntimeName, boolean>>;
}
const rows: Row[] = [];
const raw: Record<string, unknown> = {};
const notes: string[] = [];

function addRow(row: Row): void {
  rows.push(row);
}

function renderTable(): string {
  const names = RUNTIME_NAMES;
  const cell = (row: Row, name: RuntimeName) => {
    const value = row.values[name];
    if (value === undefined) return "";
    const met = row.met?.[name];
    return met === undefined ? value : `${value} ${met ? "✓" : "✗"}`;
  };
  const header = ["item", ...names, "target"];
  const table = rows.map((row) => [row.item, ...names.map((n) => cell(row, n)), row.target ?? ""]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => [...r[i]!].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ").trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...table.map(line)].join("\n");
}

const fmtMs = (ms: number) => `${ms.toFixed(ms < 10 ? 1 : 0)} ms`;
const fmtMB = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

// ---------------------------------------------------------------------------------------------
// Set-up: build, pack, install into a temporary folder

const work = mkdtempSync(join(tmpdir(), "vtcode-lmstudio-bench-"));
const simulators: Simulator[] = [];
const MODEL = "openai/gpt-oss-20b";

async function sim(state: Parameters<typeof startSimulator>[0]): Promise<Simulator> {
  const simulator = await startSimulator(state);
  simulators.push(simulator);
  return simulator;
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as { port: number };
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

async function versions(): Promise<Record<RuntimeName, string>> {
  const out = {} as Record<RuntimeName, string>;
  out.node = process.version.slice(1);
  for (const name of ["bun", "deno"] as const) {
    const result = await run(bin(name), ["--version"]);
    out[name] = result.stdout.trim().split("\n")[0]!.replace(/^deno /, "").replace(/ \(.*$/, "");
  }
  return out;
}

async function tarball(): Promise<string> {
  if (BUILD) {
    log("building the npm package (scripts/build_npm.ts)…");
    const built = await runOk(process.execPath, ["--import", "tsx", join(root, "scripts", "build_npm.ts")]);
    return built.stdout.trim().split("\n").pop()!;
  }
  const dist = join(root, "dist");
  const found = readdirSync(dist).filter((f) => f.endsWith(".tgz"));
  if (found.length === 0) throw new Error("--no-build: no dist/*.tgz; run scripts/build_npm.ts first");
  return join(dist, found.sort().pop()!);
}

async function npmInstall(dir: string, spec: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "bench", private: true, type: "module" }));
  await runOk("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error", spec], {
    cwd: dir,
  });
}

// ---------------------------------------------------------------------------------------------
// Scripts run by the children (plain JS, so that every runtime runs them the same way)

function script(name: string, text: string): string {
  const path = join(work, name);
  writeFileSync(path, text);
  return path;
}

const EMPTY = () => script("empty.mjs", "// an empty module: the runtime's own start-up\n");
const CLI = () => join(work, "node_modules", "@vtcode", "lmstudio", "cli.js");

// ---------------------------------------------------------------------------------------------
// Items

async function benchCli(): Promise<void> {
  const simulator = await sim({ models: [{ key: MODEL }], loaded: [MODEL] });
  const fetchScript = script(
    "bare_fetch.mjs",
    `const response = await fetch(${
      JSON.stringify(`${simulator.url}/v1/models`)
    });\nconsole.log(await response.text());\n`,
  );
  // The same, ending the process as soon as it has printed, as the CLI does (Node's fetch otherwise
  // idles a few tens of ms before exit, finishing a background compile of undici's parser).
  const exitingScript = script(
    "bare_fetch_exit.mjs",
    `const response = await fetch(${JSON.stringify(`${simulator.url}/v1/models`)});\n` +
      `console.log(await response.text());\n` +
      `if (globalThis.Deno) Deno.exit(0); else process.exit(0);\n`,
  );
  const checkDoc = (r: Run) => {
    const doc = JSON.parse(r.stdout);
    if (doc.ok !== true || doc.server?.api !== "v1") throw new Error(`unexpected check output: ${r.stdout}`);
  };
  const env = { LMSTUDIO_URL: simulator.url };
  // No URL anywhere: the CLI reads LM Studio's saved port from the (fake) user home, as it does
  // for most users. The runtimes keep their own caches (Deno's lives under HOME by default).
  const home = await createFakeLmStudioHome({ simulator });
  const denoDir = JSON.parse((await runOk(bin("deno"), ["info", "--json"])).stdout).denoDir as string;
  const homeEnv = { HOME: home.userHome, USERPROFILE: home.userHome, DENO_DIR: denoDir };
  const checkSettingsDoc = (r: Run) => {
    checkDoc(r);
    if (JSON.parse(r.stdout).baseUrlSource !== "lmstudio-settings") {
      throw new Error(`check did not take the URL from LM Studio's settings: ${r.stdout}`);
    }
  };
  const ratio: Row = { item: "  ratio CLI / bare fetch", values: {}, target: "≤ 1.3", met: {} };
  const cliRow: Row = { item: "CLI `check --json` (npm bin)", values: {} };
  const fetchRow: Row = { item: "bare script: one fetch of /v1/models", values: {} };
  const exitRow: Row = { item: "bare script + exit right after printing", values: {} };
  const exitRatio: Row = { item: "  ratio CLI / that script", values: {} };
  const homeRow: Row = { item: "CLI `check --json`, URL from LM Studio's settings", values: {} };
  const homeRatio: Row = { item: "  ratio that CLI / bare fetch", values: {} };
  const srcRow: Row = { item: "CLI from source (cli.ts; deno/bun)", values: {} };
  const srcRatio: Row = { item: "  ratio source CLI / bare fetch", values: {} };
  // The floor of any run of the CLI: load it, parse the arguments, print, exit (no file, no network).
  const versionRow: Row = { item: "CLI `--version` (no file, no request)", values: {} };
  const versionRatio: Row = { item: "  ratio `--version` / bare fetch", values: {} };
  const data: Record<string, unknown> = {};
  for (const name of RUNTIME_NAMES) {
    log(`cli: ${name}`);
    const commands: Command[] = [
      { label: "fetch", runtime: name, args: [fetchScript], cwd: work },
      { label: "exit", runtime: name, args: [exitingScript], cwd: work },
      {
        label: "version",
        runtime: name,
        args: [CLI(), "--version"],
        cwd: work,
        check: (r) => {
          if (!/^\d+\.\d+\.\d+/.test(r.stdout)) throw new Error(`unexpected --version output: ${r.stdout}`);
        },
      },
      { label: "cli", runtime: name, args: [CLI(), "check", "--json"], cwd: work, env, check: checkDoc },
      {
        label: "home",
        runtime: name,
        args: [CLI(), "check", "--json"],
        cwd: work,
        env: homeEnv,
        check: checkSettingsDoc,
      },
    ];
    if (name !== "node") {
      commands.push({
        label: "source",
        runtime: name,
        args: [join(root, "cli.ts"), "check", "--json"],
        env,
        check: checkDoc,
      });
    }
    const runs = await timeInterleaved(commands);
    const f = median(msOf(runs.get("fetch")!));
    const c = median(msOf(runs.get("cli")!));
    cliRow.values[name] = fmtMs(c);
    fetchRow.values[name] = fmtMs(f);
    ratio.values[name] = (c / f).toFixed(2);
    ratio.met![name] = c / f <= 1.3;
    const x = median(msOf(runs.get("exit")!));
    exitRow.values[name] = fmtMs(x);
    exitRatio.values[name] = (c / x).toFixed(2);
    const v = median(msOf(runs.get("version")!));
    versionRow.values[name] = fmtMs(v);
    versionRatio.values[name] = (v / f).toFixed(2);
    const h = median(msOf(runs.get("home")!));
    homeRow.values[name] = fmtMs(h);
    homeRatio.values[name] = (h / f).toFixed(2);
    const entry: Record<string, unknown> = {
      fetchMs: msOf(runs.get("fetch")!),
      fetchExitMs: msOf(runs.get("exit")!),
      cliMs: msOf(runs.get("cli")!),
      cliSettingsMs: msOf(runs.get("home")!),
      versionMs: msOf(runs.get("version")!),
      ratio: c / f,
    };
    if (name !== "node") {
      const s = median(msOf(runs.get("source")!));
      srcRow.values[name] = fmtMs(s);
      srcRatio.values[name] = (s / f).toFixed(2);
      entry.sourceMs = msOf(runs.get("source")!);
    }
    data[name] = entry;
  }
  await home.cleanup();
  raw.cli = data;
  addRow(cliRow);
  addRow(fetchRow);
  addRow(ratio);
  addRow(exitRow);
  addRow(exitRatio);
  addRow(homeRow);
  addRow(homeRatio);
  addRow(versionRow);
  addRow(versionRatio);
  if (RUNTIME_NAMES.some((n) => n !== "node")) {
    addRow(srcRow);
    addRow(srcRatio);
  }
}

async function benchImport(): Promise<void> {
  const empty = EMPTY();
  const built = script("import_built.mjs", `import "@vtcode/lmstudio";\n`);
  const source = script("import_source.mjs", `import ${JSON.stringify(join(root, "mod.ts"))};\n`);
  const emptyRow: Row = { item: "empty module", values: {} };
  const builtRow: Row = { item: "import the package (built mod.js)", values: {} };
  const added: Row = { item: "  added by the import", values: {}, target: "≤ 20 ms", met: {} };
  const srcRow: Row = { item: "import mod.ts (source; deno/bun)", values: {} };
  const srcAdded: Row = { item: "  added by the import", values: {}, target: "≤ 20 ms", met: {} };
  const data: Record<string, unknown> = {};
  for (const name of RUNTIME_NAMES) {
    log(`import: ${name}`);
    const commands: Command[] = [
      { label: "empty", runtime: name, args: [empty], cwd: work },
      { label: "built", runtime: name, args: [built], cwd: work },
    ];
    // The source runs from the repository, where its bare imports (zod, dax) resolve.
    if (name !== "node") commands.push({ label: "source", runtime: name, args: [source], cwd: root });
    const runs = await timeInterleaved(commands);
    const e = median(msOf(runs.get("empty")!));
    const b = median(msOf(runs.get("built")!));
    emptyRow.values[name] = fmtMs(e);
    builtRow.values[name] = fmtMs(b);
    added.values[name] = `+${fmtMs(b - e)}`;
    added.met![name] = b - e <= 20;
    const entry: Record<string, unknown> = {
      emptyMs: msOf(runs.get("empty")!),
      builtMs: msOf(runs.get("built")!),
      addedMs: b - e,
    };
    if (name !== "node") {
      const s = median(msOf(runs.get("source")!));
      srcRow.values[name] = fmtMs(s);
      srcAdded.values[name] = `+${fmtMs(s - e)}`;
      srcAdded.met![name] = s - e <= 20;
      entry.sourceMs = msOf(runs.get("source")!);
    }
    data[name] = entry;
  }
  raw.import = data;
  addRow(emptyRow);
  addRow(builtRow);
  addRow(added);
  if (RUNTIME_NAMES.some((n) => n !== "node")) {
    addRow(srcRow);
    addRow(srcAdded);
  }
}

async function benchEnsure(): Promise<void> {
  const simulator = await sim({ models: [{ key: MODEL }], loaded: [MODEL] });
  const path = script(
    "ensure_loaded.mjs",
    `import { ensureReady } from "@vtcode/lmstudio";
const started = performance.now();
const result = await ensureReady({ baseUrl: ${JSON.stringify(simulator.url)}, model: ${
      JSON.stringify(MODEL)
    } });
const ms = performance.now() - started;
console.log(JSON.stringify({ ms, actions: result.actions, loaded: result.loaded }));
`,
  );
  const requests: Row = { item: "ensure (loaded model): HTTP requests", values: {}, target: "1", met: {} };
  const inProcess: Row = { item: "  ensureReady() call, in process", values: {} };
  const wall: Row = { item: "  whole process (import + call)", values: {} };
  const data: Record<string, unknown> = {};
  for (const name of RUNTIME_NAMES) {
    log(`ensure: ${name}`);
    const counts: number[] = [];
    const calls: number[] = [];
    const walls: number[] = [];
    const paths = new Set<string>();
    for (let round = -1; round < RUNS; round++) {
      simulator.clearRequests();
      const rt = RUNTIMES[name];
      const result = await runOk(rt.cmd, [...rt.args, path], { cwd: work });
      const doc = JSON.parse(result.stdout);
      if (doc.loaded !== true) throw new Error(`ensure: unexpected output ${result.stdout}`);
      if (round < 0) continue;
      counts.push(simulator.requests.length);
      for (const r of simulator.requests) paths.add(`${r.method} ${r.path}`);
      calls.push(doc.ms);
      walls.push(result.ms);
    }
    const most = Math.max(...counts);
    requests.values[name] = `${most}`;
    requests.met![name] = most <= 1;
    inProcess.values[name] = fmtMs(median(calls));
    wall.values[name] = fmtMs(median(walls));
    data[name] = { requests: counts, paths: [...paths], callMs: calls, processMs: walls };
  }
  raw.ensure = data;
  addRow(requests);
  addRow(inProcess);
  addRow(wall);
}

async function benchRefused(): Promise<void> {
  const empty = EMPTY();
  const port = await closedPort();
  const env = { LMSTUDIO_URL: `http://127.0.0.1:${port}` };
  const cliRow: Row = { item: "connection refused: CLI `check --json`", values: {} };
  const after: Row = {
    item: "  after start-up (minus empty module)",
    values: {},
    target: "< 100 ms",
    met: {},
  };
  const data: Record<string, unknown> = {};
  const refusedDoc = (r: Run) => {
    const doc = JSON.parse(r.stdout);
    if (doc.ok !== false || doc.error?.code !== "SERVER_UNREACHABLE") {
      throw new Error(`refused: unexpected ${r.stdout}`);
    }
  };
  for (const name of RUNTIME_NAMES) {
    log(`refused: ${name}`);
    const runs = await timeInterleaved([
      { label: "empty", runtime: name, args: [empty], cwd: work },
      {
        label: "cli",
        runtime: name,
        args: [CLI(), "check", "--json"],
        cwd: work,
        env,
        expectCode: 3,
        check: refusedDoc,
      },
    ]);
    const e = median(msOf(runs.get("empty")!));
    const c = median(msOf(runs.get("cli")!));
    cliRow.values[name] = fmtMs(c);
    after.values[name] = fmtMs(c - e);
    after.met![name] = c - e < 100;
    data[name] = { emptyMs: msOf(runs.get("empty")!), cliMs: msOf(runs.get("cli")!), afterStartupMs: c - e };
  }
  raw.refused = data;
  addRow(cliRow);
  addRow(after);
}

async function benchConcurrent(): Promise<void> {
  const key = "qwen/qwen3-4b-2507";
  const downloads: Row = { item: "50× concurrent ensureReady: downloads", values: {}, target: "1", met: {} };
  const loads: Row = { item: "  loads started", values: {}, target: "1", met: {} };
  const total: Row = { item: "  all requests / wall time", values: {} };
  const data: Record<string, unknown> = {};
  const runs = Math.min(RUNS, 5);
  for (const name of RUNTIME_NAMES) {
    log(`concurrent: ${name}`);
    const entry = {
      downloads: [] as number[],
      loads: [] as number[],
      requests: [] as number[],
      ms: [] as number[],
    };
    for (let round = 0; round < runs; round++) {
      // A fresh server per round: the model must be missing. 1 GB at 2 GB/s: a 0.5 s download.
      const simulator = await sim({
        catalog: [{ key, sizeBytes: 1e9 }],
        download: { mode: "time", bytesPerSecond: 2e9 },
      });
      const path = script(
        `concurrent_${round}.mjs`,
        `import { ensureReady } from "@vtcode/lmstudio";
const started = performance.now();
const settled = await Promise.allSettled(Array.from({ length: 50 }, () =>
  ensureReady({ baseUrl: ${JSON.stringify(simulator.url)}, model: ${
          JSON.stringify(key)
        }, pollIntervalMs: 50 })));
const failed = settled.filter((s) => s.status === "rejected");
console.log(JSON.stringify({ ms: performance.now() - started, failed: failed.length, error: failed[0]?.reason?.message }));
`,
      );
      const rt = RUNTIMES[name];
      const result = await runOk(rt.cmd, [...rt.args, path], { cwd: work });
      const doc = JSON.parse(result.stdout);
      if (doc.failed !== 0) throw new Error(`concurrent: ${doc.failed} of 50 failed: ${doc.error}`);
      entry.downloads.push(simulator.requestCount("/api/v1/models/download", "POST"));
      entry.loads.push(simulator.requestCount("/api/v1/models/load", "POST"));
      entry.requests.push(simulator.requests.length);
      entry.ms.push(doc.ms);
      await simulator.close();
    }
    const d = Math.max(...entry.downloads);
    const l = Math.max(...entry.loads);
    downloads.values[name] = `${d}`;
    downloads.met![name] = d === 1;
    loads.values[name] = `${l}`;
    loads.met![name] = l === 1;
    total.values[name] = `${median(entry.requests)} / ${fmtMs(median(entry.ms))}`;
    data[name] = entry;
  }
  raw.concurrent = data;
  addRow(downloads);
  addRow(loads);
  addRow(total);
}

async function benchRss(): Promise<void> {
  const key = "qwen/qwen3-4b-2507";
  const growth: Row = {
    item: "1 GB download with progress: RSS growth (max)",
    values: {},
    target: "< 10 MB",
    met: {},
  };
  const detail: Row = { item: "  RSS before → peak; progress events", values: {} };
  const data: Record<string, unknown> = {};
  const runs = Math.min(RUNS, 5);
  for (const name of RUNTIME_NAMES) {
    log(`rss: ${name}`);
    const entry = {
      baseline: [] as number[],
      peak: [] as number[],
      growth: [] as number[],
      events: [] as number[],
    };
    for (let round = 0; round < runs; round++) {
      // 1 GB at 400 MB/s: 2.5 s of polling with the default interval, progress on every poll.
      const simulator = await sim({
        models: [{ key: MODEL }],
        catalog: [{ key, sizeBytes: 1e9 }],
        download: { mode: "time", bytesPerSecond: 4e8 },
      });
      const path = script(
        `rss_${round}.mjs`,
        `import process from "node:process";
import { LMStudioClient } from "@vtcode/lmstudio";
const client = new LMStudioClient({ baseUrl: ${JSON.stringify(simulator.url)} });
await client.listModels(); // warm: the library, the first connection, the listing
// Let the runtime settle first: Node's first fetch compiles undici's llhttp WebAssembly in the
// background, a ~25 MB RSS spike for ~70 ms that any fetch would cause, download or not.
await new Promise((done) => setTimeout(done, 500));
const rss = () => process.memoryUsage().rss;
const baseline = rss();
let peak = baseline;
const sample = () => { const now = rss(); if (now > peak) peak = now; };
const timer = setInterval(sample, 5);
let events = 0;
await client.downloadModel(${JSON.stringify(key)}, { onProgress: () => { events++; sample(); } });
clearInterval(timer);
sample();
console.log(JSON.stringify({ baseline, peak, events }));
`,
      );
      const rt = RUNTIMES[name];
      const result = await runOk(rt.cmd, [...rt.args, path], { cwd: work });
      const doc = JSON.parse(result.stdout);
      entry.baseline.push(doc.baseline);
      entry.peak.push(doc.peak);
      entry.growth.push(doc.peak - doc.baseline);
      entry.events.push(doc.events);
      await simulator.close();
    }
    const g = Math.max(...entry.growth);
    growth.values[name] = fmtMB(g);
    growth.met![name] = g < 10 * 1024 * 1024;
    detail.values[name] = `${fmtMB(median(entry.baseline))} → ${fmtMB(median(entry.peak))}; ${
      median(entry.events)
    }`;
    data[name] = entry;
  }
  raw.rss = data;
  addRow(growth);
  addRow(detail);
}

function treeSize(dir: string): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = lstatSync(path);
    if (stat.isDirectory()) {
      const sub = treeSize(path);
      bytes += sub.bytes;
      files += sub.files;
    } else {
      bytes += stat.size;
      files++;
    }
  }
  return { bytes, files };
}

/**
 * Installs the newest version of `name` that installs: a registry can list a version whose own
 * dependencies it cannot serve (then the next older releases are tried, at most three).
 */
async function installNewestWorking(dir: string, name: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "bench", private: true }));
  const install = (spec: string) =>
    run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error", spec], {
      cwd: dir,
    });
  const first = await install(name);
  if (first.code === 0) return;
  const reason = first.stderr.split("\n").find((l) => /notarget|ETARGET|error/i.test(l))?.trim() ??
    `exit ${first.code}`;
  const listed = await runOk("npm", ["view", name, "versions", "--json"], { cwd: dir });
  const versions = (JSON.parse(listed.stdout) as string[]).filter((v) => !v.includes("-")).reverse();
  for (const version of versions.slice(1, 4)) {
    if ((await install(`${name}@${version}`)).code === 0) {
      notes.push(`${name}@${versions[0]} did not install here (${reason}); measured ${name}@${version}`);
      return;
    }
  }
  throw new Error(`npm install ${name} failed: ${reason}`);
}

const sizes: { name: string; version: string; packages: number; bytes: number; files: number; du: string }[] =
  [];

async function benchSize(): Promise<void> {
  const measure = async (name: string, dir: string) => {
    const modules = join(dir, "node_modules");
    const { bytes, files } = treeSize(modules);
    const du = (await run("du", ["-sh", modules])).stdout.split("\t")[0]!.trim();
    const version =
      JSON.parse(readFileSync(join(modules, ...name.split("/"), "package.json"), "utf8")).version;
    const lock = JSON.parse(readFileSync(join(dir, "package-lock.json"), "utf8"));
    const packages = Object.keys(lock.packages ?? {}).filter((p) => p.startsWith("node_modules/")).length;
    sizes.push({ name, version, packages, bytes, files, du });
  };
  await measure("@vtcode/lmstudio", work);
  for (const other of ["@lmstudio/sdk", "ollama"]) {
    log(`size: npm install ${other}`);
    const dir = join(work, "size", other.replace("/", "_"));
    try {
      await installNewestWorking(dir, other);
      await measure(other, dir);
    } catch (error) {
      notes.push(`size of ${other}: ${(error as Error).message.split("\n")[0]}`);
    }
  }
  raw.size = sizes;
}

// ---------------------------------------------------------------------------------------------
// Main

const started = Date.now();
try {
  const runtimeVersions = await versions();
  const tgz = await tarball();
  log(`installing ${tgz} into ${work}`);
  await npmInstall(work, tgz);
  const items: Record<Item, () => Promise<void>> = {
    cli: benchCli,
    import: benchImport,
    ensure: benchEnsure,
    refused: benchRefused,
    concurrent: benchConcurrent,
    rss: benchRss,
    size: benchSize,
  };
  for (const item of ALL_ITEMS) {
    if (ONLY.has(item)) await items[item]();
  }
  const header = [
    `vtcode-lmstudio benchmark: ${RUNS} runs per timed item (median), ${cpus().length} cores, ${process.platform}-${process.arch}`,
    `runtimes: ${RUNTIME_NAMES.map((n) => `${n} ${runtimeVersions[n]}`).join(", ")}`,
    "",
  ];
  let text = header.join("\n") + renderTable() + "\n";
  if (sizes.length > 0) {
    text += "\ninstalled size (npm install into an empty folder, with dependencies)\n";
    for (const s of sizes) {
      text +=
        `  ${`${s.name}@${s.version}`.padEnd(28)} ${
          fmtMB(s.bytes).padStart(9)
        }  (du ${s.du}), ${s.files} files, ` +
        `${s.packages} packages\n`;
    }
  }
  if (notes.length > 0) text += `\nnotes:\n${notes.map((n) => `  - ${n}`).join("\n")}\n`;
  text += `\n(${((Date.now() - started) / 1000).toFixed(0)} s)\n`;
  if (JSON_OUT) {
    process.stderr.write(text);
    const doc = {
      date: new Date().toISOString(),
      runs: RUNS,
      cores: cpus().length,
      cpu: cpus()[0]?.model,
      platform: `${process.platform}-${process.arch}`,
      runtimes: runtimeVersions,
      rows,
      raw,
      notes,
    };
    process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
  } else {
    process.stdout.write(text);
  }
} finally {
  await Promise.all(simulators.map((s) => s.close().catch(() => {})));
  if (existsSync(work)) rmSync(work, { recursive: true, force: true });
}
