/**
 * Nothing a user could import before has disappeared without a word: every name the root module
 * exported before the API was cut down is still exported (from the root or a subpath) or is named,
 * as `` `name` ``, in the README's changelog.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ROOT } from "./_helpers.ts";
import { SURFACE } from "./_surface.ts";

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

  it("each old root name is exported today (root or a subpath) or named in the changelog", () => {
    const today = new Set(Object.values(SURFACE).flat());
    const text = changelog();
    const unaccounted = OLD_ROOT_NAMES.filter((name) => !today.has(name) && !text.includes(`\`${name}\``));
    assert.deepEqual(unaccounted, [], `not exported any more and not in the README's changelog`);
  });
});
