/**
 * LM Studio's saved server settings: the port (and network interface) its HTTP server last used,
 * kept in `<LM Studio home>/.internal/http-server-config.json` (fields `port` and
 * `networkInterface`, as `lms server start` reads them). When nothing else says where the server is,
 * this is where LM Studio will put it, and it is often not 1234.
 *
 * Reading it never fails loudly: a missing, unreadable, oversized (over 64 KiB), malformed or
 * wrongly typed file, a symlink loop, a directory in its place, or Deno without `--allow-read` /
 * `--allow-env` all give `undefined`, so the caller's default applies.
 *
 * No `node:` module is imported (the file is read through `fileAccess()` of runtime_files.ts, native
 * on Deno), so `check` without a URL does not load Deno's Node compatibility layer.
 *
 * @module
 */
import {
  homeLookup,
  type LmStudioHome,
  type LmStudioHomeOptions,
  selectLmStudioHome,
} from "./lmstudio_home.ts";

/**
 * Where the settings live, relative to the LM Studio home.
 *
 * @example
 * ```ts
 * import { SERVER_SETTINGS_FILE } from "./server_settings.ts";
 * SERVER_SETTINGS_FILE.join("/"); // ".internal/http-server-config.json"
 * ```
 */
export const SERVER_SETTINGS_FILE: readonly string[] = [".internal", "http-server-config.json"];

/**
 * What the saved settings say, and where they were read.
 *
 * @example
 * ```ts
 * import type { SavedServerSettings } from "./server_settings.ts";
 * const saved: SavedServerSettings = {
 *   baseUrl: "http://127.0.0.1:41234",
 *   port: 41234,
 *   networkInterface: "0.0.0.0",
 *   file: "/home/me/.lmstudio/.internal/http-server-config.json",
 *   home: { path: "/home/me/.lmstudio", source: "default-home" },
 * };
 * ```
 */
export interface SavedServerSettings {
  /** The URL to connect to: `http://<host>:<port>`, with `127.0.0.1` for a wildcard interface. */
  baseUrl: string;
  /** The saved port, 1–65535. */
  port: number;
  /** The saved `networkInterface`, as written (absent when the file has none). */
  networkInterface?: string;
  /** The settings file that was read. */
  file: string;
  /** The LM Studio home it is in. */
  home: LmStudioHome;
}

const WILDCARDS = new Set(["0.0.0.0", "[::]"]);

/**
 * Turns the parsed contents of `http-server-config.json` into the URL to connect to, or `undefined`
 * when they are not usable: not an object, `port` not an integer in 1–65535, `networkInterface`
 * neither absent/`null` nor a host name or IP address. A wildcard interface (`0.0.0.0`, `::`, empty)
 * or none means this machine, `127.0.0.1` (LM Studio's own `lms` connects there too); an IPv6
 * address is bracketed; `localhost` stays `localhost`.
 *
 * @example
 * ```ts
 * import { serverUrlFromSettings } from "./server_settings.ts";
 * serverUrlFromSettings({ port: 41234 }); // "http://127.0.0.1:41234"
 * serverUrlFromSettings({ port: 1234, networkInterface: "::1" }); // "http://[::1]:1234"
 * serverUrlFromSettings({ port: "1234" }); // undefined
 * ```
 */
export function serverUrlFromSettings(settings: unknown): string | undefined {
  if (typeof settings !== "object" || settings === null || Array.isArray(settings)) return undefined;
  const { port, networkInterface } = settings as { port?: unknown; networkInterface?: unknown };
  if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  if (networkInterface === undefined || networkInterface === null) return `http://127.0.0.1:${port}`;
  if (typeof networkInterface !== "string") return undefined;
  let host = networkInterface.trim();
  if (host === "") return `http://127.0.0.1:${port}`;
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  if (host.includes(":")) {
    // IPv6; a zone id (fe80::1%eth0) has no place in a URL.
    if (!/^[0-9A-Fa-f:.]+$/.test(host)) return undefined;
    host = `[${host}]`;
  } else if (!/^[A-Za-z0-9._-]+$/.test(host) || host.length > 253) {
    return undefined;
  }
  let hostname: string;
  try {
    // The URL parser normalises (case, IPv4 shorthand, IPv6 zero runs) and rejects bad addresses.
    hostname = new URL(`http://${host}:${port}/`).hostname;
  } catch {
    return undefined;
  }
  return `http://${WILDCARDS.has(hostname) ? "127.0.0.1" : hostname}:${port}`;
}

/**
 * Reads LM Studio's saved server settings from the LM Studio home of this machine (found as
 * `findLmStudioHome` does, through the same file-system probe and path rules). Returns `undefined`, quietly, whenever the file cannot give a usable URL:
 * missing, unreadable, over 64 KiB (never read past that), not strict UTF-8 JSON, not an object, a
 * port that is not an integer in 1–65535, a symlink loop, a directory or FIFO in its place, Deno
 * without read or environment permission. Never throws.
 *
 * @example
 * ```ts
 * import { readServerSettings } from "./server_settings.ts";
 * const saved = await readServerSettings(); // or { home: "/home/me" } to choose the user home
 * const baseUrl = saved?.baseUrl ?? "http://localhost:1234";
 * ```
 */
export async function readServerSettings(
  options: LmStudioHomeOptions = {},
): Promise<SavedServerSettings | undefined> {
  try {
    const lookup = await homeLookup(options);
    const home = await selectLmStudioHome(lookup);
    if (home === undefined) return undefined;
    const file = lookup.path.join(home.path, ...SERVER_SETTINGS_FILE);
    const text = await lookup.fs.readText(file);
    if (text === undefined) return undefined;
    const parsed: unknown = JSON.parse(text);
    const baseUrl = serverUrlFromSettings(parsed);
    if (baseUrl === undefined) return undefined;
    const { port, networkInterface } = parsed as { port: number; networkInterface?: unknown };
    const saved: SavedServerSettings = { baseUrl, port, file, home };
    if (typeof networkInterface === "string") saved.networkInterface = networkInterface;
    return saved;
  } catch {
    // Malformed JSON, or an injected probe that throws: the default applies.
    return undefined;
  }
}
