/**
 * The quick `check`: the command line scripts run most (often before every start of an agent),
 * answered before the rest of the CLI is loaded, when it is the plain case, and only when it
 * succeeds.
 *
 * The plain case: `check` with no flags but `--json`, `-q`/`--quiet`, `--no-color`, `--url` and
 * `--timeout`, no API token anywhere, and no `vtcode.toml` (asked without reading it; where there is
 * one, the frame reads it). The configuration comes from the one resolver's precedence
 * (`resolveConfigWithoutFile`), the deadline's error from `deadlineError`, the body from
 * `readCapped`, the verdict from the listing checks the library uses. It succeeds when LM Studio's
 * REST v1 listing answers 200 with a well-formed listing: then it prints exactly what the CLI frame
 * prints (`cli_output.ts`). Anything else, before or after the request, it leaves to the whole
 * `check` (`cli_check.ts`), which asks again and says what is wrong: a second request only on a
 * failing or unusual run. What cannot be asked again (a deadline that passed, a Ctrl-C) is handed
 * over as the error it is, and reported as the frame's own.
 *
 * Why it exists: on Bun, a cold start runs every function it touches in JavaScriptCore's
 * interpreter, compiling each on its first call, and `check` in the CLI frame took 1.85-1.89x the
 * time of a script doing one bare `fetch`; this path, of a few small functions in a 36 KB file,
 * takes 1.34-1.40x there (Deno 1.12-1.25x, Node 1.0x; README, Performance).
 *
 * @module
 */
import { checkOutput, successText } from "./cli_output.ts";
import type { Handover } from "./cli_process.ts";
import { CONFIG_FILE_NAME, resolveConfigWithoutFile } from "./config.ts";
import { deadlineError, DEFAULT_TIMEOUTS, parseDuration } from "./deadline.ts";
import { LMStudioError } from "./errors.ts";
import { DEFAULT_MAX_BYTES, type FetchLike, readCapped, requestInit } from "./http.ts";
import { conformsFast, looksLikeModelList, MODELS_PATH } from "./models.ts";
import {
  cwd as currentDir,
  type EnvReader,
  getEnv,
  pathKind,
  platform,
  sizeAt,
  startTimer,
} from "./runtime.ts";
import { normalizeBaseUrl } from "./url.ts";
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
function certainlyNoConfigFile(folder: string): boolean {
  // Only a plain absolute POSIX path (no `//`, `.` or `..` segments, no trailing `/`), walked up
  // by cutting at the last `/`.
  const [first, ...names] = folder.split("/");
  const plainPath = folder === "/" ||
    (first === "" && names.every((n) => n !== "" && n !== "." && n !== ".."));
  if (!plainPath) {
    return false;
  }
  let dir = folder;
  for (;;) {
    const prefix = dir === "/" ? "/" : `${dir}/`;
    if (pathKind(prefix + CONFIG_FILE_NAME) !== "missing") return false;
    // The lookup stops after a folder holding `.git`. Told by its size alone (a folder's is never 0
    // where git has written one): a `.git` missed here only makes this walk go on past where the
    // lookup stops, and find more reasons to leave the run to it, never fewer.
    if (sizeAt(`${prefix}.git`) > 0) return true;
    if (dir === "/") return true;
    dir = dir.slice(0, dir.lastIndexOf("/")) || "/";
  }
}

/**
 * Asks for the REST v1 listing with the check's deadline: `true` when it is a well-formed listing,
 * `false` for any other answer or failure, the error itself for a deadline or Ctrl-C.
 */
async function listsModels(
  baseUrl: string,
  timeoutMs: number,
  io: QuickCheckIO,
): Promise<boolean | LMStudioError> {
  const controller = new AbortController();
  const stop = () => controller.abort(io.signal.reason);
  io.signal.addEventListener("abort", stop);
  const cancelTimer = startTimer(
    timeoutMs,
    () => controller.abort(deadlineError(`Checking ${baseUrl}`, timeoutMs)),
  );
  try {
    if (io.signal.aborted) stop();
    const response = await (io.fetch ?? fetch)(
      `${baseUrl}${MODELS_PATH.v1}`,
      requestInit("GET", controller.signal),
    );
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => {});
      return false;
    }
    const json: unknown = JSON.parse(await readCapped(response, DEFAULT_MAX_BYTES, `GET ${MODELS_PATH.v1}`));
    return looksLikeModelList("v1", json) && conformsFast("v1", json);
  } catch {
    const reason: unknown = controller.signal.reason;
    return controller.signal.aborted && reason instanceof LMStudioError ? reason : false;
  } finally {
    cancelTimer();
    io.signal.removeEventListener("abort", stop);
  }
}

/**
 * Runs `argv` when it is `--version`, or a plain `check` that succeeds (see the module's text).
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
  let baseUrl: string;
  let timeoutMs: number;
  let config;
  try {
    timeoutMs = plain.timeout === undefined ? DEFAULT_TIMEOUTS.check : parseDuration(plain.timeout);
    if (!certainlyNoConfigFile(io.cwd ?? currentDir())) return notHere;
    // The one resolver's precedence, knowing that there is no vtcode.toml to read (asked above).
    config = await resolveConfigWithoutFile({ env: io.env ?? getEnv, overrides: { baseUrl: plain.url } });
    baseUrl = normalizeBaseUrl(config.baseUrl);
  } catch {
    return notHere;
  }
  // A token makes `check` also ask whether the server needs it: the whole check does that.
  if (config.apiToken !== undefined) return notHere;

  const listed = await listsModels(baseUrl, timeoutMs, io);
  if (listed instanceof LMStudioError) {
    if (listed.code !== "TIMEOUT" && listed.code !== "INTERRUPTED") return notHere;
    return { done: false, handover: { stoppedWith: { ...listed.toJSON(), code: listed.code } } };
  }
  if (!listed) return notHere;
  const status = { reachable: true, api: "v1", baseUrl, authenticated: false } as const;
  const run = { command: "check", json: plain.json, baseUrl, baseUrlSource: config.sources.baseUrl };
  io.stdout(successText(run, checkOutput(status)));
  return { done: true };
}
