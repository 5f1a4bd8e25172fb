/**
 * Turns the human-oriented output of `lms get` and `lms load` into the same progress events the
 * REST routes produce.
 *
 * `lms` writes progress for terminals: a bar redrawn with `\r` every 50 ms, cursor save/restore
 * and hide-cursor escapes, a spinner glyph, sizes padded to a width. Its format has changed several
 * times, so every parser here looks for the parts it needs (a percent, `x / y` sizes, a speed, an
 * ETA) wherever they are on the line instead of matching one exact layout, and returns `undefined`
 * for anything it does not recognise rather than guessing.
 *
 * @module
 */
import type { DownloadProgress } from "./progress.ts";

// CSI sequences (colours, cursor moves, `\x1b[?25l`), OSC sequences (titles, links), then any
// other two-character escape (`\x1b7`/`\x1b8` save/restore cursor, ...).
const ANSI =
  // deno-lint-ignore no-control-regex
  /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u009b[0-?]*[ -/]*[@-~]|\u001b[ -~]?/g;

/**
 * Removes ANSI escape sequences (colours, cursor movement, hide/show cursor, OSC titles).
 *
 * @example
 * ```ts
 * import { stripAnsi } from "./lms_progress.ts";
 * stripAnsi("\u001b[31mError:\u001b[39m boom"); // "Error: boom"
 * ```
 */
export function stripAnsi(text: string): string {
  return text.replace(ANSI, "");
}

/** What is visible after a terminal has processed `\r` redraws: the last non-empty segment. */
function visible(line: string): string {
  const parts = stripAnsi(line).split(/\r\n|\r|\n/);
  for (let i = parts.length - 1; i >= 0; i--) {
    if (parts[i].trim() !== "") return parts[i].trim();
  }
  return "";
}

const UNIT_FACTORS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

const SIZE = String.raw`(\d+(?:\.\d+)?)\s*([KMGT]i?B|B)`;
const SIZES_RE = new RegExp(String.raw`${SIZE}\s*/\s*${SIZE}(?!\s*/?s\b)`, "i");
const SPEED_RE = new RegExp(String.raw`${SIZE}\s*/\s*s\b`, "i");
const PERCENT_RE = /(\d+(?:\.\d+)?)\s*%/g;
const ETA_RE = /\bETA[:\s]*(\d+(?::\d{1,2}){0,2})\b/i;

function bytes(value: string, unit: string): number | undefined {
  const factor = UNIT_FACTORS[unit.toLowerCase()];
  const number = Number(value);
  if (factor === undefined || !Number.isFinite(number)) return undefined;
  return Math.round(number * factor);
}

/** The last percent on the line; `NaN` when it is out of range (the line is then not progress). */
function lastPercent(text: string): number | undefined {
  let last: number | undefined;
  for (const match of text.matchAll(PERCENT_RE)) last = Number(match[1]);
  if (last === undefined) return undefined;
  return Number.isFinite(last) && last >= 0 && last <= 100 ? last : NaN;
}

/** `01:11` → 71, `1:02:03` → 3723, `42` → 42. */
function etaSeconds(text: string): number | undefined {
  const match = ETA_RE.exec(text);
  if (!match) return undefined;
  const parts = match[1].split(":").map(Number);
  if (parts.some((n) => !Number.isFinite(n))) return undefined;
  return parts.reduce((total, n) => total * 60 + n, 0);
}

/**
 * Parses one line of `lms get` output into a {@linkcode DownloadProgress}, or `undefined` when the
 * line is not a progress line (plan trees, "About to download 4.55 GB.", garbage).
 *
 * Tolerant by design: strips ANSI, keeps only what a terminal would show after `\r` redraws,
 * reads base-1000 units (`B`, `KB`, `MB`, `GB`, `TB`, as `lms` prints) and base-1024 ones
 * (`KiB`...`TiB`) if they ever appear, and accepts lines without speed, ETA or sizes. A
 * percent-only line yields `downloadedBytes: 0` and `totalBytes: null` (the bytes are unknown).
 *
 * @example
 * ```ts
 * import { parseLmsDownloadProgress } from "./lms_progress.ts";
 * parseLmsDownloadProgress("⠋ [██████▍               ] 28.57% | 1.30 GB / 4.55 GB | 45.67 MB/s | ETA 01:11");
 * // { downloadedBytes: 1300000000, totalBytes: 4550000000, bytesPerSecond: 45670000, percent: 28.57, etaSeconds: 71 }
 * ```
 */
export function parseLmsDownloadProgress(line: string): DownloadProgress | undefined {
  const text = visible(line);
  if (text === "") return undefined;
  const sizes = SIZES_RE.exec(text);
  let downloaded: number | undefined;
  let total: number | undefined;
  if (sizes) {
    downloaded = bytes(sizes[1], sizes[2]);
    total = bytes(sizes[3], sizes[4]);
    // "5 GB / 4 GB" is not progress; neither is a zero total.
    if (downloaded === undefined || total === undefined || total <= 0 || downloaded > total * 1.01) {
      downloaded = total = undefined;
    }
  }
  // Sizes are removed before looking for the speed so "1.30 GB / 4.55 GB" is never read as one.
  const rest = sizes ? text.replace(sizes[0], " ") : text;
  let percent = lastPercent(rest);
  if (Number.isNaN(percent) || (percent === undefined && total === undefined)) return undefined;
  if (percent === undefined && downloaded !== undefined && total !== undefined) {
    percent = Math.round((downloaded / total) * 10_000) / 100;
  }
  const speed = SPEED_RE.exec(rest);
  return {
    downloadedBytes: downloaded ?? 0,
    totalBytes: total ?? null,
    bytesPerSecond: speed ? bytes(speed[1], speed[2]) ?? null : null,
    percent: percent ?? null,
    etaSeconds: etaSeconds(rest) ?? null,
  };
}

/**
 * Parses one line of `lms load` output into a fraction 0..1: the current spinner
 * (`Loading qwen/qwen3-4b-2507 37% ⠹` → 0.37) and the older bar
 * (`⠇ [█████████▎] 99.90%` → 0.999). Anything else → `undefined`.
 *
 * @example
 * ```ts
 * import { parseLmsLoadProgress } from "./lms_progress.ts";
 * parseLmsLoadProgress("\rLoading qwen/qwen3-4b-2507 37% ⠹"); // 0.37
 * ```
 */
export function parseLmsLoadProgress(line: string): number | undefined {
  const text = visible(line);
  if (text === "") return undefined;
  // Only percent signs at the end of the line (before an optional spinner glyph) count, so a
  // model key containing "%" cannot be mistaken for progress.
  const match = /(\d+(?:\.\d+)?)\s*%\s*[^\w\s%]?\s*$/u.exec(text);
  if (!match) return undefined;
  const percent = Number(match[1]);
  if (!Number.isFinite(percent) || percent < 0 || percent > 100) return undefined;
  return Math.round(percent * 1000) / 100_000;
}

// A progress line is under 200 characters; a longer run without a line break is not something we
// parse, and holding it would let a misbehaving `lms` grow our memory without bound.
const MAX_PENDING = 64 * 1024;
const KEEP_PENDING = 4 * 1024;

/**
 * Splits a stream of output into lines on `\n`, `\r\n` and bare `\r` (the redraw of a progress
 * bar), so every redraw becomes its own line. Empty lines are dropped.
 *
 * @example
 * ```ts
 * import { createLmsOutputSplitter } from "./lms_progress.ts";
 * const lines: string[] = [];
 * const splitter = createLmsOutputSplitter((line) => lines.push(line));
 * splitter.push("10%\r20");
 * splitter.push("%\rdone\n");
 * splitter.end(); // lines: ["10%", "20%", "done"]
 * ```
 */
export function createLmsOutputSplitter(
  onLine: (line: string) => void,
): { push(chunk: string): void; end(): void } {
  let pending = "";
  const emit = (line: string): void => {
    if (line !== "") onLine(line);
  };
  return {
    push(chunk: string): void {
      pending += chunk;
      const parts = pending.split(/\r\n|\r|\n/);
      pending = parts.pop() ?? "";
      // A chunk ending in "\r" may be the first half of "\r\n"; the empty line that would make
      // is dropped by emit, so no special case is needed.
      for (const part of parts) emit(part);
      if (pending.length > MAX_PENDING) pending = pending.slice(-KEEP_PENDING);
    },
    end(): void {
      const last = pending;
      pending = "";
      emit(last);
    },
  };
}
