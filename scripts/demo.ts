/**
 * The main job, end to end, with no LM Studio and no GPU: starts the embedded LM Studio simulator,
 * a fake LM Studio home (its saved server settings name the simulator's port, which is not 1234) and
 * a fake `lms`, then runs the real CLI against them:
 *
 *   1. `check` with no URL given: the server is found through LM Studio's saved settings.
 *   2. LM Studio 0.4 (REST v1): a coding model is downloaded over HTTP (job + progress) and loaded with
 *      at least 32768 tokens of context, after checking it can use tools.
 *   3. A model loaded with the 4096 default is replaced by one with enough context; a model lacking a
 *      required capability is refused (exit 9) before anything loads.
 *   4. LM Studio 0.3 (no REST v1): downloaded with `lms get --yes`, loaded with `lms load -c`.
 *
 * Then `models` shows the result. Run: `npm run demo` (Node), or
 * `deno run -A scripts/demo.ts`, or `bun scripts/demo.ts`.
 */
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { detectRuntime } from "../src/runtime.ts";
import { createFakeLmStudioHome } from "../src/testing/fake_home.ts";
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
async function run(title: string, args: string[], home: Record<string, string>): Promise<number> {
  console.error(`\n\x1b[1m$ vtcode-lmstudio ${args.join(" ")}\x1b[0m   # ${title}`);
  const child = spawn(process.execPath, [...prefix, ...args], {
    cwd: root,
    stdio: "inherit",
    env: {
      ...process.env,
      ...home,
      LMSTUDIO_URL: "",
      LM_API_TOKEN: "",
      LMSTUDIO_MODEL: "",
      LMSTUDIO_LMS_PATH: "",
    },
  });
  return await new Promise((done) => child.on("close", (code) => done(code ?? 1)));
}

const catalog = [
  { key: "openai/gpt-oss-20b", sizeBytes: 12_109_565_952, maxContextLength: 131072, trainedForToolUse: true },
  { key: "qwen/qwen3-4b-2507", sizeBytes: 2_497_281_632, maxContextLength: 262144, trainedForToolUse: true },
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
// This machine's "LM Studio" remembers the 0.4 simulator's port: no --url is needed for it.
const home = await createFakeLmStudioHome({ simulator: v04 });

let failures = 0;
try {
  console.error(`LM Studio simulator 0.4 at ${v04.url}, 0.3 at ${v03.url}; fake lms at ${lms.path}`);
  const steps: [string, string[], number][] = [
    ["no --url: found through LM Studio's saved server settings", ["check", "--json"], 0],
    [
      "LM Studio 0.4: download over REST v1, then load with at least 32k context, for tool use",
      ["ensure", "openai/gpt-oss-20b", "--context-length", "32768", "--require", "tool-use"],
      0,
    ],
    [
      "again: already ready, one request",
      ["ensure", "openai/gpt-oss-20b", "--context-length", "32768", "--json"],
      0,
    ],
    ["a model loaded with the default context (4096)...", ["ensure", "qwen/qwen3-4b-2507"], 0],
    [
      "...is replaced when the agent needs more: unload, load with 65536, read back",
      ["ensure", "qwen/qwen3-4b-2507", "--context-length", "65536", "--json"],
      0,
    ],
    [
      "a capability LM Studio says the model lacks: exit 9 before anything loads",
      ["ensure", "qwen/qwen3-4b-2507", "--require", "vision"],
      9,
    ],
    ["LM Studio 0.3: download with `lms get`, load with `lms load -c`", [
      "ensure",
      "qwen/qwen3-4b-2507",
      "--context-length",
      "16384",
      "--url",
      v03.url,
      "--lms",
      lms.path,
    ], 0],
    ["what is there now", ["models"], 0],
  ];
  for (const [title, args, expected] of steps) {
    const code = await run(title, args, home.env);
    if (code !== expected) {
      console.error(`\x1b[31mexpected exit ${expected}, got ${code}\x1b[0m`);
      failures++;
    }
  }
  console.error(`\n${v04.requests.length} requests reached the 0.4 simulator; lms was called as:`);
  for (const argv of lms.calls()) console.error(`  lms ${argv.join(" ")}`);
  console.error(
    "\nAgainst a real LM Studio: npx @vtcode/lmstudio ensure openai/gpt-oss-20b  (or, from a checkout: deno run -A cli.ts ensure)",
  );
} finally {
  await lms.cleanup();
  await home.cleanup();
  await v04.close();
  await v03.close();
}
process.exit(failures === 0 ? 0 : 1);
