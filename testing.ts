/**
 * Test LM Studio integrations without LM Studio: an embedded simulator that answers like LM Studio
 * 0.4 / 0.3 / 0.2 over real HTTP on loopback (REST v1, REST v0, OpenAI `/v1/*`, auth, JIT,
 * downloads, loads, fault injection, request recording), and a fake `lms` executable backed by it.
 * Works on Deno, Bun and Node 20.16+; needs no GPU and no network.
 *
 * @example
 * ```ts
 * import { createFakeLms, startSimulator } from "@vtcode/lmstudio/testing";
 * import { execFile } from "node:child_process";
 * import { promisify } from "node:util";
 *
 * const run = promisify(execFile); // async: the simulator runs in this process
 * const sim = await startSimulator({ catalog: [{ key: "qwen/qwen3-4b-2507", sizeBytes: 2_500_000_000 }] });
 * const lms = await createFakeLms({ simulator: sim });
 * try {
 *   await run(lms.path, ["get", "--yes", "qwen/qwen3-4b-2507"]); // progress on stdout, "Download completed." on stderr
 *   const res = await fetch(`${sim.url}/api/v1/models/load`, {
 *     method: "POST",
 *     body: JSON.stringify({ model: "qwen/qwen3-4b-2507" }),
 *   });
 *   console.log((await res.json()).instance_id); // "qwen/qwen3-4b-2507"
 *   sim.inject({ match: "/v1/models", kind: "hang", times: 1 }); // next GET /v1/models never answers
 * } finally {
 *   await lms.cleanup();
 *   await sim.close();
 * }
 * ```
 *
 * @module
 */
export { startSimulator } from "./src/testing/simulator.ts";
export type {
  RecordedRequest,
  SimFault,
  SimInstance,
  SimInstanceSnapshot,
  SimLoadedInstance,
  SimMemory,
  SimModel,
  SimQuirks,
  SimReasoning,
  SimReasoningOption,
  Simulator,
  SimulatorOptions,
  SimulatorSnapshots,
  SimulatorState,
  SimulatorVersion,
} from "./src/testing/simulator.ts";
export type { SimReply, SimToolCall } from "./src/testing/inference_types.ts";
export { createFakeLms } from "./src/testing/fake_lms.ts";
export type { FakeLms, FakeLmsBehaviour, FakeLmsOptions, FakeLmsScript } from "./src/testing/fake_lms.ts";
export { createFakeLmStudioHome } from "./src/testing/fake_home.ts";
export type { FakeLmStudioHome, FakeLmStudioHomeOptions } from "./src/testing/fake_home.ts";
