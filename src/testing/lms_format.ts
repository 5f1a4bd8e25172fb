/**
 * How `lms` prints: the `lms get` download progress bar (redrawn with `\r` and ANSI cursor
 * codes), base-1000 sizes, base-1024 sizes, elapsed times and the `lms load` spinner, as
 * described in the reference §8.3. Written from that description. Internal to the testing kit.
 *
 * @module
 */

/** The spinner frames `lms` cycles through. */
export const SPINNER_FRAMES: readonly string[] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

const PARTIAL_BLOCKS = "▏▎▍▌▋▊▉█";

/** `lms`'s base-1000 size: `512 B`, `1.30 KB`, `45.67 MB`, `4.55 GB`, `1.20 TB`. */
export function formatSize1000(bytes: number): string {
  const units: [number, string][] = [[1e12, "TB"], [1e9, "GB"], [1e6, "MB"], [1e3, "KB"]];
  for (const [size, unit] of units) if (bytes >= size) return `${(bytes / size).toFixed(2)} ${unit}`;
  return `${Math.round(bytes)} B`;
}

/** Base-1024 size as `lms load` prints it: `4.69 GiB`, `84.11 MiB`. */
export function formatSize1024(bytes: number): string {
  const units: [number, string][] = [[2 ** 40, "TiB"], [2 ** 30, "GiB"], [2 ** 20, "MiB"], [2 ** 10, "KiB"]];
  for (const [size, unit] of units) if (bytes >= size) return `${(bytes / size).toFixed(2)} ${unit}`;
  return `${Math.round(bytes)} B`;
}

/** ETA as `mm:ss`, or `hh:mm:ss` from one hour up. */
export function formatEta(seconds: number): string {
  const total = Math.max(0, Math.round(Number.isFinite(seconds) ? seconds : 0));
  const two = (n: number): string => String(n).padStart(2, "0");
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor(total / 60) % 60;
  const secs = total % 60;
  return hours > 0 ? `${two(hours)}:${two(minutes)}:${two(secs)}` : `${two(minutes)}:${two(secs)}`;
}

/** Elapsed time as `lms load` reports it: `6.88s`, `1m 3.20s`. */
export function formatElapsed(ms: number): string {
  const seconds = Math.max(0, ms) / 1000;
  if (seconds < 60) return `${seconds.toFixed(2)}s`;
  return `${Math.floor(seconds / 60)}m ${(seconds % 60).toFixed(2)}s`;
}

/** The bar between the brackets: `blocks` cells of full blocks, one partial eighth, then spaces. */
export function drawBar(ratio: number, blocks = 22): string {
  const r = Math.min(1, Math.max(0, ratio));
  if (r >= 1) return "█".repeat(blocks);
  const exact = r * blocks;
  const full = Math.floor(exact);
  const eighths = Math.floor((exact - full) * 8);
  return "█".repeat(full) + PARTIAL_BLOCKS.charAt(eighths) + " ".repeat(blocks - full - 1);
}

/** The line part of a progress frame, without cursor codes. */
export function progressText(
  frame: number,
  downloadedBytes: number,
  totalBytes: number,
  bytesPerSecond: number,
): string {
  const ratio = totalBytes > 0 ? downloadedBytes / totalBytes : 1;
  const spinner = SPINNER_FRAMES[frame % SPINNER_FRAMES.length];
  const pad = (text: string): string => text.padStart(6);
  const eta = formatEta((totalBytes - downloadedBytes) / Math.max(1, bytesPerSecond));
  return `${spinner} [${drawBar(ratio)}] ${(Math.min(1, ratio) * 100).toFixed(2)}% | ` +
    `${pad(formatSize1000(downloadedBytes))} / ${pad(formatSize1000(totalBytes))} | ` +
    `${pad(formatSize1000(bytesPerSecond))}/s | ETA ${eta}`;
}

/**
 * One redraw of the `lms get` bar as written to stdout: hide cursor, save cursor, (clear line on
 * the first frame), `\r`, the text, trailing spaces, restore cursor.
 */
export function progressFrame(
  frame: number,
  downloadedBytes: number,
  totalBytes: number,
  bytesPerSecond: number,
): string {
  const clear = frame === 0 ? "\x1b[2K" : "";
  return `\x1b[?25l\x1b[s${clear}\r${
    progressText(frame, downloadedBytes, totalBytes, bytesPerSecond)
  }          \x1b[u`;
}

/** What `lms` writes when the bar stops: clear the line, cursor to column 1, show cursor. */
export const PROGRESS_END = "\x1b[2K\x1b[1G\x1b[?25h";

/** One frame of the `lms load` spinner (`\rLoading <key> 37% ⠹`). */
export function loadSpinnerFrame(key: string, percent: number, frame: number): string {
  return `\rLoading ${key} ${Math.round(percent)}% ${SPINNER_FRAMES[frame % SPINNER_FRAMES.length]}`;
}

/** How the `lms load` spinner is cleared at the end. */
export const LOAD_SPINNER_END = "\r\x1b[K";
