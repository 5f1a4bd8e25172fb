/**
 * The quick `check`: the command line scripts run most (often before every start of an agent),
 * answered before the rest of the CLI is loaded, when it is the plain case, and only when it
 * succeeds.
 *
 * The plain case: `check` with no flags but `--json`, `-q`/`--quiet`, `--no-color`, `--url` and
 * `--timeout`, no API token in `LM_API_TOKEN`, and no `vtcode.toml` (asked without reading it; where
 * there is one, the frame reads it). It succeeds when LM Studio's REST v1 listing answers 200 with a
 * well-formed listing: then it prints exactly what the CLI frame prints (`cli_output.ts`). Anything
 * else, before or after the request, it leaves to the whole `check` (`cli_check.ts`), which asks
 * again and says what is wrong: a second request only on a failing or unusual run. What cannot be
 * asked again (a deadline that passed, a Ctrl-C) is handed over as plain data, and the frame reports
 * it as its own error.
 *
 * It shares with the library what decides the answer: the configuration's names and defaults, LM
 * Studio's saved settings (`readServerSettings`), the request's options (`requestInit`), the body
 * rule (`declaresLengthWithin`), the listing's verdict (`looksLikeModelList`, `conformsFast`) and
 * the output. What it reads for itself (the command line, the URL, the duration, the `vtcode.toml`
 * walk and the precedence of the base URL's sources) it reads conservatively: only the plain shapes,
 * each giving what the library's own reader gives (tests hold the two to it), anything else left to
 * the frame. It carries no error class, the URL normaliser nor the resolver.
 *
 * Why it exists: on Bun, a cold start runs every function it touches in JavaScriptCore's
 * interpreter, compiling each on its first call, and start-up grows with the code loaded and run.
 * `check` in the CLI frame took 1.85-1.89x the time of a script doing one bare `fetch` there; this
 * path, in a 24 KB file, 1.30-1.32x (Deno 1.10-1.18x, Node 1.0x; README, Performance).
 *
 * @module
 */
import { checkOutput, successText } from "./cli_output.ts";
import type { Handover } from "./cli_process.ts";
import type { BaseUrlSource } from "./config.ts";
import {
  CONFIG_ENV,
  CONFIG_FILE_NAME,
  DEFAULT_API_TOKEN_ENV,
  DEFAULT_BASE_URL,
  given,
} from "./config_names.ts";
import { DEFAULT_TIMEOUTS, MAX_TIMEOUT_MS } from "./deadline.ts";
import { declaresLengthWithin, DEFAULT_MAX_BYTES, type FetchLike, requestInit } from "./http.ts";
import { conformsFast, looksLikeModelList, MODELS_PATH } from "./models.ts";
import { cwd as currentDir, type EnvReader, getEnv, platform, startTimer } from "./runtime.ts";
import { pathKind, sizeAt } from "./runtime_files.ts";
import { readServerSettings } from "./server_settings.ts";
import { VERSION } from "./version.ts";

/** Where the quick `check` reads and writes; injectable for tests. */
export interface QuickCheckIO {
  /** Writes to stdout; called once, on success. */
  stdout: (text: string) => void;
  /** Aborts the run (SIGINT). */
  signal: AbortSignal;
  /** Environment variables (default: the process's). */
  env?: EnvReader;
  /** The folder to look for `vtcode.toml` in (default: the current directory). */
  cwd?: string;
  /** The `fetch` to use (default: the global one). */
  fetch?: FetchLike;
}

/**
 * What the quick `check` did: `done` when it printed the whole answer (exit 0); else nothing was
 * printed, and the whole CLI runs the command line, with the hand-over when there is one.
 */
export type QuickCheckOutcome = { done: true } | { done: false; handover: Handover };

/** The flags of the plain case, and whether each takes a value. */
const PLAIN_FLAGS: Readonly<Record<string, boolean>> = {
  "--json": false,
  "-q": false,
  "--quiet": false,
  "--no-color": false,
  "--url": true,
  "--timeout": true,
};

/** The plain case's command line, read; `undefined` for any other. */
interface PlainCheck {
  json: boolean;
  url?: string;
  timeout?: string;
}

/**
 * Reads a plain `check` command line: at most one `check`, each plain flag at most once (with its
 * value as `--flag value` or `--flag=value`); `undefined` for anything else, which the whole
 * parser then reads (and rejects, where it is wrong).
 */
function plainCheck(argv: readonly string[]): PlainCheck | undefined {
  const seen = new Set<string>();
  const values: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf("=");
    const name = arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg;
    const takesValue = PLAIN_FLAGS[name];
    if (seen.has(name) || (takesValue === undefined && name !== "check")) return undefined;
    seen.add(name);
    if (!takesValue) {
      if (name !== arg) return undefined;
      continue;
    }
    const value = name === arg ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined || value === "" || value.startsWith("-")) return undefined;
    values[name] = value;
  }
  if (seen.has("-q") && seen.has("--quiet")) return undefined;
  return { json: seen.has("--json"), url: values["--url"], timeout: values["--timeout"] };
}

/**
 * Whether the `vtcode.toml` lookup (`loadVtcodeToml`: from the folder up to the first one holding
 * `.git`, or to the root) certainly finds nothing there: any doubt (something at the path, an error,
 * a path that is not plain POSIX) is "no". Asked with {@linkcode pathKind}, without reading: on
 * Bun ~0.1 ms three folders up, where the lookup's reads cost ~1 ms on a first run.
 */
function certainlyNoConfigFile(folder?: string): boolean {
  try {
    // The current directory may be gone (removed under the process): the frame copes with that.
    const start = folder ?? currentDir();
    // Only a plain absolute POSIX path (no `//`, `.` or `..` segments, no trailing `/`), walked up
    // by cutting at the last `/`.
    const [first, ...names] = start.split("/");
    const plainPath = start === "/" ||
      (first === "" && names.every((n) => n !== "" && n !== "." && n !== ".."));
    if (!plainPath) return false;
    for (let dir = start;;) {
      const prefix = dir === "/" ? "/" : `${dir}/`;
      if (pathKind(prefix + CONFIG_FILE_NAME) !== "missing") return false;
      // The lookup stops after a folder holding `.git`. Told by its size alone (a folder's is never
      // 0 where git has written one): a `.git` missed here only makes this walk go on past where the
      // lookup stops, and find more reasons to leave the run to it, never fewer.
      if (sizeAt(`${prefix}.git`) > 0) return true;
      if (dir === "/") return true;
      dir = dir.slice(0, dir.lastIndexOf("/")) || "/";
    }
  } catch {
    return false; // a symlink loop, a folder it may not look into, no current directory
  }
}

/** Why the request stopped, when it was the deadline or Ctrl-C rather than an answer. */
type Stopped = NonNullable<Handover["stoppedWith"]>;

/**
 * The base URL when it is one of the plain shapes (`http(s)://host[:port]`, optionally with `/v1`
 * or a trailing `/`), written as the library's normaliser (`normalizeBaseUrl`) writes it: `new
 * URL`'s scheme and host. `undefined` for any other, which the whole check reads (and rejects,
 * where it is wrong).
 *
 * @example
 * ```ts
 * import { plainBaseUrl } from "./cli_quick.ts";
 * plainBaseUrl("HTTP://LocalHost:1234/v1/"); // "http://localhost:1234"
 * plainBaseUrl("http://[::1]:1234"); // undefined: the frame reads it
 * ```
 */
export function plainBaseUrl(raw: string): string | undefined {
  const match = /^(https?:\/\/[A-Za-z0-9.-]+(?::\d{1,5})?)(?:\/v1)?\/?$/i.exec(raw);
  if (!match) return undefined;
  try {
    const url = new URL(match[1]);
    return `${url.protocol}//${url.host}`;
  } catch {
    return undefined;
  }
}

/**
 * Asks for the REST v1 listing with the check's deadline: `true` when it is a well-formed listing,
 * `false` for any other answer or failure, what stopped it for a deadline or Ctrl-C.
 */
async function listsModels(
  baseUrl: string,
  timeoutMs: number,
  io: QuickCheckIO,
): Promise<boolean | Stopped> {
  const deadline = new AbortController();
  const cancelTimer = startTimer(timeoutMs, () => deadline.abort());
  try {
    const response = await (io.fetch ?? fetch)(
      `${baseUrl}${MODELS_PATH.v1}`,
      requestInit("GET", AbortSignal.any([io.signal, deadline.signal])),
    );
    if (response.status !== 200 || !declaresLengthWithin(response, DEFAULT_MAX_BYTES)) {
      await response.body?.cancel().catch(() => {});
      return false;
    }
    const json: unknown = JSON.parse(await response.text());
    return looksLikeModelList("v1", json) && conformsFast("v1", json);
  } catch {
    if (io.signal.aborted) return { code: "INTERRUPTED" };
    return deadline.signal.aborted ? { code: "TIMEOUT", what: `Checking ${baseUrl}`, timeoutMs } : false;
  } finally {
    cancelTimer();
  }
}

/**
 * Runs `argv` when it is `--version` (or `-V`) alone, or a plain `check` that succeeds (see the
 * module's text). `--version --json` is the frame's: a JSON document.
 *
 * @example
 * ```ts ignore
 * import { quickCheck } from "./cli_quick.ts";
 * const outcome = await quickCheck(["check", "--json"], { stdout: (t) => console.log(t), signal });
 * if (!outcome.done) await runTheWholeCli(argv, outcome.handover);
 * ```
 */
export async function quickCheck(argv: readonly string[], io: QuickCheckIO): Promise<QuickCheckOutcome> {
  const notHere: QuickCheckOutcome = { done: false, handover: {} };
  if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-V")) {
    io.stdout(`${VERSION}\n`);
    return { done: true };
  }
  const plain = plainCheck(argv);
  if (!plain || platform() === "win32") return notHere;
  const env = io.env ?? getEnv;
  // A token makes `check` also ask whether the server needs it: the whole check does that.
  if (given(env(DEFAULT_API_TOKEN_ENV)) !== undefined) return notHere;
  const timeoutMs = plain.timeout === undefined ? DEFAULT_TIMEOUTS.check : plainDuration(plain.timeout);
  if (timeoutMs === undefined || !certainlyNoConfigFile(io.cwd)) return notHere;
  // The resolver's precedence, knowing that there is no vtcode.toml: the flag, LMSTUDIO_URL, LM
  // Studio's saved server settings, the default.
  let raw = plain.url;
  let source: BaseUrlSource = "option";
  if (raw === undefined) [raw, source] = [given(env(CONFIG_ENV.baseUrl)), "env"];
  if (raw === undefined) {
    const saved = await readServerSettings({ env });
    [raw, source] = saved ? [saved.baseUrl, "lmstudio-settings"] : [DEFAULT_BASE_URL, "default"];
  }
  const baseUrl = plainBaseUrl(raw);
  if (baseUrl === undefined) return notHere;

  const listed = await listsModels(baseUrl, timeoutMs, io);
  if (listed === false) return notHere;
  if (listed !== true) return { done: false, handover: { stoppedWith: listed } };
  const status = { reachable: true, api: "v1", baseUrl, authenticated: false } as const;
  const run = { command: "check", json: plain.json, baseUrl, baseUrlSource: source };
  io.stdout(successText(run, checkOutput(status)));
  return { done: true };
}

/**
 * A `--timeout` value in the plain shapes (`30`, `30s`, `500ms`) in ms, as `parseDuration` reads
 * it; `undefined` for any other, which the frame reads (and rejects, where it is wrong).
 *
 * @example
 * ```ts
 * import { plainDuration } from "./cli_quick.ts";
 * plainDuration("500ms"); // 500
 * plainDuration("1.5s"); // undefined: the frame reads it
 * ```
 */
export function plainDuration(text: string): number | undefined {
  const match = /^(\d{1,10})(ms|s)?$/.exec(text);
  const ms = match ? Number(match[1]) * (match[2] === "ms" ? 1 : 1000) : 0;
  return ms >= 1 && ms <= MAX_TIMEOUT_MS ? ms : undefined;
}
