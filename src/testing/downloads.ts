/**
 * Download jobs of the simulator, as REST v1 `/api/v1/models/download` and `lms get` see them.
 * Progress is computed lazily from wall time (mode `"time"`) or moved by hand (mode `"manual"`);
 * no timer runs, so an idle simulator never keeps a process alive. Internal to the testing kit.
 *
 * @module
 */
import type { ModelRecord } from "./models.ts";

/** Where a download job is. */
export type JobStatus = "downloading" | "paused" | "completed" | "failed";

/** One download job. */
export interface DownloadJob {
  id: string;
  model: ModelRecord;
  status: JobStatus;
  totalBytes: number;
  downloadedBytes: number;
  /** Bytes per second used for time-based progress and reported while downloading. */
  bytesPerSecond: number;
  startedAt: number;
  completedAt?: number;
  /** The job fails once it has this many bytes (set by `failNextDownload`). */
  failAtBytes?: number;
  /** Why it failed, for `lms get`'s error line. */
  failure?: string;
  lastTick: number;
}

/** How downloads progress. */
export interface DownloadSettings {
  mode: "time" | "manual";
  bytesPerSecond?: number;
}

function randomHex(chars: number): string {
  const bytes = new Uint8Array(Math.ceil(chars / 2));
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("").slice(0, chars);
}

/** Keeps the jobs and moves them forward. `onComplete` is called once per completed job. */
export class DownloadJobs {
  readonly #jobs = new Map<string, DownloadJob>();
  readonly #pendingFailures: { key?: string; atFraction: number }[] = [];
  readonly #onComplete: (job: DownloadJob) => void;
  settings: DownloadSettings;

  constructor(settings: DownloadSettings, onComplete: (job: DownloadJob) => void) {
    this.settings = settings;
    this.#onComplete = onComplete;
  }

  /** All jobs, oldest first. */
  all(): DownloadJob[] {
    return [...this.#jobs.values()];
  }

  get(id: string): DownloadJob | undefined {
    return this.#jobs.get(id);
  }

  /** The running (downloading or paused) job for a model key, if any. */
  activeFor(key: string): DownloadJob | undefined {
    return this.all().find((job) =>
      job.model.key === key && (job.status === "downloading" || job.status === "paused")
    );
  }

  /** The job `advanceDownload()`/`pauseDownload()` act on by default: the newest unfinished one. */
  latestActive(): DownloadJob | undefined {
    return this.all().reverse().find((job) => job.status === "downloading" || job.status === "paused");
  }

  failNext(key: string | undefined, atFraction: number): void {
    const fraction = Math.min(1, Math.max(0, atFraction));
    this.#pendingFailures.push(key === undefined ? { atFraction: fraction } : { key, atFraction: fraction });
  }

  /** Starts a job for a catalog model. */
  start(model: ModelRecord, now: number): DownloadJob {
    const totalBytes = Math.max(0, Math.round(model.sizeBytes));
    const job: DownloadJob = {
      id: `job_${randomHex(10)}`,
      model,
      status: "downloading",
      totalBytes,
      downloadedBytes: 0,
      bytesPerSecond: this.settings.bytesPerSecond ?? Math.max(1, totalBytes),
      startedAt: now,
      lastTick: now,
    };
    const failure = this.#pendingFailures.findIndex((f) => f.key === undefined || f.key === model.key);
    if (failure >= 0) {
      const [{ atFraction }] = this.#pendingFailures.splice(failure, 1) as [{ atFraction: number }];
      job.failAtBytes = Math.floor(totalBytes * atFraction);
    }
    this.#jobs.set(job.id, job);
    return job;
  }

  /** Brings every job up to `now`. */
  tick(now: number): void {
    for (const job of this.#jobs.values()) {
      if (job.status !== "downloading") {
        job.lastTick = now;
        continue;
      }
      if (this.settings.mode === "time") {
        const elapsed = Math.max(0, now - job.lastTick) / 1000;
        job.downloadedBytes = Math.min(job.totalBytes, job.downloadedBytes + elapsed * job.bytesPerSecond);
      }
      job.lastTick = now;
      this.#settle(job, now);
    }
  }

  /** Adds bytes to a job (or completes it); works in both modes, also on paused jobs. */
  advance(job: DownloadJob, bytes: number | "complete", now: number): void {
    if (job.status === "completed" || job.status === "failed") return;
    this.tick(now);
    const add = bytes === "complete" ? job.totalBytes : Math.max(0, bytes);
    job.downloadedBytes = Math.min(job.totalBytes, job.downloadedBytes + add);
    this.#settle(job, now, true);
  }

  pause(job: DownloadJob, now: number): void {
    this.tick(now);
    if (job.status === "downloading") job.status = "paused";
  }

  resume(job: DownloadJob, now: number): void {
    this.tick(now);
    if (job.status === "paused") {
      job.status = "downloading";
      job.lastTick = now;
    }
  }

  #settle(job: DownloadJob, now: number, force = false): void {
    if (job.status !== "downloading" && !(force && job.status === "paused")) return;
    if (job.failAtBytes !== undefined && job.downloadedBytes >= job.failAtBytes) {
      job.downloadedBytes = job.failAtBytes;
      job.status = "failed";
      job.failure = job.failAtBytes >= job.totalBytes
        ? "Checksum failed - You can try to resume the download within LM Studio."
        : "Connection to the download server was lost.";
      return;
    }
    if (job.downloadedBytes >= job.totalBytes) {
      job.downloadedBytes = job.totalBytes;
      job.status = "completed";
      job.completedAt = now;
      this.#onComplete(job);
    }
  }

  /** The REST v1 status object (`GET /api/v1/models/download/status/:job_id`). */
  statusOf(job: DownloadJob, now: number): Record<string, unknown> {
    const body: Record<string, unknown> = { job_id: job.id, status: job.status };
    const downloaded = Math.floor(job.downloadedBytes);
    if (job.status === "downloading") {
      body.bytes_per_second = Math.round(job.bytesPerSecond);
      const seconds = (job.totalBytes - downloaded) / Math.max(1, job.bytesPerSecond);
      body.estimated_completion = new Date(now + seconds * 1000).toISOString();
    }
    body.total_size_bytes = job.totalBytes;
    body.downloaded_bytes = downloaded;
    body.started_at = new Date(job.startedAt).toISOString();
    if (job.status === "completed" && job.completedAt !== undefined) {
      body.completed_at = new Date(job.completedAt).toISOString();
    }
    return body;
  }
}
