/**
 * The gate every model name and instance identifier passes before it reaches `lms` or the server.
 *
 * Arguments go to `lms` as an array, never through a shell, so quoting is not the risk here. The
 * risks are the ones an array cannot prevent: a name starting with `-` is parsed by `lms` as an
 * option (`--help`, `--host=evil`), control characters end up in terminal output and log lines
 * (ANSI injection, forged lines), and an unbounded name is never a real model.
 *
 * @module
 */
import { LMStudioError } from "./errors.ts";
import { hasUnprintable, quote } from "./text.ts";

/**
 * Longest name accepted; real keys and Hugging Face URLs are far shorter.
 *
 * @example
 * ```ts
 * import { MAX_MODEL_NAME_LENGTH } from "./model_name.ts";
 * const fits = (name: string) => name.length <= MAX_MODEL_NAME_LENGTH;
 * ```
 */
export const MAX_MODEL_NAME_LENGTH = 512;

const HINT =
  "Use a model key such as `qwen/qwen3-4b-2507` or `openai/gpt-oss-20b` (see `lms ls` or GET /v1/models).";

/**
 * Throws `LMStudioError("USAGE")` unless `name` is a plausible model name or instance identifier:
 * not empty or only whitespace, not starting with `-`, no control characters (newline, NUL, ESC,
 * bidi overrides, ...), at most {@linkcode MAX_MODEL_NAME_LENGTH} characters.
 *
 * @example
 * ```ts
 * import { validateModelName } from "./model_name.ts";
 * validateModelName("qwen/qwen3-4b-2507"); // ok
 * try {
 *   validateModelName("--help");
 * } catch (error) {
 *   console.error((error as Error).message); // Invalid model name "--help": it starts with "-" ...
 * }
 * ```
 */
export function validateModelName(name: string): void {
  if (typeof name !== "string") {
    throw new LMStudioError("USAGE", `Invalid model name: expected a string, got ${typeof name}`, {
      hint: HINT,
    });
  }
  if (name.trim() === "") {
    throw new LMStudioError("USAGE", "Invalid model name: it is empty", { hint: HINT });
  }
  if (name.length > MAX_MODEL_NAME_LENGTH) {
    throw new LMStudioError(
      "USAGE",
      `Invalid model name ${
        quote(name)
      }: it is ${name.length} characters long (at most ${MAX_MODEL_NAME_LENGTH})`,
      { hint: HINT },
    );
  }
  if (hasUnprintable(name)) {
    throw new LMStudioError(
      "USAGE",
      `Invalid model name ${quote(name)}: it contains control characters`,
      { hint: HINT },
    );
  }
  if (name.startsWith("-")) {
    throw new LMStudioError(
      "USAGE",
      `Invalid model name ${quote(name)}: it starts with "-" and would be read by lms as an option`,
      { hint: HINT },
    );
  }
}
