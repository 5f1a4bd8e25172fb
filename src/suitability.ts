/**
 * Does a model fit the agent's job? Enough loaded context, and the capabilities it needs. Pure
 * decisions over a listing entry, shared by `loadModel` and `ensureReady`, so both choose alike.
 *
 * @module
 */
import { LMStudioError } from "./errors.ts";
import type { Capability, ModelInfo, ModelInstance } from "./models.ts";

/** Capabilities a caller may require (`reasoning` is reported, not required: its absence proves nothing). */
export type RequiredCapability = "tool-use" | "vision";

/** The values `require` accepts. */
export const REQUIRABLE: readonly RequiredCapability[] = ["tool-use", "vision"];

/** The largest context this package will ask for: LM Studio's context lengths are 32-bit integers. */
export const MAX_CONTEXT_LENGTH = 2 ** 31 - 1;

/** What to do about a model's instances for a job that needs at least `contextLength`. */
export type InstanceChoice =
  /** An instance is loaded and good enough: use it as it is. */
  | { kind: "use"; instance: ModelInstance }
  /** Nothing is loaded: load. */
  | { kind: "load" }
  /** Loaded, but every instance has too little context: unload these, then load. */
  | { kind: "replace"; instances: ModelInstance[] };

/** Whether `n` can be asked for as a context length: a whole number of tokens from 1 to {@linkcode MAX_CONTEXT_LENGTH}. */
export function isContextLength(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 1 && n <= MAX_CONTEXT_LENGTH;
}

/** `contextLength` as given by a caller: a positive integer within what LM Studio takes, else `USAGE`. */
export function checkContextLength(contextLength: number | undefined): void {
  if (contextLength === undefined) return;
  if (!isContextLength(contextLength)) {
    throw new LMStudioError(
      "USAGE",
      `The contextLength option must be a whole number of tokens between 1 and ${MAX_CONTEXT_LENGTH}, not ${
        String(contextLength).slice(0, 40)
      }`,
      { hint: "Give the contextLength option the context the agent needs, in tokens (e.g. 32768)." },
    );
  }
}

/** `require` as given by a caller: known capabilities only, else `USAGE`. Duplicates are folded. */
export function checkRequired(required: readonly string[] | undefined): RequiredCapability[] {
  if (required === undefined) return [];
  if (!Array.isArray(required)) {
    throw new LMStudioError(
      "USAGE",
      `The require option must be an array of capabilities, not ${
        typeof required === "string" ? JSON.stringify((required as string).slice(0, 40)) : typeof required
      }`,
      { hint: `Give the require option a list, e.g. ["tool-use"]; any of ${REQUIRABLE.join(", ")}.` },
    );
  }
  const unknown = required.filter((c) => !(REQUIRABLE as readonly unknown[]).includes(c));
  if (unknown.length > 0) {
    throw new LMStudioError(
      "USAGE",
      `Unknown capability ${
        unknown.map((c) => typeof c === "string" ? JSON.stringify(c.slice(0, 40)) : `(${typeof c})`).join(
          ", ",
        )
      } in the require option`,
      { hint: `Give the require option any of ${REQUIRABLE.join(", ")}.` },
    );
  }
  return [...new Set(required as RequiredCapability[])];
}

/**
 * The capabilities LM Studio says the model lacks (`MODEL_UNSUITABLE`), or the ones it cannot
 * tell (returned, for a warning: the server does not say).
 */
export function requireCapabilities(model: ModelInfo, required: readonly RequiredCapability[]): Capability[] {
  if (required.length === 0) return [];
  if (model.capabilities === null) return [...required];
  const lacking = required.filter((c) => !model.capabilities!.includes(c));
  if (lacking.length > 0) {
    const has = model.capabilities.length > 0 ? model.capabilities.join(", ") : "none";
    throw new LMStudioError(
      "MODEL_UNSUITABLE",
      `${model.id} lacks ${lacking.join(" and ")} (LM Studio lists its capabilities as: ${has})`,
      {
        hint: lacking.length > 1
          ? "Pick a vision model trained for tool use (LM Studio marks them with an eye and a hammer icon), or drop one from the require option."
          : lacking[0] === "tool-use"
          ? "Pick a model trained for tool use (LM Studio marks them with a hammer icon), e.g. openai/gpt-oss-20b or qwen/qwen3-4b-2507."
          : "Pick a vision model (LM Studio marks them with an eye icon).",
      },
    );
  }
  return [];
}

/** A context above the model's ceiling cannot be given: say so before loading anything. */
export function checkAgainstMaximum(model: ModelInfo, contextLength: number | undefined): void {
  if (contextLength === undefined || model.maxContextLength === null) return;
  if (contextLength > model.maxContextLength) {
    throw new LMStudioError(
      "MODEL_UNSUITABLE",
      `${model.id} supports at most ${model.maxContextLength} tokens of context; ${contextLength} were asked`,
      { hint: `Ask for ${model.maxContextLength} or less, or pick a model with a longer context.` },
    );
  }
}

/**
 * Which loaded instance serves a job needing at least `contextLength` (any, when undefined):
 * the one a `key:N` name pointed at if it qualifies, else the first that does. An instance whose
 * context is unknown is used as it is (the caller warns): replacing it on a guess could lose a
 * good instance.
 */
export function chooseInstance(
  model: ModelInfo,
  preferredId: string | null | undefined,
  contextLength: number | undefined,
): InstanceChoice {
  const instances = model.instances ?? [];
  if (model.loaded !== true || instances.length === 0) return { kind: "load" };
  const preferred = instances.find((i) => i.id === preferredId);
  const ordered = preferred ? [preferred, ...instances.filter((i) => i !== preferred)] : instances;
  if (contextLength === undefined) return { kind: "use", instance: ordered[0] };
  const enough = ordered.find((i) => i.contextLength !== null && i.contextLength >= contextLength);
  if (enough) return { kind: "use", instance: enough };
  const unknown = ordered.find((i) => i.contextLength === null);
  if (unknown) return { kind: "use", instance: unknown };
  return { kind: "replace", instances };
}

/** LM Studio gave less context than asked (it fits the context to free memory since mid-2026). */
export function tooLittleContext(
  model: string,
  instanceId: string | null,
  given: number,
  asked: number,
): LMStudioError {
  return new LMStudioError(
    "MODEL_UNSUITABLE",
    `LM Studio loaded ${
      instanceId ?? model
    } with a context of ${given} tokens, less than the ${asked} asked ` +
      "(it fits the context to free memory)",
    {
      hint:
        "Free memory (unload other models, close other apps), pick a smaller quantization of the model, or give the contextLength option a smaller value.",
    },
  );
}
