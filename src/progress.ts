/**
 * Progress events shared by every download and load route (REST v1 polling, `lms get` output,
 * `lms load` spinner), so callers draw one kind of bar whatever the route.
 *
 * @module
 */

/** A snapshot of a download in progress. */
export interface DownloadProgress {
  /** Bytes on disk so far. */
  downloadedBytes: number;
  /** Total bytes, or `null` when the source does not say. */
  totalBytes: number | null;
  /** Current speed, or `null` when unknown. */
  bytesPerSecond: number | null;
  /** 0..100, or `null` when the total is unknown. */
  percent: number | null;
  /** Seconds left, or `null` when unknown. */
  etaSeconds: number | null;
}

/** A snapshot of a load in progress. */
export interface LoadProgress {
  /** 0..1, or `null` when the route cannot tell (JIT warm-up). */
  fraction: number | null;
}
