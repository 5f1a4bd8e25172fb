/**
 * Deadlines and cancellation for every operation: one helper turns `{ signal, timeoutMs }` into a
 * single AbortSignal, and makes sure the operation settles when that signal fires even if the work
 * underneath ignores it.
 *
 * @module
 */
import { isLMStudioError, LMStudioError } from "./errors.ts";
import { invalidOption, optionsObject } from "./options.ts";
import { startTimer } from "./runtime.ts";

/** Options every operation takes. */
export interface CallOptions {
  /** Cancels the operation; it rejects with `INTERRUPTED` (or the signal's reason if that is ours). */
  signal?: AbortSignal;
  /** Deadline in milliseconds; the operation rejects with `TIMEOUT` when it passes. */
  timeoutMs?: number;
}

/** Default deadlines per kind of call, in milliseconds. */
export const DEFAULT_TIMEOUTS: {
  readonly check: number;
  readonly list: number;
  readonly load: number;
  readonly unload: number;
  readonly download: number;
  readonly wait: number;
  readonly ensure: number;
} = {
  check: 5_000,
  list: 10_000,
  load: 10 * 60_000,
  unload: 30_000,
  download: 6 * 60 * 60_000,
  wait: 60_000,
  ensure: 6 * 60 * 60_000,
};

/**
 * The longest deadline: 2^31-1 ms (~24.8 days, 596h), the longest delay the runtimes' timers keep.
 * A longer one would fire at once (Node and Bun set such a timer to 1 ms; Node's
 * `AbortSignal.timeout` throws), so it is refused rather than passed on.
 */
export const MAX_TIMEOUT_MS: number = 2 ** 31 - 1;

/**
 * How long an aborted operation may take to clean up (kill `lms` and its children, close sockets)
 * before it reports the abort anyway.
 */
export const CLEANUP_GRACE_MS = 1500;

/** The error an aborted signal stands for. Our own errors pass through unchanged. */
export function abortReason(signal: AbortSignal, what: string): LMStudioError {
  const reason: unknown = signal.reason;
  if (reason instanceof LMStudioError) return reason;
  if ((reason as { name?: string } | undefined)?.name === "TimeoutError") {
    return new LMStudioError("TIMEOUT", `${what} timed out`, {
      hint: "Give the timeoutMs option more time, or check that the server is not stuck.",
    });
  }
  return new LMStudioError("INTERRUPTED", `${what} was aborted`);
}

/**
 * `error` with `note` added to its hint when it is how `signal` stopped the work (`INTERRUPTED` or
 * `TIMEOUT`, the signal aborted): what LM Studio goes on doing without the caller, since it cannot
 * cancel it (a download job, a REST load). Any other error is returned as it is.
 */
export function stoppedWithNote(error: unknown, signal: AbortSignal, note: string): unknown {
  if (!signal.aborted || !(isLMStudioError(error, "INTERRUPTED") || isLMStudioError(error, "TIMEOUT"))) {
    return error;
  }
  return new LMStudioError(error.code, error.message, {
    hint: error.hint === undefined ? note : `${error.hint} ${note}`,
  });
}

/**
 * The option `option` (default `timeoutMs`) when it is a duration a timer can keep (a positive number
 * of ms, at most {@linkcode MAX_TIMEOUT_MS}), `fallback` when it is `undefined`; a `USAGE` error
 * naming the option otherwise.
 *
 * @example
 * ```ts
 * import { validDuration } from "./deadline.ts";
 * validDuration(undefined, 5000); // 5000
 * validDuration(20, 250, "pollIntervalMs"); // 20
 * ```
 */
export function validDuration(value: number | undefined, fallback: number, option = "timeoutMs"): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !(value > 0 && value <= MAX_TIMEOUT_MS)) {
    throw new LMStudioError(
      "USAGE",
      `Invalid ${option}: ${String(value)} (expected a positive number of ms, at most ${MAX_TIMEOUT_MS})`,
      { hint: `Pass ${option} as a positive number of ms, e.g. 30000 for 30 seconds.` },
    );
  }
  return value;
}

/**
 * The `signal` option when it is an `AbortSignal` (or one of the same shape, as polyfills make),
 * `undefined` when it is not given; a `USAGE` error otherwise, rather than a `TypeError` deep in
 * `fetch`.
 *
 * @example
 * ```ts
 * import { validSignal } from "./deadline.ts";
 * validSignal(AbortSignal.timeout(1000)); // the signal
 * ```
 */
export function validSignal(value: unknown, option = "signal"): AbortSignal | undefined {
  if (value === undefined) return undefined;
  const shape = value as Partial<AbortSignal> | null;
  if (
    typeof shape !== "object" || shape === null || typeof shape.aborted !== "boolean" ||
    typeof shape.addEventListener !== "function" || typeof shape.removeEventListener !== "function"
  ) {
    throw invalidOption(
      option,
      value,
      "an AbortSignal, e.g. AbortSignal.timeout(30_000) or controller.signal",
    );
  }
  return value as AbortSignal;
}

/**
 * Runs `work` with a signal that aborts when the caller's signal aborts or the deadline passes.
 * The returned promise settles no later than that, whatever `work` does; timers are cleared.
 *
 * @example
 * ```ts
 * import { withDeadline } from "./deadline.ts";
 * const text = await withDeadline("GET /v1/models", { timeoutMs: 2000 }, 5000, (signal) =>
 *   fetch("http://localhost:1234/v1/models", { signal }).then((r) => r.text()));
 * ```
 */
export function withDeadline<T>(
  what: string,
  options: CallOptions,
  defaultTimeoutMs: number,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  let timeoutMs: number;
  let outer: AbortSignal | undefined;
  try {
    const given = optionsObject<CallOptions>(options, "options");
    timeoutMs = validDuration(given.timeoutMs, defaultTimeoutMs);
    outer = validSignal(given.signal);
  } catch (error) {
    return Promise.reject(error);
  }
  if (outer?.aborted) return Promise.reject(abortReason(outer, what));

  const controller = new AbortController();
  let running: Promise<T>;
  try {
    running = work(controller.signal);
  } catch (error) {
    running = Promise.reject(error);
  }
  running.catch(() => {});

  let cancelTimer: (() => void) | undefined;
  let grace: ReturnType<typeof setTimeout> | undefined;
  let onOuterAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    const fail = (error: LMStudioError) => {
      if (controller.signal.aborted) return;
      controller.abort(error);
      // Let the work clean up (kill child processes, close sockets) before reporting, but never
      // for longer than a short grace: the caller's deadline is what matters.
      const report = (told?: unknown) => {
        if (grace !== undefined) clearTimeout(grace);
        // The work may say more about the same stop (what goes on without it): its error then.
        reject(isLMStudioError(told, error.code) ? told : error);
      };
      grace = setTimeout(report, CLEANUP_GRACE_MS);
      running.then(() => report(), report);
    };
    cancelTimer = startTimer(timeoutMs, () => fail(deadlineError(what, timeoutMs)));
    if (outer) {
      onOuterAbort = () => fail(abortReason(outer, what));
      outer.addEventListener("abort", onOuterAbort, { once: true });
    }
  });
  // The race loser must never surface as an unhandled rejection.
  aborted.catch(() => {});

  return Promise.race([running, aborted]).finally(() => {
    cancelTimer?.();
    if (grace !== undefined) clearTimeout(grace);
    if (outer && onOuterAbort) outer.removeEventListener("abort", onOuterAbort);
    // Let the work see that we are done with it (closes sockets, kills children).
    if (!controller.signal.aborted) controller.abort(new LMStudioError("INTERRUPTED", `${what} finished`));
  });
}

/**
 * The error of an operation whose deadline passed: `${what} timed out after <duration>`, with a hint.
 *
 * @example
 * ```ts
 * import { deadlineError } from "./deadline.ts";
 * deadlineError("Checking http://localhost:1234", 5000).message;
 * // "Checking http://localhost:1234 timed out after 5s"
 * ```
 */
export function deadlineError(what: string, timeoutMs: number): LMStudioError {
  return new LMStudioError("TIMEOUT", `${what} timed out after ${formatMs(timeoutMs)}`, {
    hint: "Give the timeoutMs option more time, or check that the server is not stuck.",
  });
}

/**
 * Formats a duration for messages: `500ms`, `30s`, `5m`, `1m 30s`.
 *
 * @example
 * ```ts
 * import { formatMs } from "./deadline.ts";
 * formatMs(90_000); // "1m 30s"
 * ```
 */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(1))}s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  return seconds === 0 ? `${minutes}m` : `${minutes}m ${seconds}s`;
}

/**
 * Parses a CLI duration: `30` (seconds), `30s`, `500ms`, `5m`, `1h`. Returns milliseconds.
 *
 * @example
 * ```ts
 * import { parseDuration } from "./deadline.ts";
 * parseDuration("500ms"); // 500
 * parseDuration("2m"); // 120000
 * ```
 */
export function parseDuration(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/i.exec(text);
  const unit = (match?.[2] ?? "s").toLowerCase();
  const factor = unit === "ms" ? 1 : unit === "s" ? 1000 : unit === "m" ? 60_000 : 3_600_000;
  const ms = match ? Math.round(Number(match[1]) * factor) : NaN;
  // At least 1 ms once rounded, and no longer than a timer keeps.
  if (!(ms >= 1 && ms <= MAX_TIMEOUT_MS)) {
    throw new LMStudioError("USAGE", `Invalid duration: ${JSON.stringify(text)}`, {
      hint: "Use a positive number of seconds or a unit, at most 596h: 30, 30s, 500ms, 5m, 1h.",
    });
  }
  return ms;
}

/**
 * Sleeps for `ms`, rejecting early (and clearing the timer) when the signal aborts.
 *
 * @example
 * ```ts
 * import { sleep } from "./deadline.ts";
 * await sleep(10);
 * ```
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortReason(signal, "wait"));
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal!, "wait"));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Call options for one phase (check, list, download, load) of a job that runs under `signal`. With
 * a deadline the caller set, the phase gets none of its own: the caller's alone governs it, through
 * the signal, whose abort carries that deadline's error (so a timeout names the deadline that
 * fired). Without one, each phase keeps its default (check 5 s, list 10 s, load 10 min, download
 * 6 h), as the client's methods have.
 *
 * @example
 * ```ts
 * import { phaseCall } from "./deadline.ts";
 * phaseCall(new AbortController().signal, true); // { signal, timeoutMs: 2147483647 }
 * ```
 */
export function phaseCall(signal: AbortSignal, callerDeadline: boolean): CallOptions {
  return callerDeadline ? { signal, timeoutMs: MAX_TIMEOUT_MS } : { signal };
}
