/**
 * Waiting for the server, and starting it with `lms server start` when it runs on this machine;
 * `checkOrStart`, the check that starts a server found down, which `ensureReady` and the CLI share.
 *
 * @module
 */
import { type Connection, lmsOf } from "./connection.ts";
import { type CallOptions, DEFAULT_TIMEOUTS, sleep, withDeadline } from "./deadline.ts";
import { isLMStudioError, LMStudioError } from "./errors.ts";
import { mayComeUp, request } from "./http.ts";
import { type ApiFamily, MODELS_PATH } from "./models.ts";

/** What {@linkcode LMStudioClient.check} found. */
export interface ServerStatus {
  /** Always true: an unreachable server makes `check` reject. */
  reachable: true;
  /** The best API family the server answered with. */
  api: ApiFamily;
  /** The normalised base URL. */
  baseUrl: string;
  /**
   * Whether the server required a token and accepted ours. False when no token was sent, and when
   * one was sent to a server that answers without it too (it never looked at the token).
   */
  authenticated: boolean;
}

/** Options of {@linkcode LMStudioClient.waitForServer} and {@linkcode LMStudioClient.startServer}. */
export interface WaitOptions extends CallOptions {
  /** Called before each retry with the attempt number and the last error. */
  onRetry?: (attempt: number, error: LMStudioError) => void;
}

/** `check`: {@linkcode serverStatus} within the caller's deadline (default 5 s). */
export function checkServer(conn: Connection, options: CallOptions): Promise<ServerStatus> {
  return withDeadline(
    `Checking ${conn.baseUrl}`,
    options,
    DEFAULT_TIMEOUTS.check,
    (signal) => serverStatus(conn, signal),
  );
}

/** Detects afresh and reports what the server is. */
export async function serverStatus(conn: Connection, signal: AbortSignal): Promise<ServerStatus> {
  const detection = await conn.redetect(signal);
  const authenticated = conn.http.token !== undefined && await tokenRequired(conn, detection.api, signal);
  return { reachable: true, api: detection.api, baseUrl: conn.baseUrl, authenticated };
}

/** Asks once without the token: only a server that then refuses has really checked ours. */
async function tokenRequired(conn: Connection, api: ApiFamily, signal: AbortSignal): Promise<boolean> {
  try {
    await request({ ...conn.http, token: undefined }, "GET", MODELS_PATH[api], {
      signal,
      maxBytes: 1024 * 1024,
    });
    return false;
  } catch (error) {
    if (isLMStudioError(error, "AUTH_REQUIRED")) return true;
    if (isLMStudioError(error, "TIMEOUT") || isLMStudioError(error, "INTERRUPTED")) throw error;
    return false;
  }
}

/** Polls with backoff until the server answers as LM Studio; other failures end the wait at once. */
export async function waitForServer(
  conn: Connection,
  onRetry: WaitOptions["onRetry"],
  signal: AbortSignal,
): Promise<ServerStatus> {
  let delay = 100;
  for (let attempt = 1;; attempt++) {
    try {
      return await serverStatus(conn, signal);
    } catch (error) {
      if (!mayComeUp(error)) throw error;
      onRetry?.(attempt, error);
      await sleep(delay, signal);
      delay = Math.min(delay * 2, 1000);
    }
  }
}

/** `lms server start` on the URL's port, then a wait. Only for a server on this machine. */
export async function startServer(
  conn: Connection,
  onRetry: WaitOptions["onRetry"],
  signal: AbortSignal,
): Promise<ServerStatus> {
  if (!conn.local) {
    throw new LMStudioError(
      "SERVER_UNREACHABLE",
      `The server at ${conn.baseUrl} is not on this machine, so it cannot be started from here`,
      { hint: "Start LM Studio's server on that machine (`lms server start`)." },
    );
  }
  const url = new URL(conn.baseUrl);
  const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
  const lms = await lmsOf(conn);
  await lms.serverStart({ signal, port });
  return await waitForServer(conn, onRetry, signal);
}

/**
 * What {@linkcode checkOrStart} needs of a client: an `LMStudioClient`'s `check` and `startServer`
 * (named by shape, since client.ts imports this module).
 */
export interface CheckOrStartClient {
  check(options: CallOptions): Promise<ServerStatus>;
  startServer(options: WaitOptions): Promise<ServerStatus>;
}

/**
 * `check` (with `call`); when the server is down and `start` allows it, `lms server start` and a
 * wait of up to `startTimeoutMs` (default 60 s). Internal: `ensureReady` and the CLI's `check`
 * share it.
 */
export async function checkOrStart(
  client: CheckOrStartClient,
  start: boolean,
  call: CallOptions,
  startTimeoutMs: number | undefined,
  onStart: () => void,
): Promise<ServerStatus> {
  try {
    return await client.check(call);
  } catch (error) {
    if (!start || !mayComeUp(error)) throw error;
    onStart();
    return await client.startServer({
      signal: call.signal,
      timeoutMs: startTimeoutMs ?? DEFAULT_TIMEOUTS.wait,
    });
  }
}
