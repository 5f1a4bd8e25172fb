/**
 * Base-URL handling: one normal form for every way a user writes the server address, and the
 * question "is this server on this machine?" that decides whether `lms` may act for it.
 *
 * @module
 */
import { networkAddresses } from "./runtime.ts";
import { LMStudioError } from "./errors.ts";
import { hasUnprintable, truncate } from "./text.ts";

/**
 * Normalises a server base URL: `http://h:1234`, `http://h:1234/`, `http://h:1234/v1` and
 * `http://h:1234/v1/` all become `http://h:1234`, and so do LM Studio's REST bases `/api/v1` and
 * `/api/v0`. A path prefix (a reverse proxy) is kept. Rejects anything but http/https, embedded
 * credentials, queries and fragments, and an endpoint's URL (`…/v1/chat/completions`), with a hint.
 *
 * @example
 * ```ts
 * import { normalizeBaseUrl } from "./url.ts";
 * normalizeBaseUrl("http://localhost:1234/v1/"); // "http://localhost:1234"
 * ```
 */
export function normalizeBaseUrl(input: string): string {
  const raw = typeof input === "string" ? input.trim() : "";
  const hint = "Use a URL like http://localhost:1234 (with or without /v1).";
  if (raw === "") throw new LMStudioError("USAGE", "The server URL is empty", { hint });
  // Spaces and what text.ts calls unprintable (C0/C1 controls, bidi overrides): refused without
  // echoing them (a message must not reorder or forge what the terminal shows).
  if (/\s/.test(raw) || hasUnprintable(raw)) {
    throw new LMStudioError("USAGE", "The server URL contains spaces or control characters", { hint });
  }
  if (/^[\w.-]+:\d+(\/.*)?$/.test(raw) || /^\[[0-9a-f:]+\]:\d+/i.test(raw)) {
    throw new LMStudioError("USAGE", `The server URL has no scheme: ${truncate(raw, 80)}`, {
      hint: `Write it as http://${truncate(raw, 80)}.`,
    });
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new LMStudioError("USAGE", `Not a valid URL: ${truncate(raw, 80)}`, { hint });
  }
  if (url.username !== "" || url.password !== "") {
    throw new LMStudioError("USAGE", "The server URL must not contain credentials (user:password@)", {
      hint:
        "Remove them from the URL and pass the API token with the apiToken option or LM_API_TOKEN instead.",
    });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new LMStudioError(
      "USAGE",
      `Unsupported URL scheme ${JSON.stringify(truncate(url.protocol, 80))}: only http and https`,
      {
        hint,
      },
    );
  }
  if (url.search !== "" || url.hash !== "") {
    throw new LMStudioError("USAGE", "The server URL must not have a query or fragment", { hint });
  }
  // The OpenAI base (`/v1`) and LM Studio's REST bases (`/api/v1`, `/api/v0`) name the same server.
  const path = url.pathname.replace(/\/+$/, "").replace(/\/(?:api\/v[01]|v1)$/i, "").replace(/\/+$/, "");
  // An endpoint's URL pasted in place of the server's (`…/v1/chat/completions`): every request
  // would go to a path LM Studio does not have, and fail as if the server were broken. Only LM
  // Studio's own endpoints count: a proxy may well serve it under `/v1/lmstudio`.
  const endpoint = /\/(?:api\/v[01]|v1)\/(?:models|chat|completions|embeddings|responses|messages)(?:\/|$)/i
    .exec(
      `${path}/`,
    );
  if (endpoint) {
    const server = `${url.protocol}//${url.host}${path.slice(0, endpoint.index)}`;
    throw new LMStudioError(
      "USAGE",
      `The server URL points at an endpoint (${truncate(path.slice(endpoint.index), 60)}), not at the server`,
      { hint: `Use the server's address: ${truncate(server, 80)} (with or without /v1).` },
    );
  }
  return `${url.protocol}//${url.host}${path}`;
}

const LOOPBACK_NAMES = new Set(["localhost", "127.0.0.1", "[::1]", "::1", "0.0.0.0", "[::]"]);

/**
 * Whether the server at a (normalised) base URL runs on this machine: loopback names and
 * addresses, or one of this machine's own interface addresses. `lms` acts on the local machine
 * only, so a download through `lms` is allowed only when this is true.
 *
 * @example
 * ```ts
 * import { isLocalServer } from "./url.ts";
 * isLocalServer("http://127.0.0.1:1234"); // true
 * isLocalServer("http://gpu-box.example:1234"); // false
 * ```
 */
export function isLocalServer(baseUrl: string, localAddresses?: readonly string[]): boolean {
  let host: string;
  try {
    host = new URL(baseUrl).hostname.toLowerCase();
  } catch {
    return false;
  }
  if (LOOPBACK_NAMES.has(host) || host.endsWith(".localhost") || /^127\.\d+\.\d+\.\d+$/.test(host)) {
    return true;
  }
  const bare = host.replace(/^\[|\]$/g, "");
  // Deno.networkInterfaces on Deno, node:os elsewhere; none without --allow-sys: only loopback is local.
  return (localAddresses ?? networkAddresses()).some((address) => address.toLowerCase() === bare);
}
