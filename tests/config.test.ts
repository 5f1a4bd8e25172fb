import { describe, it, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LMStudioError } from "../src/errors.ts";
import {
  CONFIG_FILE_NAME,
  DEFAULT_API_TOKEN_ENV,
  DEFAULT_BASE_URL,
  DEFAULT_MODEL,
  loadConfig,
  readVtcodeToml,
} from "../src/config.ts";

const TOKEN = "sk-lm-Abcd1234:ZyXw9876VuTs5432RqPo";

/** A temp folder removed when the test ends; it contains `.git`, so lookups never leave it. */
function workspace(t: TestContext, files: Record<string, string> = {}): string {
  const root = realpathSync(mkdtempSync(join(tmpdir(), "vtcode-config-")));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, ".git"));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, ".."), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

function envOf(vars: Record<string, string>): (name: string) => string | undefined {
  return (name) => (Object.hasOwn(vars, name) ? vars[name] : undefined);
}

/** Asserts a USAGE error whose message matches `message`, and returns it for further checks. */
function usageError(fn: () => unknown, message: RegExp): LMStudioError {
  let caught: unknown;
  assert.throws(fn, (error: unknown) => {
    caught = error;
    return true;
  });
  assert.ok(caught instanceof LMStudioError, `expected an LMStudioError, got ${String(caught)}`);
  assert.equal(caught.code, "USAGE");
  assert.match(caught.message, message);
  return caught;
}

const FULL_FILE = `[agent]
provider = "lmstudio"

[lmstudio]
base_url = "http://file-host:1234"
model = "file/model"
api_token_env = "MY_LM_TOKEN"
`;

describe("loadConfig: defaults", () => {
  it("uses the defaults when no option, env or file gives a value", () => {
    const config = loadConfig({ configFile: false, env: envOf({}) });
    assert.deepEqual(config, {
      baseUrl: DEFAULT_BASE_URL,
      model: DEFAULT_MODEL,
      apiTokenEnv: DEFAULT_API_TOKEN_ENV,
      sources: { baseUrl: "default", model: "default", apiToken: "none" },
    });
    assert.equal(DEFAULT_BASE_URL, "http://localhost:1234");
    assert.equal(DEFAULT_MODEL, "openai/gpt-oss-20b");
    assert.equal(DEFAULT_API_TOKEN_ENV, "LM_API_TOKEN");
    assert.equal(CONFIG_FILE_NAME, "vtcode.toml");
  });

  it("uses the defaults when the workspace has no vtcode.toml", (t) => {
    const cwd = workspace(t);
    const config = loadConfig({ cwd, env: envOf({}) });
    assert.equal(config.configFile, undefined);
    assert.deepEqual(config.sources, { baseUrl: "default", model: "default", apiToken: "none" });
  });

  it("uses the defaults when vtcode.toml has no [lmstudio] table, but reports the file", (t) => {
    const cwd = workspace(t, { "vtcode.toml": '[agent]\nprovider = "openai"\n' });
    const config = loadConfig({ cwd, env: envOf({}) });
    assert.equal(config.configFile, join(cwd, "vtcode.toml"));
    assert.equal(config.baseUrl, DEFAULT_BASE_URL);
    assert.equal(config.sources.model, "default");
  });
});

describe("loadConfig: precedence option > env > file > default", () => {
  it("takes base_url, model and api_token_env from the workspace's vtcode.toml", (t) => {
    const cwd = workspace(t, { "vtcode.toml": FULL_FILE });
    const config = loadConfig({ cwd, env: envOf({ MY_LM_TOKEN: TOKEN }) });
    assert.deepEqual(config, {
      baseUrl: "http://file-host:1234",
      model: "file/model",
      apiToken: TOKEN,
      apiTokenEnv: "MY_LM_TOKEN",
      configFile: join(cwd, "vtcode.toml"),
      sources: { baseUrl: "file", model: "file", apiToken: "env" },
    });
  });

  it("lets the environment win over the file", (t) => {
    const cwd = workspace(t, { "vtcode.toml": FULL_FILE });
    const config = loadConfig({
      cwd,
      env: envOf({ LMSTUDIO_URL: "http://env-host:1234", LMSTUDIO_MODEL: "env/model" }),
    });
    assert.equal(config.baseUrl, "http://env-host:1234");
    assert.equal(config.model, "env/model");
    assert.deepEqual(config.sources, { baseUrl: "env", model: "env", apiToken: "none" });
  });

  it("lets explicit options win over the environment and the file", (t) => {
    const cwd = workspace(t, { "vtcode.toml": FULL_FILE });
    const config = loadConfig({
      cwd,
      env: envOf({
        LMSTUDIO_URL: "http://env-host:1234",
        LMSTUDIO_MODEL: "env/model",
        MY_LM_TOKEN: "env-token-value",
        LMSTUDIO_LMS_PATH: "/env/lms",
      }),
      overrides: {
        baseUrl: "http://opt-host:1234",
        model: "opt/model",
        apiToken: TOKEN,
        lmsPath: "/opt/lms",
      },
    });
    assert.equal(config.baseUrl, "http://opt-host:1234");
    assert.equal(config.model, "opt/model");
    assert.equal(config.apiToken, TOKEN);
    assert.equal(config.lmsPath, "/opt/lms");
    assert.deepEqual(config.sources, { baseUrl: "option", model: "option", apiToken: "option" });
  });

  it("mixes sources per value and reports each one", (t) => {
    const cwd = workspace(t, { "vtcode.toml": '[lmstudio]\nmodel = "file/model"\n' });
    const config = loadConfig({
      cwd,
      env: envOf({ LMSTUDIO_URL: "http://env-host:1234", LM_API_TOKEN: TOKEN }),
    });
    assert.equal(config.baseUrl, "http://env-host:1234");
    assert.equal(config.model, "file/model");
    assert.equal(config.apiToken, TOKEN);
    assert.deepEqual(config.sources, { baseUrl: "env", model: "file", apiToken: "env" });
  });

  it("reads lmsPath from LMSTUDIO_LMS_PATH when no option is given", () => {
    const config = loadConfig({ configFile: false, env: envOf({ LMSTUDIO_LMS_PATH: "/opt/lm studio/lms" }) });
    assert.equal(config.lmsPath, "/opt/lm studio/lms");
  });

  it("accepts [lmstudio] written as top-level dotted keys or as an inline table", (t) => {
    const dotted = workspace(t, {
      "vtcode.toml": 'lmstudio.base_url = "http://dotted:1"\nlmstudio.model = "d/m"\n',
    });
    assert.deepEqual(
      [loadConfig({ cwd: dotted, env: envOf({}) })].map((c) => [c.baseUrl, c.model, c.sources.baseUrl]),
      [["http://dotted:1", "d/m", "file"]],
    );
    const inline = workspace(t, { "vtcode.toml": 'lmstudio = { model = "i/m" }\n' });
    assert.equal(loadConfig({ cwd: inline, env: envOf({}) }).model, "i/m");
  });

  it("is not fooled by [lmstudio] lines inside multi-line strings or by other tables", (t) => {
    const cwd = workspace(t, {
      "vtcode.toml": 'notes = """\n[lmstudio]\nmodel = "evil"\n"""\n[other.lmstudio]\nmodel = "evil2"\n',
    });
    const config = loadConfig({ cwd, env: envOf({}) });
    assert.equal(config.model, DEFAULT_MODEL);
    assert.equal(config.sources.model, "default");
  });
});

describe("loadConfig: environment values", () => {
  it("treats empty and whitespace-only values as unset", (t) => {
    const cwd = workspace(t, { "vtcode.toml": '[lmstudio]\nmodel = "file/model"\n' });
    const config = loadConfig({
      cwd,
      env: envOf({ LMSTUDIO_URL: "", LMSTUDIO_MODEL: "  \n\t", LM_API_TOKEN: " ", LMSTUDIO_LMS_PATH: "" }),
    });
    assert.equal(config.baseUrl, DEFAULT_BASE_URL);
    assert.equal(config.model, "file/model");
    assert.equal(config.apiToken, undefined);
    assert.equal(config.lmsPath, undefined);
    assert.deepEqual(config.sources, { baseUrl: "default", model: "file", apiToken: "none" });
  });

  it("keeps other values literally, spaces and newlines included", () => {
    const config = loadConfig({
      configFile: false,
      env: envOf({
        LMSTUDIO_URL: " http://h:1234/v1 \n",
        LMSTUDIO_MODEL: "my model\n",
        LM_API_TOKEN: ` ${TOKEN}\n`,
      }),
    });
    assert.equal(config.baseUrl, " http://h:1234/v1 \n");
    assert.equal(config.model, "my model\n");
    assert.equal(config.apiToken, ` ${TOKEN}\n`);
  });

  it("also treats empty and whitespace-only options as not given", () => {
    const config = loadConfig({
      configFile: false,
      env: envOf({ LMSTUDIO_URL: "http://env:1" }),
      overrides: { baseUrl: " ", model: "", apiToken: "", apiTokenEnv: "" },
    });
    assert.equal(config.baseUrl, "http://env:1");
    assert.equal(config.sources.model, "default");
    assert.equal(config.sources.apiToken, "none");
    assert.equal(config.apiTokenEnv, "LM_API_TOKEN");
  });

  it("uses the runtime's environment when no reader is given", () => {
    const config = loadConfig({ configFile: false });
    assert.equal(typeof config.baseUrl, "string");
    assert.equal(typeof config.model, "string");
  });
});

describe("loadConfig: the token", () => {
  it("reads it from LM_API_TOKEN by default", () => {
    const config = loadConfig({ configFile: false, env: envOf({ LM_API_TOKEN: TOKEN }) });
    assert.equal(config.apiToken, TOKEN);
    assert.equal(config.sources.apiToken, "env");
  });

  it("reads it only from the variable named by api_token_env when the file names one", (t) => {
    const cwd = workspace(t, { "vtcode.toml": '[lmstudio]\napi_token_env = "MY_LM_TOKEN"\n' });
    const ignored = loadConfig({ cwd, env: envOf({ LM_API_TOKEN: TOKEN }) });
    assert.equal(ignored.apiToken, undefined);
    assert.equal(ignored.apiTokenEnv, "MY_LM_TOKEN");
    const used = loadConfig({ cwd, env: envOf({ MY_LM_TOKEN: TOKEN }) });
    assert.equal(used.apiToken, TOKEN);
  });

  it("lets an apiTokenEnv option win over the file's api_token_env", (t) => {
    const cwd = workspace(t, { "vtcode.toml": '[lmstudio]\napi_token_env = "FROM_FILE"\n' });
    const config = loadConfig({
      cwd,
      env: envOf({ FROM_FILE: "file-var-token", FROM_OPTION: TOKEN }),
      overrides: { apiTokenEnv: "FROM_OPTION" },
    });
    assert.equal(config.apiToken, TOKEN);
    assert.equal(config.apiTokenEnv, "FROM_OPTION");
  });

  // These tokens start differently from every other token of the suite: redaction also hides a
  // secret's leading characters, so a shared "sk-lm-" prefix would blur what is being tested here.
  it("registers the token as a secret, so later error messages redact it", () => {
    const token = "regtest-Regi5ter:Secret0123456789abcd";
    loadConfig({ configFile: false, env: envOf({ LM_API_TOKEN: token }) });
    const error = new LMStudioError("AUTH_REQUIRED", `server rejected ${token}`, { hint: `not ${token}` });
    assert.equal(error.message, "server rejected [redacted]");
    assert.equal(error.hint, "not [redacted]");
  });

  it("registers an option token too", () => {
    const token = "opttest-OptionTk:Secret0123456789wxyz";
    loadConfig({ configFile: false, env: envOf({}), overrides: { apiToken: token } });
    assert.equal(new LMStudioError("INTERNAL", token).message, "[redacted]");
  });

  it("keeps the token out of messages even when it was pasted into the file", (t) => {
    const token = "sk-lm-Pasted12:Secret0123456789mnop";
    const unquoted = workspace(t, { "vtcode.toml": `[lmstudio]\nmodel = ${token}\n` });
    const error = usageError(
      () => loadConfig({ cwd: unquoted, env: envOf({ LM_API_TOKEN: token }) }),
      /vtcode\.toml:2: invalid value/,
    );
    assert.ok(!error.message.includes(token) && !(error.hint ?? "").includes(token), error.message);
  });
});

describe("loadConfig: api_token_env must name an environment variable", () => {
  for (const bad of ["sk-lm-Abcd1234:ZyXw9876VuTs5432RqPo", "1ABC", "MY-TOKEN", "$LM_API_TOKEN", "A B"]) {
    it(`rejects ${JSON.stringify(bad)} in the file without echoing it`, (t) => {
      const cwd = workspace(t, {
        "vtcode.toml": `# c\n[lmstudio]\napi_token_env = ${JSON.stringify(bad)}\n`,
      });
      const error = usageError(
        () => loadConfig({ cwd, env: envOf({}) }),
        /vtcode\.toml:3: \[lmstudio\] api_token_env must be the name of an environment variable/,
      );
      assert.ok(error.message.includes(join(cwd, "vtcode.toml")));
      assert.ok(!error.message.includes(bad) && !(error.hint ?? "").includes(bad));
      assert.match(error.hint ?? "", /api_token_env = "LM_API_TOKEN"/);
    });
  }

  it("rejects a bad apiTokenEnv option without echoing it", () => {
    const error = usageError(
      () => loadConfig({ configFile: false, env: envOf({}), overrides: { apiTokenEnv: TOKEN } }),
      /^apiTokenEnv must be the name of an environment variable/,
    );
    assert.ok(!error.message.includes(TOKEN) && !(error.hint ?? "").includes(TOKEN));
  });

  it("accepts names with lower case, digits and underscores", (t) => {
    const cwd = workspace(t, { "vtcode.toml": '[lmstudio]\napi_token_env = "_my_Token2"\n' });
    assert.equal(loadConfig({ cwd, env: envOf({ _my_Token2: TOKEN }) }).apiToken, TOKEN);
  });
});

describe("loadConfig: a broken vtcode.toml is a USAGE error naming the file, the line and the key", () => {
  const cases: Array<[string, string, RegExp]> = [
    ["base_url = 1234", "an integer", /base_url = "http:\/\/localhost:1234"/],
    ["model = true", "a boolean", /model = "openai\/gpt-oss-20b"/],
    ["model = 1979-05-27", "a local date", /model = "openai\/gpt-oss-20b"/],
    ["base_url = 1.5", "a float", /quoted string/],
    ['api_token_env = ["LM_API_TOKEN"]', "an array", /api_token_env = "LM_API_TOKEN"/],
    ['model = { id = "x" }', "a table", /quoted string/],
  ];
  for (const [line, type, hint] of cases) {
    it(`rejects ${line}`, (t) => {
      const cwd = workspace(t, { "vtcode.toml": `[agent]\nx = 1\n\n[lmstudio]\n${line}\n` });
      const key = line.split(" ")[0];
      const error = usageError(
        () => loadConfig({ cwd, env: envOf({}) }),
        new RegExp(`vtcode\\.toml:5: \\[lmstudio\\] ${key} must be a string, but it is ${type}$`),
      );
      assert.ok(error.message.startsWith(`${join(cwd, "vtcode.toml")}:5: `), error.message);
      assert.match(error.hint ?? "", hint);
    });
  }

  it("rejects a wrong type even when the environment would override the value", (t) => {
    const cwd = workspace(t, { "vtcode.toml": "[lmstudio]\nbase_url = 1234\n" });
    usageError(() => loadConfig({ cwd, env: envOf({ LMSTUDIO_URL: "http://env:1" }) }), /:2: .*base_url/);
  });

  it("rejects lmstudio that is not a table", (t) => {
    const scalar = workspace(t, { "vtcode.toml": 'a = 1\nlmstudio = "http://x"\n' });
    usageError(
      () => loadConfig({ cwd: scalar, env: envOf({}) }),
      /:2: lmstudio must be a table, but it is a string$/,
    );
    const array = workspace(t, { "vtcode.toml": '[[lmstudio]]\nmodel = "m"\n' });
    usageError(
      () => loadConfig({ cwd: array, env: envOf({}) }),
      /:1: lmstudio must be a table, but it is an array$/,
    );
  });

  it("rejects empty strings in the file", (t) => {
    const cwd = workspace(t, { "vtcode.toml": '[lmstudio]\nmodel = "  "\n' });
    const error = usageError(
      () => loadConfig({ cwd, env: envOf({}) }),
      /:2: \[lmstudio\] model must not be empty$/,
    );
    assert.match(error.hint ?? "", /Remove model/);
  });

  it("refuses api_token in the file, without echoing it", (t) => {
    const cwd = workspace(t, { "vtcode.toml": `[lmstudio]\nmodel = "m"\napi_token = "${TOKEN}"\n` });
    const error = usageError(
      () => loadConfig({ cwd, env: envOf({}) }),
      /:3: \[lmstudio\] api_token is not read from files/,
    );
    assert.ok(!error.message.includes(TOKEN) && !(error.hint ?? "").includes(TOKEN));
    assert.match(error.hint ?? "", /api_token_env/);
  });

  it("reports TOML syntax errors with the file, the line and a hint", (t) => {
    const cwd = workspace(t, { "vtcode.toml": '[lmstudio]\nmodel = "m"\n\n[lmstudio]\n' });
    const file = join(cwd, "vtcode.toml");
    const error = usageError(
      () => loadConfig({ cwd, env: envOf({}) }),
      /table \[lmstudio\] is defined twice/,
    );
    assert.ok(error.message.startsWith(`${file}:4: `), error.message);
    assert.ok((error.hint ?? "").startsWith(`Fix the TOML syntax in ${file}`));
  });

  it("ignores unknown keys in [lmstudio] and every other table", (t) => {
    const cwd = workspace(t, {
      "vtcode.toml": '[lmstudio]\nmodel = "m"\nfuture_option = 3\n[tools]\nbase_url = 5\n',
    });
    assert.equal(loadConfig({ cwd, env: envOf({}) }).model, "m");
  });
});

describe("loadConfig: which file is read", () => {
  it("looks in the parent folders up to the one containing .git", (t) => {
    const root = workspace(t, { "vtcode.toml": '[lmstudio]\nmodel = "root/model"\n' });
    const cwd = join(root, "packages", "app");
    mkdirSync(cwd, { recursive: true });
    const config = loadConfig({ cwd, env: envOf({}) });
    assert.equal(config.model, "root/model");
    assert.equal(config.configFile, join(root, "vtcode.toml"));
  });

  it("stops at the folder containing .git and does not read files above it", (t) => {
    const outer = workspace(t, { "vtcode.toml": '[lmstudio]\nmodel = "outside/model"\n' });
    const repo = join(outer, "repo");
    mkdirSync(join(repo, ".git"), { recursive: true });
    mkdirSync(join(repo, "src"));
    const config = loadConfig({ cwd: join(repo, "src"), env: envOf({}) });
    assert.equal(config.model, DEFAULT_MODEL);
    assert.equal(config.configFile, undefined);
  });

  it("treats a .git file (worktree, submodule) as the repository root too", (t) => {
    const outer = workspace(t, { "vtcode.toml": '[lmstudio]\nmodel = "outside/model"\n' });
    const repo = join(outer, "worktree");
    mkdirSync(repo);
    writeFileSync(join(repo, ".git"), "gitdir: /elsewhere\n");
    assert.equal(loadConfig({ cwd: repo, env: envOf({}) }).configFile, undefined);
  });

  it("uses the nearest vtcode.toml, even one without [lmstudio]", (t) => {
    const root = workspace(t, {
      "vtcode.toml": '[lmstudio]\nmodel = "root/model"\n',
      "sub/vtcode.toml": "[agent]\n",
    });
    const config = loadConfig({ cwd: join(root, "sub"), env: envOf({}) });
    assert.equal(config.configFile, join(root, "sub", "vtcode.toml"));
    assert.equal(config.model, DEFAULT_MODEL);
  });

  it("reads an explicit configFile, relative to cwd, instead of looking around", (t) => {
    const root = workspace(t, {
      "vtcode.toml": '[lmstudio]\nmodel = "workspace/model"\n',
      "conf/other.toml": '[lmstudio]\nmodel = "explicit/model"\n',
    });
    const config = loadConfig({ cwd: root, configFile: "conf/other.toml", env: envOf({}) });
    assert.equal(config.model, "explicit/model");
    assert.equal(config.configFile, join(root, "conf", "other.toml"));
  });

  it("fails when an explicit configFile is missing", (t) => {
    const root = workspace(t);
    const error = usageError(
      () => loadConfig({ cwd: root, configFile: "missing.toml", env: envOf({}) }),
      /^Config file not found: .*missing\.toml$/,
    );
    assert.ok(error.hint);
  });

  it("reads no file at all with configFile: false", (t) => {
    const root = workspace(t, { "vtcode.toml": "this is not TOML\n" });
    const config = loadConfig({ cwd: root, configFile: false, env: envOf({}) });
    assert.equal(config.configFile, undefined);
    assert.equal(config.sources.model, "default");
  });

  it("works with an injected file system (readFile and exists)", () => {
    const files: Record<string, string> = { "/w/vtcode.toml": '[lmstudio]\nbase_url = "http://virtual:1"\n' };
    const seen: string[] = [];
    const config = loadConfig({
      cwd: "/w/a/b",
      env: envOf({}),
      readFile: (path) => {
        seen.push(path);
        return files[path];
      },
      exists: (path) => path === "/w/.git",
    });
    assert.equal(config.baseUrl, "http://virtual:1");
    assert.equal(config.configFile, "/w/vtcode.toml");
    assert.deepEqual(seen, ["/w/a/b/vtcode.toml", "/w/a/vtcode.toml", "/w/vtcode.toml"]);
  });

  it("stops at the filesystem root when there is no .git", () => {
    const seen: string[] = [];
    const config = loadConfig({
      cwd: "/x/y",
      env: envOf({}),
      readFile: (path) => void seen.push(path),
      exists: () => false,
    });
    assert.deepEqual(seen, ["/x/y/vtcode.toml", "/x/vtcode.toml", "/vtcode.toml"]);
    assert.equal(config.configFile, undefined);
  });

  it("turns an unreadable file into a USAGE error", () => {
    const denied = Object.assign(new Error("EACCES: permission denied, open '/w/vtcode.toml'"), {
      code: "EACCES",
    });
    const error = usageError(
      () =>
        loadConfig({
          cwd: "/w",
          env: envOf({}),
          readFile: () => {
            throw denied;
          },
          exists: () => true,
        }),
      /^Cannot read \/w\/vtcode\.toml: EACCES/,
    );
    assert.match(error.hint ?? "", /readable/);
  });

  it("finds nothing, quietly, when Deno has no read permission; an explicit file says --allow-read", () => {
    const notCapable = (): never => {
      const error = new Error(
        'Requires read access to "/w/vtcode.toml", run again with the --allow-read flag',
      );
      error.name = "NotCapable";
      throw error;
    };
    const config = loadConfig({ cwd: "/w", env: envOf({}), readFile: notCapable, exists: () => false });
    assert.equal(config.configFile, undefined);
    const error = usageError(
      () => loadConfig({ cwd: "/w", configFile: "vtcode.toml", env: envOf({}), readFile: notCapable }),
      /^Cannot read \/w\/vtcode\.toml/,
    );
    assert.match(error.hint ?? "", /--allow-read/);
  });
});

describe("readVtcodeToml", () => {
  it("returns undefined for a missing file", (t) => {
    const root = workspace(t);
    assert.equal(readVtcodeToml(join(root, "vtcode.toml")), undefined);
  });

  it("returns {} for a file without [lmstudio], and the values of [lmstudio] otherwise", (t) => {
    const root = workspace(t, { "a.toml": '[agent]\nmodel = "x"\n', "b.toml": FULL_FILE });
    assert.deepEqual(readVtcodeToml(join(root, "a.toml")), {});
    assert.deepEqual(readVtcodeToml(join(root, "b.toml")), {
      baseUrl: "http://file-host:1234",
      model: "file/model",
      apiTokenEnv: "MY_LM_TOKEN",
    });
  });

  it("takes an injected reader", () => {
    const config = readVtcodeToml("v.toml", () => "[lmstudio] # ok\nmodel = 'm'\n");
    assert.deepEqual(config, { model: "m" });
  });

  it("names the file it was given in errors", () => {
    usageError(() => readVtcodeToml("conf/v.toml", () => "[lmstudio]\nmodel = 1\n"), /^conf\/v\.toml:2: /);
  });
});
