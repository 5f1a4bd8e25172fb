/**
 * The main job, end to end, with no LM Studio and no GPU: starts the embedded LM Studio simulator
 * and a fake `lms`, then runs the real CLI's `ensure` against them, twice:
 *
 *   1. LM Studio 0.4 (REST v1): the model is downloaded over HTTP (job + progress) and loaded.
 *   2. LM Studio 0.3 (no REST v1): the model is downloaded with `lms get --yes` and loaded with `lms load`.
 *
 * Then `check --json` and `models` show the result. Run: `npm run demo` (Node), or
 * `deno run -A scripts/demo.ts`, or `bun scripts/demo.ts`.
 */
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { detectRuntime } from "../src/runtime.ts";
import { createFakeLms } from "../src/testing/fake_lms.ts";
import { startSimulator } from "../src/testing/simulator.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const cli = join(root, "cli.ts");
const runtime = detectRuntime().name;
const prefix = runtime === "deno"
  ? ["run", "-A", "--quiet", cli]
  : runtime === "bun"
  ? [cli]
  : ["--import", "tsx", cli];

/** Runs the CLI as a child (asynchronously: the simulators live in this process's event loop). */
async function run(title: string, args: string[]): Promise<number> {
  console.error(`\n\x1b[1m$ vtcode-lmstudio ${args.join(" ")}\x1b[0m   # ${title}`);
  const child = spawn(process.execPath, [...prefix, ...args], {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, LMSTUDIO_URL: "", LM_API_TOKEN: "", LMSTUDIO_MODEL: "", LMSTUDIO_LMS_PATH: "" },
  });
  return await new Promise((done) => child.on("close", (code) => done(code ?? 1)));
}

const catalog = [
  { key: "openai/gpt-oss-20b", sizeBytes: 12_109_565_952, maxContextLength: 131072, trainedForToolUse: true },
  { key: "qwen/qwen3-4b-2507", sizeBytes: 2_497_281_632, maxContextLength: 262144 },
];
// A 12 GB download that takes about three seconds, and a load that takes one.
const v04 = await startSimulator({
  version: "0.4",
  catalog,
  models: [{ key: "text-embedding-nomic-embed-text-v1.5", type: "embedding", sizeBytes: 84_106_624 }],
  download: { mode: "time", bytesPerSecond: 4_000_000_000 },
  loadDelayMs: 1000,
});
const v03 = await startSimulator({
  version: "0.3",
  catalog,
  download: { mode: "time", bytesPerSecond: 1_000_000_000 },
  loadDelayMs: 600,
});
const lms = await createFakeLms({ simulator: v03 });

let failures = 0;
try {
  console.error(`LM Studio simulator 0.4 at ${v04.url}, 0.3 at ${v03.url}; fake lms at ${lms.path}`);
  const steps: [string, string[]][] = [
    ["is it up, and which API does it speak?", ["check", "--url", v04.url]],
    ["LM Studio 0.4: download over REST v1, then load", ["ensure", "openai/gpt-oss-20b", "--url", v04.url]],
    ["again: already ready, one request", ["ensure", "openai/gpt-oss-20b", "--url", v04.url, "--json"]],
    ["LM Studio 0.3: download with `lms get`, load with `lms load`", [
      "ensure",
      "qwen/qwen3-4b-2507",
      "--url",
      v03.url,
      "--lms",
      lms.path,
    ]],
    ["what is there now", ["models", "--url", v04.url]],
  ];
  for (const [title, args] of steps) if ((await run(title, args)) !== 0) failures++;
  console.error(`\n${v04.requests.length} requests reached the 0.4 simulator; lms was called as:`);
  for (const argv of lms.calls()) console.error(`  lms ${argv.join(" ")}`);
  console.error(
    "\nAgainst a real LM Studio: npx @vtcode/lmstudio ensure openai/gpt-oss-20b  (or, from a checkout: deno run -A cli.ts ensure)",
  );
} finally {
  await lms.cleanup();
  await v04.close();
  await v03.close();
}
process.exit(failures === 0 ? 0 : 1);
