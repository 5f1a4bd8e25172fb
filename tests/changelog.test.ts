/**
 * Nothing a user could import before has disappeared without a word: every name the root module
 * exported before the API was cut down is still exported (from the root or a subpath) or is named,
 * as `` `name` ``, in the README's changelog.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, it } from "node:test";
import { ROOT } from "./_helpers.ts";

/**
 * The 118 names the root module exported at commit fc6bb92 (its `mod.ts`; `deno doc --json mod.ts`
 * on that commit lists the same), values and types. Frozen: it is history, not today's API.
 */
const OLD_ROOT_NAMES: readonly string[] = [
  "ApiFamily",
  "CLI_COMMANDS",
  "CONFIG_FILE_NAME",
  "CallOptions",
  "CliArgs",
  "CliCommand",
  "CliIO",
  "DEFAULT_API_TOKEN_ENV",
  "DEFAULT_BASE_URL",
  "DEFAULT_MODEL",
  "DEFAULT_OSS_MODEL",
  "DEFAULT_TIMEOUTS",
  "DownloadOptions",
  "DownloadProgress",
  "DownloadResult",
  "ERROR_CODES",
  "EnsureAction",
  "EnsureEvent",
  "EnsureOssReadyOptions",
  "EnsureReadyOptions",
  "EnsureResult",
  "EnvReader",
  "ErrorCode",
  "FetchLike",
  "FileSystemProbe",
  "FindLmsOptions",
  "HELP",
  "HttpAnswer",
  "HttpTarget",
  "LMS_INSTALL_HINT",
  "LMStudioClient",
  "LMStudioClientOptions",
  "LMStudioConfig",
  "LMStudioError",
  "LMStudioErrorOptions",
  "Lms",
  "LmsDownloadedModel",
  "LmsGetOptions",
  "LmsLoadOptions",
  "LmsLoadedInstance",
  "LmsLocation",
  "LmsOptions",
  "LmsRunOptions",
  "LmsRunResult",
  "LmsSource",
  "LmsSpawnPlan",
  "LoadConfigOptions",
  "LoadOptions",
  "LoadProgress",
  "LoadResult",
  "MAX_MODEL_NAME_LENGTH",
  "MODELS_PATH",
  "MatchKind",
  "ModelInfo",
  "ModelInstance",
  "ModelMatchResult",
  "OssConfig",
  "OssReadyHandle",
  "Reporter",
  "ReporterOptions",
  "RequestOptions",
  "ResolvedConfig",
  "RuntimeInfo",
  "RuntimeName",
  "ServerErrorBody",
  "ServerStatus",
  "TomlDocument",
  "TomlType",
  "TransportFailure",
  "UnloadResult",
  "VERSION",
  "WaitOptions",
  "classifyFetchError",
  "createLmsOutputSplitter",
  "createReporter",
  "detectRuntime",
  "ensureOssReady",
  "ensureReady",
  "envDenied",
  "exitCodeFor",
  "findLms",
  "formatBytes",
  "formatMs",
  "getEnv",
  "homeDir",
  "isLMStudioError",
  "isLocalServer",
  "isUnknownRouteAnswer",
  "lmsSpawnPlan",
  "loadConfig",
  "looksLikeModelList",
  "matchModel",
  "noColorRequested",
  "nodeFileSystemProbe",
  "normalizeBaseUrl",
  "parseCliArgs",
  "parseDuration",
  "parseLmsDownloadProgress",
  "parseLmsLoadProgress",
  "parseModelList",
  "parseToml",
  "parseTomlDocument",
  "platform",
  "readVtcodeToml",
  "redactSecrets",
  "registerSecret",
  "request",
  "runCli",
  "runLms",
  "serverErrorOf",
  "sleep",
  "stderrColumns",
  "stderrIsTTY",
  "stripAnsi",
  "suggestModels",
  "toLMStudioError",
  "validateModelName",
  "withDeadline",
];

const exportsMap = (JSON.parse(readFileSync(join(ROOT, "deno.json"), "utf8")) as {
  exports: Record<string, string>;
}).exports;

/** Entry points that are commands: importing one runs it, so only its text is read. */
const COMMANDS = new Set(["./cli"]);

interface EntryNames {
  /** Every exported name, values and types. */
  all: Set<string>;
  /** The names exported as values (the ones `import()` shows). */
  values: Set<string>;
}

/**
 * The names an entry point exports, read from its text. The entry points are lists of re-exports
 * (`export { a, type B } from "…"`, `export type { C } from "…"`); any other `export` form fails
 * here instead of being missed, and the runtime check below holds the values to what `import()`
 * sees. (Types have no runtime trace, and `deno doc`, which tests/surface.test.ts runs, is a
 * subprocess this test does without; surface.test.ts does not export its record.)
 */
function entryNames(file: string): EntryNames {
  const text = readFileSync(join(ROOT, file), "utf8")
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/^\s*\/\/.*$/gm, "");
  const all = new Set<string>();
  const values = new Set<string>();
  const reExport = /^export\s+(type\s+)?\{([^}]*)\}\s*from\s*["'][^"']+["'];?/gm;
  for (const match of text.matchAll(reExport)) {
    const typeOnly = match[1] !== undefined;
    for (const raw of match[2].split(",")) {
      const specifier = raw.trim();
      if (specifier === "") continue;
      const isType = typeOnly || /^type\s/.test(specifier);
      const name = specifier.replace(/^type\s+/, "").split(/\s+as\s+/).pop()!.trim();
      assert.match(name, /^[A-Za-z_$][\w$]*$/, `${file}: cannot read the export ${JSON.stringify(raw)}`);
      all.add(name);
      if (!isType) values.add(name);
    }
  }
  const others = text.replace(reExport, "").match(/^export\b.*$/gm) ?? [];
  assert.deepEqual(others, [], `${file}: an export this test cannot read`);
  return { all, values };
}

/** The README's "## Changelog" section, up to the next second-level heading. */
function changelog(): string {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const section = readme.split(/^## /m).find((part) => part.startsWith("Changelog\n"));
  assert.ok(section, 'README has a "## Changelog" section');
  return section;
}

describe("the changelog accounts for every name the root used to export", () => {
  it("the frozen list is the 118 distinct names of fc6bb92's mod.ts", () => {
    assert.equal(OLD_ROOT_NAMES.length, 118);
    assert.equal(new Set(OLD_ROOT_NAMES).size, 118);
  });

  it("the names read from each entry point's text are the values import() sees, plus types", async () => {
    for (const [entry, file] of Object.entries(exportsMap)) {
      const { values } = entryNames(file);
      if (COMMANDS.has(entry)) {
        assert.deepEqual([...values], [], `${entry} is a command and exports nothing`);
        continue;
      }
      const runtime = Object.keys(await import(pathToFileURL(join(ROOT, file)).href)).sort();
      assert.deepEqual({ entry, names: [...values].sort() }, { entry, names: runtime });
    }
  });

  it("each old root name is exported today (root or a subpath) or named in the changelog", () => {
    const today = new Set<string>();
    for (const file of Object.values(exportsMap)) for (const name of entryNames(file).all) today.add(name);
    const text = changelog();
    const unaccounted = OLD_ROOT_NAMES.filter((name) => !today.has(name) && !text.includes(`\`${name}\``));
    assert.deepEqual(unaccounted, [], `not exported any more and not in the README's changelog`);
  });
});
