/**
 * A fake LM Studio home for tests: a user home dir in a fresh temp dir, holding the home pointer
 * (`~/.lmstudio-home-pointer`), the LM Studio home (`~/.lmstudio`, or `~/.cache/lm-studio` for
 * legacy installs) with `.internal/http-server-config.json` naming the simulator's port, and
 * `bin/lms` (the fake `lms`) on request. Give its `env` to a child process (or the user home dir
 * to a resolver that takes one) to test port discovery and `lms` discovery without touching the
 * real home.
 *
 * @module
 */
import { existsSync, mkdirSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createFakeLms, type FakeLms, type FakeLmsOptions } from "./fake_lms.ts";
import type { Simulator } from "./simulator.ts";

/** LM Studio's default server port, named in the settings file when no simulator or port is given. */
const DEFAULT_PORT = 1234;

/**
 * Options of {@linkcode createFakeLmStudioHome}. Everything is optional.
 *
 * @example
 * ```ts
 * import { createFakeLmStudioHome, type FakeLmStudioHomeOptions } from "@vtcode/lmstudio/testing";
 * const options: FakeLmStudioHomeOptions = { port: 41234, networkInterface: "0.0.0.0", pointer: false };
 * const home = await createFakeLmStudioHome(options);
 * await home.cleanup();
 * ```
 */
export interface FakeLmStudioHomeOptions {
  /** The simulator whose port the settings file names, and which backs `bin/lms`. */
  simulator?: Simulator;
  /** The port the settings file names (default: the simulator's, else 1234). */
  port?: number;
  /** The settings file's `networkInterface` (default `127.0.0.1`). */
  networkInterface?: string;
  /** Write the fake `lms` as `<LM Studio home>/bin/lms` (options as for `createFakeLms`). Default false. */
  lms?: boolean | Omit<FakeLmsOptions, "dir" | "simulator">;
  /** Write `<userHome>/.lmstudio-home-pointer` holding the LM Studio home's path (default true). */
  pointer?: boolean;
  /** Put the LM Studio home at `<userHome>/.cache/lm-studio` (installs before 0.3) instead of `<userHome>/.lmstudio`. */
  legacy?: boolean;
  /**
   * The settings file: an object is merged over LM Studio's fields (see `defaultSettings`), a
   * string is written as is (malformed or huge files), `null` writes no file.
   */
  settings?: Record<string, unknown> | string | null;
}

/**
 * A fake LM Studio home on disk. Call `cleanup()` in `after`/`t.after`.
 *
 * @example
 * ```ts
 * import { createFakeLmStudioHome, type FakeLmStudioHome } from "@vtcode/lmstudio/testing";
 * const home: FakeLmStudioHome = await createFakeLmStudioHome();
 * home.writeSettings("{ not json"); // a malformed settings file
 * console.log(home.settingsPath); // ".../home/.lmstudio/.internal/http-server-config.json"
 * await home.cleanup();
 * ```
 */
export interface FakeLmStudioHome {
  /** The temp dir holding everything (removed by `cleanup()`). */
  readonly root: string;
  /** The user home dir (`HOME` / `USERPROFILE` for a child process). */
  readonly userHome: string;
  /** The LM Studio home: `<userHome>/.lmstudio`, or `<userHome>/.cache/lm-studio` when `legacy`. */
  readonly lmstudioHome: string;
  /** `<userHome>/.lmstudio-home-pointer` (absent when `pointer: false`). */
  readonly pointerPath: string;
  /** `<lmstudioHome>/.internal/http-server-config.json`. */
  readonly settingsPath: string;
  /** `<lmstudioHome>/bin/lms` when `lms` was asked for, else undefined. */
  readonly lmsPath: string | undefined;
  /** The fake `lms` (calls, script, pids) when `lms` was asked for. */
  readonly lms: FakeLms | undefined;
  /** The settings object written by default (LM Studio's fields, with the port and interface). */
  readonly defaultSettings: Readonly<Record<string, unknown>>;
  /** Environment entries that make a child process see `userHome` as its home. */
  readonly env: { HOME: string; USERPROFILE: string };
  /**
   * Rewrites the settings file: an object as JSON, a string as is (malformed, huge), `null`
   * deletes it.
   */
  writeSettings(settings: Record<string, unknown> | string | null): void;
  /** Stops leftover fake `lms` processes and removes the temp dir. Idempotent. */
  cleanup(): Promise<void>;
}

/**
 * Lays out a fake LM Studio home in a fresh temp dir: `<root>/home` (the user home) with
 * `.lmstudio-home-pointer`, the LM Studio home with `.internal/http-server-config.json` (the
 * fields LM Studio writes: `port`, `networkInterface`, `cors`, `justInTimeModelLoading`, ...; `lms`
 * reads `port` and `networkInterface`), and `bin/lms` when asked.
 *
 * @example
 * ```ts
 * import { createFakeLmStudioHome, startSimulator } from "@vtcode/lmstudio/testing";
 * import { execFile } from "node:child_process";
 * import { readFileSync } from "node:fs";
 * import process from "node:process";
 * import { promisify } from "node:util";
 *
 * const sim = await startSimulator({ models: [{ key: "qwen/qwen3-4b-2507" }] });
 * const home = await createFakeLmStudioHome({ simulator: sim, lms: true });
 * try {
 *   const settings = JSON.parse(readFileSync(home.settingsPath, "utf8"));
 *   console.log(settings.port === sim.port); // true
 *   const run = promisify(execFile); // async: the simulator runs in this process
 *   const { stdout } = await run(home.lmsPath!, ["ls", "--json"], { env: { ...process.env, ...home.env } });
 *   console.log(JSON.parse(stdout)[0].modelKey); // "qwen/qwen3-4b-2507"
 * } finally {
 *   await home.cleanup();
 *   await sim.close();
 * }
 * ```
 */
export async function createFakeLmStudioHome(
  options: FakeLmStudioHomeOptions = {},
): Promise<FakeLmStudioHome> {
  const port = options.port ?? options.simulator?.port ?? DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new TypeError(`createFakeLmStudioHome: "port" must be an integer from 0 to 65535, got ${port}`);
  }
  // Real path: LM Studio resolves the home dir through symlinks (macOS's /var is /private/var).
  const root = realpathSync(await mkdtemp(join(tmpdir(), "fake-lmstudio-home-")));
  let lms: FakeLms | undefined;
  try {
    const userHome = join(root, "home");
    const lmstudioHome = options.legacy ? join(userHome, ".cache", "lm-studio") : join(userHome, ".lmstudio");
    const pointerPath = join(userHome, ".lmstudio-home-pointer");
    const settingsPath = join(lmstudioHome, ".internal", "http-server-config.json");
    mkdirSync(join(lmstudioHome, ".internal"), { recursive: true });
    if (options.pointer ?? true) writeFileSync(pointerPath, lmstudioHome);
    // The fields LM Studio writes, in its order (as seen in users' copies of the file).
    const defaultSettings: Record<string, unknown> = {
      autoStartOnLaunch: false,
      port,
      cors: false,
      logSensitiveData: true,
      logIncomingTokens: false,
      verbose: false,
      logLinesLimit: 500,
      networkInterface: options.networkInterface ?? "127.0.0.1",
      justInTimeModelLoading: true,
      fileLoggingMode: "succinct",
    };
    const writeSettings = (settings: Record<string, unknown> | string | null): void => {
      if (settings === null) {
        rmSync(settingsPath, { force: true });
        return;
      }
      mkdirSync(join(lmstudioHome, ".internal"), { recursive: true });
      writeFileSync(
        settingsPath,
        typeof settings === "string" ? settings : JSON.stringify(settings, null, 2),
      );
    };
    const initial = options.settings;
    writeSettings(
      initial === undefined || (initial !== null && typeof initial === "object")
        ? { ...defaultSettings, ...initial }
        : initial,
    );
    if (options.lms) {
      const lmsOptions: FakeLmsOptions = {
        ...(typeof options.lms === "object" ? options.lms : {}),
        dir: join(lmstudioHome, "bin"),
      };
      if (options.simulator) lmsOptions.simulator = options.simulator;
      lms = await createFakeLms(lmsOptions);
    }
    let cleaning: Promise<void> | undefined;
    return {
      root,
      userHome,
      lmstudioHome,
      pointerPath,
      settingsPath,
      lmsPath: lms?.path,
      lms,
      defaultSettings: Object.freeze({ ...defaultSettings }),
      env: { HOME: userHome, USERPROFILE: userHome },
      writeSettings,
      cleanup: () => {
        cleaning ??= (async () => {
          await lms?.cleanup();
          if (existsSync(root)) rmSync(root, { recursive: true, force: true });
        })();
        return cleaning;
      },
    };
  } catch (error) {
    await lms?.cleanup();
    rmSync(root, { recursive: true, force: true });
    throw error;
  }
}
