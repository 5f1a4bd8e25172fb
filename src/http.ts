/**
 * The single door to the network: web-standard `fetch` with a bearer token, a body-size cap,
 * redirects never followed (LM Studio does not redirect, and the token must not travel), and
 * transport failures turned into typed errors. Deadlines come from the caller's signal (see `withDeadline`).
 *
 * @module
 */
import { abortReason } from "./deadline.ts";
import { LMStudioError } from "./errors.ts";
import { truncate } from "./text.ts";

/** The fetch signature this package needs; inject your own (a proxy agent, a test double). */
export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

/** Where and how to talk to the server. */
export interface HttpTarget {
  /** Normalised base URL, no trailing slash, no `/v1`. */
  baseUrl: string;
  /** Bearer token; sent only to the server's own origin. */
  token?: string;
  /** Name of the variable the token came from, for hints (never the value). */
  tokenSource?: string;
  /** The fetch to use. */
  fetch: FetchLike;
}

/** One answer, read in full (up to the cap). */
export interface HttpAnswer {
  /** HTTP status. */
  status: number;
  /** `METHOD /path`, for messages. */
  endpoint: string;
  /** The body as text. */
  text: string;
  /** The body parsed as JSON, or `undefined` if it is not JSON. */
  json: unknown;
  /** The Content-Type header. */
  contentType: string;
}

/** Options of {@linkcode request}. */
export interface RequestOptions {
  /** JSON body to send. */
  body?: unknown;
  /** Aborts the request; its reason becomes the error. */
  signal: AbortSignal;
  /** Stop reading past this many bytes (default 8 MiB). */
  maxBytes?: number;
}

/** The largest answer {@linkcode request} reads (8 MiB): past it, it is not LM Studio's. */
export const DEFAULT_MAX_BYTES = 8 * 1024 * 1024;

/** Kinds of transport failure, told apart portably across Deno, Bun and Node. */
export type TransportFailure =
  | "timeout"
  | "aborted"
  | "blocked-port"
  | "refused"
  | "dns"
  | "reset"
  | "tls"
  | "protocol"
  | "other";

/**
 * Classifies a rejected `fetch`: Bun puts `code` on the error, Node on `cause`, Deno only in text.
 *
 * @example
 * ```ts
 * import { classifyFetchError } from "./http.ts";
 * classifyFetchError(Object.assign(new TypeError("fetch failed"), { cause: { code: "ECONNREFUSED" } })); // "refused"
 * ```
 */
export function classifyFetchError(error: unknown): TransportFailure {
  const err = error as
    | { name?: string; code?: unknown; message?: string; cause?: { code?: unknown; message?: string } }
    | null;
  if (err?.name === "TimeoutError") return "timeout";
  if (err?.name === "AbortError") return "aborted";
  const codes = [err?.code, err?.cause?.code];
  const text = `${err?.message ?? ""} ${err?.cause?.message ?? ""}`;
  // The Fetch standard's "bad ports" (6000, 6665-6669, 10080, ...): Node and Deno refuse them before
  // connecting; Bun connects.
  if (/\bbad port\b|requests to port \d+ are blocked/i.test(text)) return "blocked-port";
  if (codes.includes("ECONNREFUSED") || /connection refused|ECONNREFUSED/i.test(text)) return "refused";
  if (
    codes.includes("ENOTFOUND") || codes.includes("EAI_AGAIN") ||
    /dns error|ENOTFOUND|EAI_AGAIN|failed to lookup address/i.test(text)
  ) return "dns";
  if (
    codes.includes("ECONNRESET") || codes.includes("UND_ERR_SOCKET") || codes.includes("EPIPE") ||
    /ECONNRESET|socket hang up|connection reset|other side closed|connection closed/i.test(text)
  ) return "reset";
  if (/certificate|tls|ssl/i.test(text)) return "tls";
  // Something answered, but not in HTTP (an SSH banner, a database port): Node's parser codes,
  // Bun's Malformed_HTTP_Response, Deno's hyper messages.
  if (
    codes.some((code) =>
      typeof code === "string" && (code.startsWith("HPE_") || code === "Malformed_HTTP_Response")
    ) ||
    /does not match the HTTP|invalid HTTP|Malformed_HTTP_Response|malformed HTTP/i.test(text)
  ) return "protocol";
  return "other";
}

/**
 * Whether an error says the server cannot be reached _yet_ (down, starting, a port nobody listens
 * on): worth waiting for, or starting. Not a port this runtime's fetch refuses ("bad ports"): no
 * wait and no `lms server start` changes that.
 *
 * @example
 * ```ts
 * import { mayComeUp } from "./http.ts";
 * import { LMStudioError } from "./errors.ts";
 * mayComeUp(new LMStudioError("SERVER_UNREACHABLE", "down")); // true
 * mayComeUp(new LMStudioError("AUTH_REQUIRED", "no token")); // false
 * ```
 */
export function mayComeUp(error: unknown): error is LMStudioError {
  return error instanceof LMStudioError && error.code === "SERVER_UNREACHABLE" &&
    classifyFetchError(error.cause) !== "blocked-port";
}

function transportError(error: unknown, target: HttpTarget, endpoint: string): LMStudioError {
  const kind = classifyFetchError(error);
  const where = target.baseUrl;
  const startHint = "Start the server with `lms server start` (or in LM Studio: Developer → Start server), " +
    "or point the baseUrl option / LMSTUDIO_URL at the right address.";
  switch (kind) {
    case "blocked-port": {
      const port = new URL(where).port;
      return new LMStudioError(
        "SERVER_UNREACHABLE",
        `This runtime's fetch refuses to connect to port ${port} of ${where}: it is one of the Fetch standard's "bad ports"`,
        {
          hint:
            "Give LM Studio's server another port (Developer → Server Settings; the default is 1234), then point the baseUrl option / LMSTUDIO_URL at it.",
          endpoint,
          cause: error,
        },
      );
    }
    case "refused":
      return new LMStudioError(
        "SERVER_UNREACHABLE",
        `LM Studio is not responding at ${where}: connection refused`,
        {
          hint: startHint,
          endpoint,
          cause: error,
        },
      );
    case "dns":
      return new LMStudioError("SERVER_UNREACHABLE", `Cannot resolve the host of ${where}`, {
        hint: "Check the host name in the baseUrl option / LMSTUDIO_URL.",
        endpoint,
        cause: error,
      });
    case "reset":
      return new LMStudioError(
        "SERVER_UNREACHABLE",
        `The connection to ${where} was closed during ${endpoint}`,
        {
          hint:
            "The server closed the connection: check that what listens there is LM Studio and that it is healthy.",
          endpoint,
          cause: error,
        },
      );
    case "protocol":
      return new LMStudioError("NOT_LMSTUDIO", `Something answers at ${where}, but it does not speak HTTP`, {
        hint:
          "Another kind of server is on that port: point the baseUrl option / LMSTUDIO_URL at LM Studio's (default 1234).",
        endpoint,
        cause: error,
      });
    case "tls":
      return new LMStudioError("SERVER_UNREACHABLE", `TLS failure talking to ${where}`, {
        hint: "Check the https certificate, or use http:// for a local server.",
        endpoint,
        cause: error,
      });
    default:
      return new LMStudioError("SERVER_UNREACHABLE", `Cannot reach LM Studio at ${where} (${endpoint})`, {
        hint: startHint,
        endpoint,
        cause: error,
      });
  }
}

/**
 * The body of `response` as text, read no further than `maxBytes` (an `INVALID_RESPONSE` error
 * past it).
 *
 * @example
 * ```ts
 * import { readCapped } from "./http.ts";
 * await readCapped(new Response("{}"), 1024, "GET /api/v1/models"); // "{}"
 * ```
 */
export function readCapped(response: Response, maxBytes: number, endpoint: string): Promise<string> {
  // A length declared within the cap, unencoded: HTTP framing makes the runtime read exactly that
  // many bytes, and `text()` reads them natively (on Deno 0.8 ms less than the loop, which reads
  // chunked, compressed and oversized answers, and stops at the cap). Asked before `body`: on Bun,
  // touching `body` builds a ReadableStream in JavaScript, which `text()` does not need. The loop is
  // a function of its own, compiled only when an answer needs it (Bun compiles a whole function on
  // its first call).
  return declaresLengthWithin(response, maxBytes)
    ? response.text()
    : readStreamCapped(response, maxBytes, endpoint);
}

/**
 * Whether the answer declares its length, within `maxBytes`, and is not compressed: then its body is
 * exactly that many bytes (HTTP framing), and `text()` may read it whole.
 *
 * @example
 * ```ts
 * import { declaresLengthWithin } from "./http.ts";
 * declaresLengthWithin(new Response("{}", { headers: { "content-length": "2" } }), 1024); // true
 * ```
 */
export function declaresLengthWithin(response: Response, maxBytes: number): boolean {
  const length = response.headers.get("content-length");
  return length !== null && /^\d+$/.test(length) && Number(length) <= maxBytes &&
    !response.headers.has("content-encoding");
}

async function readStreamCapped(response: Response, maxBytes: number, endpoint: string): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let size = 0;
  let text = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      throw new LMStudioError(
        "INVALID_RESPONSE",
        `The answer to ${endpoint} is larger than ${maxBytes} bytes`,
        {
          hint: "This does not look like LM Studio: check the baseUrl option.",
          status: response.status,
          endpoint,
        },
      );
    }
    text += decoder.decode(value, { stream: true });
  }
  return text + decoder.decode();
}

/**
 * The `fetch` options of every request to LM Studio: JSON accepted (and sent, with a body), the
 * token as a bearer, and redirects not followed (LM Studio never redirects: a 3xx is an answer, so
 * the token cannot travel to another address).
 *
 * @example
 * ```ts
 * import { requestInit } from "./http.ts";
 * const init = requestInit("GET", new AbortController().signal);
 * init.redirect; // "manual"
 * ```
 */
export function requestInit(
  method: string,
  signal: AbortSignal,
  token?: string,
  body?: unknown,
): RequestInit {
  const headers: Record<string, string> = { accept: "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  return {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
    redirect: "manual",
  };
}

/**
 * Sends one request and reads the whole answer. Transport failures become `SERVER_UNREACHABLE`,
 * an abort becomes the signal's reason, 401/403 become `AUTH_REQUIRED`. Everything else, including
 * 200 answers with an `error` body, is returned for the caller to judge.
 *
 * @example
 * ```ts
 * import { request } from "./http.ts";
 * const answer = await request({ baseUrl: "http://localhost:1234", fetch }, "GET", "/api/v1/models", {
 *   signal: AbortSignal.timeout(5000),
 * });
 * console.log(answer.status, answer.json);
 * ```
 */
export async function request(
  target: HttpTarget,
  method: "GET" | "POST",
  path: string,
  options: RequestOptions,
): Promise<HttpAnswer> {
  const endpoint = `${method} ${path}`;
  const { signal } = options;
  if (signal.aborted) throw abortReason(signal, endpoint);
  const url = `${target.baseUrl}${path}`;
  let response: Response;
  try {
    response = await target.fetch(url, requestInit(method, signal, target.token, options.body));
  } catch (error) {
    if (signal.aborted) throw abortReason(signal, endpoint);
    throw transportError(error, target, endpoint);
  }
  if (response.status >= 300 && response.status < 400 && response.status !== 304) {
    await response.body?.cancel().catch(() => {});
    throw redirectError(response, url, target, endpoint);
  }

  let text: string;
  try {
    text = await readCapped(response, options.maxBytes ?? DEFAULT_MAX_BYTES, endpoint);
  } catch (error) {
    if (error instanceof LMStudioError) throw error;
    if (signal.aborted) throw abortReason(signal, endpoint);
    throw new LMStudioError(
      "INVALID_RESPONSE",
      `The answer to ${endpoint} broke off before it was complete`,
      {
        hint: "The server closed the connection mid-answer: check that it is healthy and retry.",
        status: response.status,
        endpoint,
        cause: error,
      },
    );
  }
  let json: unknown = undefined;
  const trimmed = text.trim();
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
    try {
      json = JSON.parse(trimmed);
    } catch {
      json = undefined;
    }
  }
  const answer: HttpAnswer = {
    status: response.status,
    endpoint,
    text,
    json,
    contentType: response.headers.get("content-type") ?? "",
  };
  if (response.status === 401 || response.status === 403) throw authError(answer, target);
  return answer;
}

/** The `error` of a JSON body, in either of LM Studio's shapes (string or object). */
export interface ServerErrorBody {
  /** Human text. */
  message: string;
  /** `type` of the object form (e.g. `model_not_found`, `invalid_request`). */
  type?: string;
  /** `code` of the object form (e.g. `invalid_api_key`, `model_not_found`). */
  code?: string;
}

/**
 * Extracts LM Studio's error from a JSON body (`{"error": "..."}` or `{"error": {message, type,
 * code}}`), or `undefined` when the body carries none. A 200 with an error body is an error.
 *
 * @example
 * ```ts
 * import { serverErrorOf } from "./http.ts";
 * serverErrorOf({ error: "Unexpected endpoint or method. (GET /x)" })?.message;
 * ```
 */
export function serverErrorOf(json: unknown): ServerErrorBody | undefined {
  if (json === null || typeof json !== "object" || Array.isArray(json)) return undefined;
  const error = (json as { error?: unknown }).error;
  if (error === undefined || error === null) return undefined;
  if (typeof error === "string") return { message: truncate(error, MAX_SERVER_MESSAGE) };
  if (typeof error === "object") {
    const e = error as { message?: unknown; type?: unknown; code?: unknown };
    let message: string;
    try {
      message = typeof e.message === "string" ? e.message : JSON.stringify(error);
    } catch {
      // Nested too deep to serialise (a hostile body): the stack would overflow.
      message = "(an error object too deeply nested to show)";
    }
    const out: ServerErrorBody = { message: truncate(message, MAX_SERVER_MESSAGE) };
    if (typeof e.type === "string") out.type = e.type;
    if (typeof e.code === "string") out.code = e.code;
    return out;
  }
  return { message: String(error) };
}

/** Longest server error text carried into a message; LM Studio's are one or two sentences. */
const MAX_SERVER_MESSAGE = 1000;

/** Whether a body is LM Studio's answer to a route it does not have. */
export function isUnknownRouteAnswer(json: unknown): boolean {
  const error = serverErrorOf(json);
  return error !== undefined && /^Unexpected endpoint or method/i.test(error.message);
}

/**
 * A success status whose body is not the JSON object LM Studio sends (HTML, empty, text).
 */
export function notAnObject(answer: HttpAnswer): LMStudioError {
  const what = answer.text.trim() === "" ? "empty body" : "not a JSON object";
  return new LMStudioError("INVALID_RESPONSE", `Malformed answer from ${answer.endpoint}: ${what}`, {
    status: answer.status,
    endpoint: answer.endpoint,
    hint: "Check that the baseUrl option points at LM Studio and that its server is healthy.",
  });
}

/** A 3xx answer: named, never followed. An `http://` → `https://` move of the same server gets a fix hint. */
function redirectError(response: Response, url: string, target: HttpTarget, endpoint: string): LMStudioError {
  const location = response.headers.get("location");
  let next: URL | undefined;
  try {
    next = location ? new URL(location, url) : undefined;
  } catch {
    next = undefined;
  }
  const here = new URL(url);
  const shown = next
    ? truncate(`${next.protocol}//${next.host}${next.pathname}`, 200)
    : "nowhere (no Location)";
  const toHttps = next?.protocol === "https:" && here.protocol === "http:" && next.hostname === here.hostname;
  return new LMStudioError(
    "NOT_LMSTUDIO",
    `The server at ${target.baseUrl} redirected ${endpoint} (HTTP ${response.status}) to ${shown}; LM Studio never redirects`,
    {
      hint: toHttps
        ? `The server wants https: point the baseUrl option at https://${next!.host}.`
        : "Something other than LM Studio answers there (a proxy?): point the baseUrl option at LM Studio's own address.",
      status: response.status,
      endpoint,
    },
  );
}

function authError(answer: HttpAnswer, target: HttpTarget): LMStudioError {
  const server = serverErrorOf(answer.json);
  const detail = server ? `: ${server.message}` : "";
  const source = target.tokenSource ?? "the apiToken option";
  const hint = target.token
    ? `The server rejected the token from ${source}. Create a new one in LM Studio ` +
      `(Developer → Server Settings → Manage Tokens) and ${
        source === "the apiToken option" ? "pass it with the apiToken option" : `put it in ${source}`
      }.`
    : `This server requires authentication: set ${
      target.tokenSource && target.tokenSource !== "the apiToken option" ? target.tokenSource : "LM_API_TOKEN"
    } (or pass the apiToken option) to an LM Studio API token (Developer → Server Settings → Manage Tokens).`;
  const what = target.token ? "rejected the API token" : "requires an API token";
  return new LMStudioError(
    "AUTH_REQUIRED",
    `LM Studio at ${target.baseUrl} ${what} (HTTP ${answer.status})${detail}`,
    {
      hint,
      status: answer.status,
      endpoint: answer.endpoint,
    },
  );
}
