/**
 * One error class for everything this package can fail with. Each error carries a stable
 * {@linkcode ErrorCode} (the codes of the CLI contract), the HTTP status where there is one, and a
 * hint that says how to fix it. Messages never contain secrets: every registered secret is redacted
 * when the error is built.
 *
 * @module
 */

/** The stable error codes; the CLI maps each to an exit code (see `LMStudioError.exitCode`). */
export type ErrorCode =
  | "USAGE"
  | "SERVER_UNREACHABLE"
  | "NOT_LMSTUDIO"
  | "AUTH_REQUIRED"
  | "MODEL_NOT_FOUND"
  | "DOWNLOAD_FAILED"
  | "LOAD_FAILED"
  | "LMS_NOT_FOUND"
  | "MODEL_UNSUITABLE"
  | "TIMEOUT"
  | "INTERRUPTED"
  | "INVALID_RESPONSE"
  | "UNSUPPORTED"
  | "INTERNAL";

const EXIT_CODES: Record<ErrorCode, number> = {
  INTERNAL: 1,
  INVALID_RESPONSE: 1,
  UNSUPPORTED: 1,
  USAGE: 2,
  SERVER_UNREACHABLE: 3,
  NOT_LMSTUDIO: 3,
  AUTH_REQUIRED: 4,
  MODEL_NOT_FOUND: 5,
  DOWNLOAD_FAILED: 6,
  LOAD_FAILED: 7,
  LMS_NOT_FOUND: 8,
  // The model is there but cannot do the job asked: a capability it lacks, less context than asked.
  MODEL_UNSUITABLE: 9,
  TIMEOUT: 124,
  INTERRUPTED: 130,
};

/**
 * The process exit code the CLI uses for an error code.
 *
 * @example
 * ```ts
 * import { exitCodeFor } from "./errors.ts";
 * exitCodeFor("SERVER_UNREACHABLE"); // 3
 * ```
 */
export function exitCodeFor(code: ErrorCode): number {
  return EXIT_CODES[code] ?? 1;
}

/** Options for {@linkcode LMStudioError}. */
export interface LMStudioErrorOptions {
  /** How to fix it, in one sentence a user can act on. */
  hint?: string;
  /** The HTTP status of the answer that caused the error, if any. */
  status?: number;
  /** The endpoint (method and path) that was being called, if any. */
  endpoint?: string;
  /** The underlying error. Its text is redacted like the message. */
  cause?: unknown;
}

const secrets = new Set<string>();

/**
 * Registers a secret (an API token) so that it is redacted from every error message, hint and
 * cause this package builds from then on. Clients, the configuration resolver and the CLI call it
 * for every token they read. Internal (not exported from the package).
 *
 * @example
 * ```ts
 * import { registerSecret, redactSecrets } from "./errors.ts";
 * registerSecret("sk-lm-abcdefgh:01234567890123456789");
 * redactSecrets("token sk-lm-abcdefgh:01234567890123456789"); // "token [redacted]"
 * ```
 */
export function registerSecret(secret: string | undefined): void {
  // A one-character "token" is no secret worth cutting every message up for.
  if (!secret || secret.length < 2) return;
  if (secret.length >= 4) secrets.add(secret);
  else if (!shortSecrets.has(secret)) {
    // A very short one is redacted only where it stands alone (a server echoing "token: ab", a flag
    // quoted back as `--token=ab`): inside other words it would cut up every message.
    const literal = secret.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
    shortSecrets.set(secret, new RegExp(`(?<![\\w.~+/-])${literal}(?![\\w~+/-])`, "g"));
  }
}

/** Secrets of 1-3 characters, each with the pattern of its standalone occurrences. */
const shortSecrets = new Map<string, RegExp>();

// LM Studio's token format (`sk-lm-<8 alnum>:<20 alnum>`): redacted even when nobody registered it,
// e.g. a token typed where a command or a model name goes, or one that `lms` prints from its config.
const LM_STUDIO_TOKEN = /sk-lm-[a-zA-Z0-9]{8}:[a-zA-Z0-9]{20}/g;

/**
 * Replaces every registered secret, every well-formed LM Studio token (`sk-lm-…:…`), and every
 * `user:password@` part of a URL, with `[redacted]`.
 *
 * @example
 * ```ts
 * import { redactSecrets } from "./errors.ts";
 * redactSecrets("http://me:pw@host:1234"); // "http://[redacted]@host:1234"
 * ```
 */
export function redactSecrets(text: string): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join("[redacted]");
  // Servers echo the first characters of a bad token ("Malformed ... token provided: sk-lm-abcd...").
  // Ten leading characters go past the shared `sk-lm-` prefix, so they identify this token.
  for (const secret of secrets) {
    const head = secret.slice(0, Math.min(10, secret.length));
    let at = out.indexOf(head);
    while (at !== -1) {
      let end = at + head.length;
      while (end < out.length && end - at < secret.length && out[end] === secret[end - at]) end++;
      out = `${out.slice(0, at)}[redacted]${out.slice(end)}`;
      at = out.indexOf(head, at + "[redacted]".length);
    }
  }
  for (const standalone of shortSecrets.values()) out = out.replace(standalone, "[redacted]");
  out = out.replace(LM_STUDIO_TOKEN, "[redacted]");
  return out.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@]*@/gi, "$1[redacted]@");
}

function redactCause(cause: unknown): unknown {
  if (cause instanceof LMStudioError) return cause;
  if (cause instanceof Error) {
    const copy = new Error(redactSecrets(cause.message));
    copy.name = cause.name;
    const code = (cause as { code?: unknown }).code;
    if (typeof code === "string") (copy as Error & { code?: string }).code = code;
    if (cause.cause !== undefined) (copy as Error & { cause?: unknown }).cause = redactCause(cause.cause);
    return copy;
  }
  if (typeof cause === "string") return redactSecrets(cause);
  return cause;
}

/**
 * The error every operation of this package rejects with.
 *
 * @example
 * ```ts
 * import { LMStudioClient, LMStudioError } from "@vtcode/lmstudio";
 * try {
 *   await new LMStudioClient({ baseUrl: "http://127.0.0.1:9" }).check();
 * } catch (error) {
 *   if (error instanceof LMStudioError) console.error(error.code, error.message, error.hint);
 * }
 * ```
 */
export class LMStudioError extends Error {
  /** The stable code, one of {@linkcode ErrorCode}. */
  readonly code: ErrorCode;
  /** How to fix it. */
  readonly hint?: string;
  /** The HTTP status of the answer that caused it, if any. */
  readonly status?: number;
  /** The endpoint that was being called, if any. */
  readonly endpoint?: string;

  /** Builds an error; message, hint and cause are redacted of registered secrets. */
  constructor(code: ErrorCode, message: string, options: LMStudioErrorOptions = {}) {
    super(
      redactSecrets(message),
      options.cause === undefined ? undefined : { cause: redactCause(options.cause) },
    );
    this.name = "LMStudioError";
    this.code = code;
    if (options.hint !== undefined) this.hint = redactSecrets(options.hint);
    if (options.status !== undefined) this.status = options.status;
    if (options.endpoint !== undefined) this.endpoint = options.endpoint;
  }

  /** The exit code the CLI uses for this error. */
  get exitCode(): number {
    return exitCodeFor(this.code);
  }

  /** A plain object for JSON output: `{ code, message, hint? }`. */
  toJSON(): { code: ErrorCode; message: string; hint?: string } {
    return this.hint === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, hint: this.hint };
  }
}

/**
 * Whether a value is an {@linkcode LMStudioError}, optionally with a given code.
 *
 * @example
 * ```ts
 * import { isLMStudioError, LMStudioError } from "./errors.ts";
 * isLMStudioError(new LMStudioError("TIMEOUT", "slow"), "TIMEOUT"); // true
 * ```
 */
export function isLMStudioError(value: unknown, code?: ErrorCode): value is LMStudioError {
  return value instanceof LMStudioError && (code === undefined || value.code === code);
}

/**
 * Turns anything thrown into an {@linkcode LMStudioError}: errors of this package pass through,
 * anything else becomes `INTERNAL`.
 *
 * @example
 * ```ts
 * import { toLMStudioError } from "./errors.ts";
 * toLMStudioError(new Error("boom")).code; // "INTERNAL"
 * ```
 */
export function toLMStudioError(error: unknown): LMStudioError {
  if (error instanceof LMStudioError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new LMStudioError("INTERNAL", `Unexpected error: ${message}`, {
    cause: error,
    hint: "This is a bug in @vtcode/lmstudio or its environment; please report it with the message above.",
  });
}
