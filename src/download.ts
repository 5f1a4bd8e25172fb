/**
 * Downloading a model: a REST v1 job polled with backoff, or `lms get` for a server on this machine
 * without REST v1. A remote server without REST v1 is an error, never a download onto the wrong disk.
 *
 * @module
 */
import { type Connection, lmsOf } from "./connection.ts";
import { type CallOptions, sleep, stoppedWithNote } from "./deadline.ts";
import { LMStudioError } from "./errors.ts";
import { type HttpAnswer, isUnknownRouteAnswer, request, serverErrorOf } from "./http.ts";
import { isObject, nonNegativeNumber } from "./json.ts";
import { checkOptionChoice } from "./options.ts";
import type { DownloadProgress } from "./progress.ts";

/** Options of {@linkcode LMStudioClient.downloadModel}. */
export interface DownloadOptions extends CallOptions {
  /** Called with progress snapshots. */
  onProgress?: (progress: DownloadProgress) => void;
  /** `auto` (default): REST v1 when the server has it, else `lms get` when the server is local. */
  route?: "auto" | "rest" | "lms";
  /** Quantization for Hugging Face links (REST v1 only). */
  quantization?: string;
}

/** What a download did. */
export interface DownloadResult {
  /** The name that was downloaded. */
  model: string;
  /** How. */
  route: "rest" | "lms";
  /** The server already had it: nothing was downloaded. */
  alreadyDownloaded: boolean;
  /** REST v1 job id, when there was a job. */
  jobId?: string;
  /** Total bytes, when known. */
  totalBytes?: number;
}

const JOB_STATUSES = ["downloading", "paused", "completed", "failed", "already_downloaded"];
const DOWNLOAD_ROUTES: readonly string[] = ["auto", "rest", "lms"];

/** A download status answer, checked: `status` is one LM Studio documents. */
type DownloadJob = Record<string, unknown> & { status: string };

/** Downloads `name` by the route the server allows. */
export async function downloadModel(
  conn: Connection,
  name: string,
  options: DownloadOptions,
  signal: AbortSignal,
): Promise<DownloadResult> {
  checkOptionChoice(options, "route", DOWNLOAD_ROUTES);
  const route = await downloadRoute(conn, options.route ?? "auto", signal);
  await conn.forgetListing();
  if (route === "lms") {
    const lms = await lmsOf(conn);
    const { alreadyDownloaded } = await lms.get(name, { signal, onProgress: options.onProgress });
    return { model: name, route, alreadyDownloaded };
  }
  return await restDownload(conn, name, options, signal);
}

async function downloadRoute(
  conn: Connection,
  route: "auto" | "rest" | "lms",
  signal: AbortSignal,
): Promise<"rest" | "lms"> {
  if (route === "lms") {
    conn.requireLocal("download");
    return "lms";
  }
  const api = (await conn.detect(signal)).api;
  if (api === "v1") return "rest";
  if (route === "rest") throw conn.noRestApi("download", api);
  conn.requireLocal("download", api);
  return "lms";
}

async function restDownload(
  conn: Connection,
  name: string,
  options: DownloadOptions,
  signal: AbortSignal,
): Promise<DownloadResult> {
  const body: Record<string, unknown> = { model: name };
  if (options.quantization) body.quantization = options.quantization;
  const started = await request(conn.http, "POST", "/api/v1/models/download", { body, signal });
  const job = downloadJob(conn, started, name);
  if (job.status === "already_downloaded") return { model: name, route: "rest", alreadyDownloaded: true };
  const jobId = job.job_id;
  if (typeof jobId !== "string" || jobId === "") {
    throw new LMStudioError("INVALID_RESPONSE", `The answer to ${started.endpoint} has no job_id`, {
      endpoint: started.endpoint,
      hint: "Check the LM Studio version (0.4+) and its server log.",
    });
  }
  try {
    return await followDownload(conn, name, job, jobId, options, signal);
  } catch (error) {
    // LM Studio has no way to cancel a download job: it goes on without us, and the caller should know.
    throw stoppedWithNote(
      error,
      signal,
      `LM Studio goes on downloading ${name} in the background (job ${jobId}): see its Downloads panel.`,
    );
  }
}

/** Polls a started REST v1 download job until it completes, fails or pauses, reporting progress. */
async function followDownload(
  conn: Connection,
  name: string,
  job: DownloadJob,
  jobId: string,
  options: DownloadOptions,
  signal: AbortSignal,
): Promise<DownloadResult> {
  let snapshot = job;
  let interval = conn.pollMs;
  let lastBytes = 0;
  let lastAt = Date.now();
  for (;;) {
    const total = nonNegativeNumber(snapshot.total_size_bytes);
    if (snapshot.status === "completed" || snapshot.status === "already_downloaded") {
      if (total !== null) options.onProgress?.(progressOf(total, total, null));
      return { model: name, route: "rest", alreadyDownloaded: false, jobId, totalBytes: total ?? undefined };
    }
    if (snapshot.status === "failed") {
      throw new LMStudioError("DOWNLOAD_FAILED", `Download of ${name} failed (job ${jobId})`, {
        hint: "Check LM Studio's Downloads panel and disk space, then run again to retry.",
      });
    }
    if (snapshot.status === "paused") {
      throw new LMStudioError(
        "DOWNLOAD_FAILED",
        `Download of ${name} is paused in LM Studio (job ${jobId})`,
        {
          hint: "Resume it in LM Studio's Downloads panel, or run again once it completes.",
        },
      );
    }
    const downloaded = nonNegativeNumber(snapshot.downloaded_bytes);
    if (downloaded !== null) {
      const now = Date.now();
      const measured = now > lastAt ? ((downloaded - lastBytes) * 1000) / (now - lastAt) : null;
      const speed = nonNegativeNumber(snapshot.bytes_per_second) ??
        (measured !== null && measured >= 0 ? measured : null);
      options.onProgress?.(progressOf(downloaded, total, speed));
      lastBytes = downloaded;
      lastAt = now;
    }
    await sleep(interval, signal);
    interval = Math.min(interval * 1.5, 2000);
    const path = `/api/v1/models/download/status/${encodeURIComponent(jobId)}`;
    snapshot = downloadJob(conn, await request(conn.http, "GET", path, { signal }), name);
  }
}

function downloadJob(conn: Connection, answer: HttpAnswer, name: string): DownloadJob {
  const error = serverErrorOf(answer.json);
  if (error) {
    const notFound = error.type === "model_not_found" || error.code === "model_not_found";
    if (isUnknownRouteAnswer(answer.json)) throw conn.noRestApi("download", "v0");
    throw new LMStudioError(
      notFound ? "MODEL_NOT_FOUND" : "DOWNLOAD_FAILED",
      `Download of ${name} failed: ${error.message}`,
      {
        status: answer.status,
        endpoint: answer.endpoint,
        hint: notFound
          ? "Check the model id in LM Studio's catalog (e.g. openai/gpt-oss-20b) or pass a Hugging Face link."
          : "Check the LM Studio server log (lms log stream) and retry.",
      },
    );
  }
  const json = answer.json;
  if (answer.status >= 300 || !isObject(json) || !JOB_STATUSES.includes(json.status as string)) {
    throw new LMStudioError(
      "INVALID_RESPONSE",
      `Malformed answer from ${answer.endpoint}: field status: expected one of ${JOB_STATUSES.join(", ")}`,
      { status: answer.status, endpoint: answer.endpoint, hint: "Check the LM Studio version (0.4+)." },
    );
  }
  return json as DownloadJob;
}

function progressOf(downloaded: number, total: number | null, speed: number | null): DownloadProgress {
  const percent = total ? Math.min(100, (downloaded / total) * 100) : null;
  const eta = total && speed && speed > 0 ? Math.max(0, (total - downloaded) / speed) : null;
  return { downloadedBytes: downloaded, totalBytes: total, bytesPerSecond: speed, percent, etaSeconds: eta };
}
