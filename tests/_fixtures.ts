/**
 * Test fixtures shared by the suites: the catalog models, simulator states and tokens that several
 * files used to define each for itself. Frozen, so a test that mutates one fails at once instead
 * of changing what the next test sees. A suite that needs a model with other fields spreads one
 * (`{ ...GPT, maxContextLength: 65_536 }`) rather than defining its own copy.
 */
import type { SimModel, SimulatorState } from "../src/testing/simulator.ts";

/** Freezes a fixture and everything in it (arrays and objects), keeping its type. */
function frozen<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) frozen(inner);
    Object.freeze(value);
  }
  return value;
}

/** The default model (`DEFAULT_OSS_MODEL`), with the size LM Studio's catalog reports. */
export const GPT: SimModel & { sizeBytes: number } = frozen({
  key: "openai/gpt-oss-20b",
  sizeBytes: 12_109_566_560,
});

/** A small second LLM, often the one already loaded. */
export const QWEN: SimModel & { sizeBytes: number } = frozen({
  key: "qwen/qwen3-4b-2507",
  sizeBytes: 2_497_281_632,
});

/** A model that is only in the download catalog in {@linkcode TYPICAL} (never on disk). */
export const NEW: SimModel & { sizeBytes: number } = frozen({
  key: "google/gemma-3-4b",
  sizeBytes: 3_000_000_000,
});

/** An embedding model. */
export const NOMIC: SimModel & { sizeBytes: number } = frozen({
  key: "text-embedding-nomic-embed-text-v1.5",
  type: "embedding",
  publisher: "nomic-ai",
  sizeBytes: 84_106_624,
});

/** {@linkcode QWEN} as a coding model: trained for tool use, a 128k context ceiling. */
export const CODER: SimModel & { sizeBytes: number } = frozen({
  ...QWEN,
  trainedForToolUse: true,
  maxContextLength: 131_072,
});

/** A chat model without tool use, with a small (32k) context ceiling. */
export const CHAT: SimModel = frozen({
  key: "google/gemma-3-1b",
  trainedForToolUse: false,
  maxContextLength: 32_768,
});

/** A simulated download fast enough that a 12 GB model takes about 0.3 s. */
export const FAST: NonNullable<SimulatorState["download"]> = frozen({
  mode: "time",
  bytesPerSecond: 40_000_000_000,
});

/** A typical machine: GPT and QWEN downloaded, QWEN loaded, NEW only in the download catalog. */
export const TYPICAL: SimulatorState = frozen({
  models: [GPT, QWEN],
  loaded: [QWEN.key],
  catalog: [NEW],
});

/**
 * {@linkcode TYPICAL} on LM Studio 0.3 (no REST v1 download/load/unload), so a client with a fake
 * `lms` does that work through `lms`.
 */
export const LMS_BACKED: SimulatorState = frozen({ ...TYPICAL, version: "0.3" });

/** A well-formed LM Studio token (`sk-lm-` + 8 + `:` + 20). */
export const TOKEN = "sk-lm-Rel1abTk:Q9w8e7r6t5y4u3i2o1pZ";
/** Another well-formed token: the one a server expects when the client's is wrong. */
export const OTHER_TOKEN = "sk-lm-0therTok:Zz9y8x7w6v5u4t3s2r1q";
/** Pieces of {@linkcode TOKEN} that must never appear in any output (a 401 echoes its first 10 characters). */
export const TOKEN_PIECES: readonly string[] = frozen([
  TOKEN,
  "Rel1abTk",
  "Q9w8e7r6t5y4u3i2o1pZ",
  TOKEN.slice(0, 10),
]);
