/**
 * What the CLI says on stderr while it works: a progress bar (dax's `$.progress`) when stderr is a
 * TTY, occasional plain lines when it is not, only warnings with `--quiet`. dax is imported only when a
 * bar is actually drawn.
 *
 * @module
 */
import type { EnsureEvent } from "./ensure.ts";
import type { DownloadProgress } from "./progress.ts";

/** Where and how the reporter writes. */
export interface ReporterOptions {
  /** Writes text to stderr. */
  write: (text: string) => void;
  /** Whether stderr is a TTY (bars) or not (plain lines). */
  tty: boolean;
  /** Whether colour is allowed. */
  color: boolean;
  /** No narration at all. */
  quiet: boolean;
}

/** Receives the events of a run and shows them. */
export interface Reporter {
  /** Shows one event. */
  event(event: EnsureEvent): void;
  /** Shows a plain note (a step, a warning). */
  note(text: string): void;
  /** Removes any bar; call before printing the result or an error. */
  finish(): Promise<void>;
}

// deno-lint-ignore no-explicit-any
type DaxProgressBar = any;

const SGR = /\x1b\[[0-9;]*m/g;

/** Formats bytes base-1000, as `lms` and LM Studio do: `1.30 GB`. */
export function formatBytes(bytes: number): string {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${Math.round(value)} B` : `${value.toFixed(2)} ${units[unit]}`;
}

function describeProgress(p: DownloadProgress): string {
  const parts: string[] = [];
  if (p.percent !== null) parts.push(`${p.percent.toFixed(1)}%`);
  parts.push(
    p.totalBytes !== null
      ? `${formatBytes(p.downloadedBytes)} / ${formatBytes(p.totalBytes)}`
      : formatBytes(p.downloadedBytes),
  );
  if (p.bytesPerSecond !== null) parts.push(`${formatBytes(p.bytesPerSecond)}/s`);
  if (p.etaSeconds !== null) parts.push(`ETA ${Math.ceil(p.etaSeconds)}s`);
  return parts.join(" | ");
}

/**
 * Builds the reporter for a CLI run.
 *
 * @example
 * ```ts
 * import { createReporter } from "./cli_reporter.ts";
 * const reporter = createReporter({ write: (t) => console.error(t), tty: false, color: false, quiet: false });
 * reporter.note("Checking LM Studio");
 * await reporter.finish();
 * ```
 */
export function createReporter(options: ReporterOptions): Reporter {
  const { write, quiet } = options;
  const colour = (code: string, text: string) => options.color ? `\x1b[${code}m${text}\x1b[0m` : text;
  let bar: DaxProgressBar | undefined;
  let barOpen = false;
  let pending: { length?: number; position?: number } = {};
  let lastPlainAt = 0;
  let lastPlainPercent = -100;
  let restoreWrite: (() => void) | undefined;
  // Everything that touches stderr runs in order on this queue, so a summary line never lands
  // inside a bar and a new bar never starts before the old one is gone.
  let queue: Promise<void> = Promise.resolve();
  const later = (step: () => void | Promise<void>) => {
    queue = queue.then(step, step);
  };
  const say = (text: string) => later(() => write(text));

  const apply = () => {
    if (!bar) return;
    if (pending.length !== undefined) bar.length(pending.length);
    if (pending.position !== undefined) bar.position(pending.position);
  };
  const openBar = (prefix: string, message: string, bytes: boolean) => {
    if (barOpen) return;
    barOpen = true;
    pending = {};
    later(async () => {
      const { default: $ } = await import("dax");
      if (!options.color) restoreWrite = stripColourFromStderr();
      bar = $.progress({ prefix, message });
      if (bytes) bar.kind("bytes");
      apply();
    });
  };
  const closeBar = () => {
    if (!barOpen) return;
    barOpen = false;
    later(() => {
      bar?.finish();
      bar = undefined;
      restoreWrite?.();
      restoreWrite = undefined;
    });
  };

  const note = (text: string) => {
    if (!quiet) say(`${text}\n`);
  };

  return {
    note,
    event(event) {
      // `--quiet` silences narration, not warnings: they say what could not be verified.
      if (quiet && event.type !== "warning") return;
      switch (event.type) {
        case "step":
          closeBar();
          say(`${colour("36", "›")} ${event.message}\n`);
          return;
        case "warning":
          say(`${colour("33", "warning:")} ${event.message}\n`);
          return;
        case "download-progress": {
          const p = event.progress;
          if (options.tty) {
            openBar("Downloading", event.model, true);
            pending = { length: p.totalBytes ?? undefined, position: p.downloadedBytes };
            apply();
            return;
          }
          // Not a TTY: a line at most every 10 % or 5 s, never a redraw.
          const now = Date.now();
          const percent = p.percent ?? -1;
          if (percent - lastPlainPercent >= 10 || now - lastPlainAt >= 5000) {
            lastPlainAt = now;
            lastPlainPercent = percent;
            say(`  download ${event.model}: ${describeProgress(p)}\n`);
          }
          return;
        }
        case "downloaded":
          closeBar();
          say(
            `${colour("32", "✔")} ${event.model} ${
              event.result.alreadyDownloaded ? "already downloaded" : `downloaded (${event.result.route})`
            }\n`,
          );
          return;
        case "load-progress":
          if (options.tty) {
            openBar("Loading", event.model, false);
            if (event.progress.fraction !== null) {
              pending = { length: 100, position: Math.round(event.progress.fraction * 100) };
            }
            apply();
          }
          return;
        case "loaded":
          closeBar();
          say(
            `${colour("32", "✔")} ${event.model} ${event.result.alreadyLoaded ? "already loaded" : "loaded"}${
              event.result.instanceId ? ` as ${event.result.instanceId}` : ""
            } (${
              [
                event.result.alreadyLoaded ? undefined : event.result.route,
                event.result.contextLength !== null ? `context ${event.result.contextLength}` : undefined,
              ].filter((part) => part !== undefined).join(", ") || "context unknown"
            })\n`,
          );
          return;
        default:
          return;
      }
    },
    finish() {
      closeBar();
      return queue;
    },
  };
}

/** dax colours only obey `Deno.noColor`; elsewhere we strip its colour codes from stderr ourselves. */
function stripColourFromStderr(): () => void {
  // deno-lint-ignore no-explicit-any
  const stderr = (globalThis as any).process?.stderr;
  if (!stderr || typeof stderr.write !== "function") return () => {};
  const original = stderr.write;
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  stderr.write = function (chunk: unknown, ...rest: unknown[]) {
    if (typeof chunk === "string") return original.call(this, chunk.replace(SGR, ""), ...rest);
    if (chunk instanceof Uint8Array) {
      return original.call(this, encoder.encode(decoder.decode(chunk).replace(SGR, "")), ...rest);
    }
    return original.call(this, chunk, ...rest);
  };
  return () => {
    stderr.write = original;
  };
}
