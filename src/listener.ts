/**
 * Callers' listeners (progress, retries, events): what they throw, or the promise they return
 * rejects with, never breaks the job they watch. A listener that fails is the caller's bug, and
 * a download or load running for minutes must not die of it (nor crash the process with an
 * unhandled rejection).
 *
 * @module
 */
import { checkOptionType } from "./options.ts";

/**
 * Wraps a listener so that calling it never throws, and a promise it returns never rejects
 * unhandled. `undefined` stays `undefined`, so callers can still tell whether anyone listens.
 *
 * @example
 * ```ts
 * import { quietListener } from "./listener.ts";
 * const onProgress = quietListener((n: number) => {
 *   throw new Error(`broken listener ${n}`);
 * });
 * onProgress?.(1); // nothing thrown
 * ```
 */
export function quietListener<A extends unknown[]>(
  listener: ((...args: A) => unknown) | undefined,
): ((...args: A) => void) | undefined {
  if (listener === undefined) return undefined;
  return (...args: A) => {
    try {
      const returned = listener(...args);
      if (returned instanceof Promise) returned.catch(() => {});
    } catch {
      // The listener's own failure: the job goes on.
    }
  };
}

/**
 * The listener `options[name]`, checked (a function, or not given: else `USAGE` naming it) and
 * made quiet ({@linkcode quietListener}): the one way a caller's listener option is taken.
 *
 * @example
 * ```ts
 * import { listenerOption } from "./listener.ts";
 * const onProgress = listenerOption<[number]>({ onProgress: (n: number) => console.log(n) }, "onProgress");
 * onProgress?.(50);
 * ```
 */
export function listenerOption<A extends unknown[]>(
  options: object,
  name: string,
): ((...args: A) => void) | undefined {
  checkOptionType(options, name, "function");
  return quietListener((options as Record<string, ((...args: A) => unknown) | undefined>)[name] ?? undefined);
}
