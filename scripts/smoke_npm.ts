/**
 * Builds and packs the npm package, installs the tarball into a fresh temporary folder, and proves
 * it works there the way users run it:
 *
 * - the bin with `node`, with `bun --bun` and with `bunx --bun`, and `cli.js` with `deno run`
 *   (a successful `check` in the quick check alone, also from a removed working directory, a failing
 *   one through `cli_check.js`, `ensure` through `cli_check.js` and `cli_full.js`; Bun's bytecode
 *   program `cli_bun.js` with `cli_quick.js` gone, and the other way round for Node and Deno);
 * - the library and its subpaths (`/testing`, `/lms`, `/config`) imported from Node, Bun and Deno.
 *
 * Each run goes against the LM Studio simulator started here. Any failure exits non-zero.
 *
 *   node --import tsx scripts/smoke_npm.ts
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { startSimulator } from "../src/testing/simulator.ts";

const root = resolve(fileURLToPath(new URL(".", import.meta.url)), "..");
const bin = (name: string) => join(root, "node_modules", ".bin", name);

const built = execFileSync(process.execPath, ["--import", "tsx", join(root, "scripts", "build_npm.ts")], {
  cwd: root,
  encoding: "utf8",
  stdio: ["ignore", "pipe", "inherit"],
});
const tarball = built.trim().split("\n").pop()!;
console.log(`packed ${tarball}`);

const dir = mkdtempSync(join(tmpdir(), "vtcode-lmstudio-smoke-"));
const simulator = await startSimulator({
  models: [{ key: "openai/gpt-oss-20b" }],
  loaded: ["openai/gpt-oss-20b"],
});
let failures = 0;

/** Runs a command asynchronously (the simulator lives in this process) and checks its outcome. */
async function check(
  title: string,
  cmd: string,
  args: string[],
  expect: (stdout: string) => boolean,
  exitCode = 0,
): Promise<void> {
  const child = spawn(cmd, args, {
    cwd: dir,
    env: { ...process.env, LMSTUDIO_URL: simulator.url, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (c: string) => (stdout += c));
  child.stderr!.setEncoding("utf8").on("data", (c: string) => (stderr += c));
  const code = await new Promise<number | null>((done) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("close", (c) => {
      clearTimeout(timer);
      done(c);
    });
  });
  let ok = false;
  try {
    ok = code === exitCode && expect(stdout);
  } catch {
    ok = false;
  }
  console.log(`${ok ? "ok  " : "FAIL"} ${title}`);
  if (!ok) {
    failures++;
    console.log(
      `  exit ${code}\n  stdout: ${stdout.trim()}\n  stderr: ${
        stderr.trim().split("\n").slice(-8).join("\n  ")
      }`,
    );
  }
}

const checkDoc = (stdout: string) => {
  const doc = JSON.parse(stdout);
  return doc.ok === true && doc.command === "check" && doc.server.api === "v1" &&
    doc.baseUrl === simulator.url;
};
/** A port nothing listens on (taken, then closed). */
const closedUrl = await new Promise<string>((done) => {
  const server = createServer().listen(0, "127.0.0.1", () => {
    const { port } = server.address() as AddressInfo;
    server.close(() => done(`http://127.0.0.1:${port}`));
  });
});
const unreachableDoc = (stdout: string) => {
  const doc = JSON.parse(stdout);
  return doc.ok === false && doc.error.code === "SERVER_UNREACHABLE" && doc.baseUrl === closedUrl;
};
const ensureDoc = (stdout: string) => {
  const doc = JSON.parse(stdout);
  return doc.ok === true && doc.loaded === true && doc.model === "openai/gpt-oss-20b";
};

try {
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "smoke", private: true, type: "module" }));
  execFileSync(
    "npm",
    ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error", tarball],
    {
      cwd: dir,
      stdio: ["ignore", "ignore", "inherit"],
    },
  );
  const cliJs = join(dir, "node_modules", "@vtcode", "lmstudio", "cli.js");
  const nodeBin = join(dir, "node_modules", ".bin", "vtcode-lmstudio");
  /** `deno run`'s arguments for a script and its own. */
  const denoRun = (...args: string[]) => ["run", "-A", "--quiet", ...args];
  writeFileSync(
    join(dir, "import.mjs"),
    [
      `import { LMStudioClient, VERSION, ensureReady } from "@vtcode/lmstudio";`,
      `import { startSimulator } from "@vtcode/lmstudio/testing";`,
      `import { findLms, Lms } from "@vtcode/lmstudio/lms";`,
      `import { resolveConfig } from "@vtcode/lmstudio/config";`,
      `const status = await new LMStudioClient().check();`,
      `const own = await startSimulator({ catalog: [{ key: "qwen/qwen3-4b-2507" }] });`,
      `const ready = await ensureReady({ baseUrl: own.url, model: "qwen/qwen3-4b-2507", pollIntervalMs: 20 });`,
      `await own.close();`,
      `const config = await resolveConfig();`,
      `const lms = findLms({ path: process.execPath }); // an executable that exists: stands in for lms`,
      `new Lms(lms);`,
      `console.log(JSON.stringify({ version: VERSION, api: status.api, actions: ready.actions,`,
      `  config: [config.baseUrl, config.sources.baseUrl], lms: [lms.path, lms.source] }));`,
    ].join("\n"),
  );
  const importDoc = (stdout: string) => {
    const doc = JSON.parse(stdout);
    return doc.api === "v1" && doc.actions.join() === "check,list,download,load" &&
      typeof doc.version === "string" && doc.config.join() === `${simulator.url},env` &&
      doc.lms[1] === "option";
  };

  await check("node: vtcode-lmstudio check --json", process.execPath, [nodeBin, "check", "--json"], checkDoc);
  // From a working directory removed under the process (a deleted checkout): the quick check cannot
  // walk up from it and leaves the run to the frame, which answers. (Deno refuses to start there.)
  const inRemovedDir = ["-c", 'mkdir "$1" && cd "$1" && rmdir "$1" && shift && exec "$@"', "sh"];
  for (const [name, runtime] of [["node", process.execPath], ["bun", bin("bun")]]) {
    await check(
      `${name}: vtcode-lmstudio check --json from a removed working directory`,
      "sh",
      [...inRemovedDir, join(dir, `gone-${name}`), runtime, cliJs, "check", "--json"],
      checkDoc,
    );
  }
  // A check that fails is reported by cli_check.js, which cli.js imports.
  const failing = ["check", "--json", "--url", closedUrl];
  await check(
    "node: vtcode-lmstudio check (nothing there)",
    process.execPath,
    [nodeBin, ...failing],
    unreachableDoc,
    3,
  );
  await check(
    "bun: vtcode-lmstudio check (nothing there)",
    bin("bun"),
    [nodeBin, ...failing],
    unreachableDoc,
    3,
  );
  await check(
    "deno: cli.js check (nothing there)",
    bin("deno"),
    denoRun(cliJs, ...failing),
    unreachableDoc,
    3,
  );
  await check(
    "node: vtcode-lmstudio ensure --json",
    process.execPath,
    [nodeBin, "ensure", "--json"],
    ensureDoc,
  );
  await check(
    "bun --bun: vtcode-lmstudio check --json",
    bin("bun"),
    ["--bun", nodeBin, "check", "--json"],
    checkDoc,
  );
  await check("bunx --bun vtcode-lmstudio ensure --json", bin("bun"), [
    "x",
    "--bun",
    "vtcode-lmstudio",
    "ensure",
    "--json",
  ], ensureDoc);
  await check("deno run -A cli.js check --json", bin("deno"), denoRun(cliJs, "check", "--json"), checkDoc);
  // Every command but check runs from cli_full.js, which cli_check.js imports.
  await check("deno run -A cli.js ensure --json", bin("deno"), denoRun(cliJs, "ensure", "--json"), ensureDoc);
  await check(
    "node: import the library, /testing, /lms and /config",
    process.execPath,
    ["import.mjs"],
    importDoc,
  );
  await check("bun: import the library, /testing, /lms and /config", bin("bun"), ["import.mjs"], importDoc);
  await check(
    "deno: import the library, /testing, /lms and /config",
    bin("deno"),
    denoRun("import.mjs"),
    importDoc,
  );
  // The bin takes one quick-check program per runtime: Bun the bytecode one, the others the ES
  // module. Each runs with the other's file gone (last: this changes the install).
  const installed = join(dir, "node_modules", "@vtcode", "lmstudio");
  renameSync(join(installed, "cli_quick.js"), join(installed, "cli_quick.js.away"));
  await check(
    "bun: check --json runs cli_bun.js (cli_quick.js gone)",
    bin("bun"),
    [cliJs, "check", "--json"],
    checkDoc,
  );
  renameSync(join(installed, "cli_quick.js.away"), join(installed, "cli_quick.js"));
  rmSync(join(installed, "cli_bun.js"));
  await check("node: check --json runs cli_quick.js (cli_bun.js gone)", process.execPath, [
    cliJs,
    "check",
    "--json",
  ], checkDoc);
  await check(
    "deno: check --json runs cli_quick.js (cli_bun.js gone)",
    bin("deno"),
    denoRun(cliJs, "check", "--json"),
    checkDoc,
  );
} finally {
  await simulator.close();
  rmSync(dir, { recursive: true, force: true });
}
console.log(failures === 0 ? "npm smoke: all passed" : `npm smoke: ${failures} failed`);
process.exit(failures === 0 ? 0 : 1);
