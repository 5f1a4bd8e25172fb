import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { inspect } from "node:util";
import { LMStudioError } from "../src/errors.ts";
import {
  CONFIG_FILE_NAME,
  DEFAULT_API_TOKEN_ENV,
  DEFAULT_BASE_URL,
  DEFAULT_MODEL,
  mergeConfig,
  resolveConfig,
  type ResolveConfigOptions,
} from "../src/config.ts";
import { readVtcodeToml } from "../src/config_files.ts";
import { runCli } from "../src/cli_main.ts";
import { LMStudioClient } from "../src/client.ts";
import { ensureReady } from "../src/ensure.ts";
import { createFakeLmStudioHome } from "../src/testing/fake_home.ts";
import { detectRuntime } from "../src/runtime.ts";
import {
  cleanly,
  closedPortUrl,
  type Defer,
  envOf,
  nodeWithout,
  rejectsWith,
  ROOT,
  useSimulators,
  workspace,
} from "./_helpers.ts";
import { OTHER_TOKEN, QWEN, TOKEN } from "./_fixtures.ts";

/** The resolver, kept away from this machine's LM Studio settings unless a test asks for them. */
function load(options: ResolveConfigOptions = {}) {
  return resolveConfig({ lmstudioSettings: false, ...options });
}

const FULL_FILE = `[agent]
provider = "lmstudio"

[lmstudio]
base_url = "http://file-host:1234"
model = "file/model"
api_token_env = "MY_LM_TOKEN"
`;

/** A vtcode.toml as VT Code users write them: many tables, a [lmstudio] look-alike inside a string. */
const REAL_VTCODE_TOML = `# VT Code configuration
[agent]
provider = "openai"            # which provider
default_model = "gpt-5"
temperature = 0.7
instructions = """
You are a careful coding agent.
Never write a line like this one as config:
[lmstudio]
base_url = "http://evil.example:1234"
"""

[agent.onboarding]
workspace = 'C:\\Users\\agent' # backslashes are literal in a literal string

[[mcp.providers]]
name = "time"
args = ["mcp-server-time", "--local-timezone", "Europe/Paris"]
env = { TZ = "Europe/Paris", "LOG.LEVEL" = "info" }

[security]
allowed_hosts = [ "localhost", "127.0.0.1" ]
last_audit = 2026-01-15T09:30:00Z

[lmstudio]
base_url = "http://localhost:4321" # not the default port
model = "qwen/qwen3-4b-2507"
api_token_env = "LM_API_TOKEN"

[prompt_cache."providers.openai"]
enabled = true
`;

describe("mergeConfig: options and environment, no file", () => {
  it("uses the defaults when no option or variable gives a value", () => {
    assert.deepEqual(mergeConfig({ env: envOf({}) }), {
      baseUrl: DEFAULT_BASE_URL,
      model: DEFAULT_MODEL,
      apiTokenEnv: DEFAULT_API_TOKEN_ENV,
      sources: { baseUrl: "default", model: "default", apiToken: "none", lmsPath: "none" },
    });
    assert.equal(DEFAULT_BASE_URL, "http://localhost:1234");
    assert.equal(DEFAULT_MODEL, "openai/gpt-oss-20b");
    assert.equal(DEFAULT_API_TOKEN_ENV, "LM_API_TOKEN");
    assert.equal(CONFIG_FILE_NAME, "vtcode.toml");
  });

  it("takes every value from the environment, and options over it", () => {
    const env = envOf({
      LMSTUDIO_URL: "http://env-host:1234",
      LMSTUDIO_MODEL: "env/model",
      LM_API_TOKEN: "env-token-value",
      LMSTUDIO_LMS_PATH: "/env/lms",
    });
    const fromEnv = mergeConfig({ env });
    assert.deepEqual(
      [fromEnv.baseUrl, fromEnv.model, fromEnv.apiToken, fromEnv.lmsPath],
      ["http://env-host:1234", "env/model", "env-token-value", "/env/lms"],
    );
    assert.deepEqual(fromEnv.sources, { baseUrl: "env", model: "env", apiToken: "env", lmsPath: "env" });
    const fromOptions = mergeConfig({
      env,
      overrides: { baseUrl: "http://opt:1", model: "opt/model", apiToken: TOKEN, lmsPath: "/opt/lms" },
    });
    assert.deepEqual(
      [fromOptions.baseUrl, fromOptions.model, fromOptions.apiToken, fromOptions.lmsPath],
      ["http://opt:1", "opt/model", TOKEN, "/opt/lms"],
    );
    assert.deepEqual(fromOptions.sources, {
      baseUrl: "option",
      model: "option",
      apiToken: "option",
      lmsPath: "option",
    });
  });

  it("puts file values below the environment and above the defaults", () => {
    const file = { path: "/w/vtcode.toml", config: { baseUrl: "http://file:1", model: "file/model" } };
    const config = mergeConfig({ env: envOf({ LMSTUDIO_MODEL: "env/model" }), file });
    assert.equal(config.baseUrl, "http://file:1");
    assert.equal(config.model, "env/model");
    assert.equal(config.configFile, "/w/vtcode.toml");
    assert.deepEqual(config.sources, { baseUrl: "config", model: "env", apiToken: "none", lmsPath: "none" });
  });
});

describe("resolveConfig: defaults", () => {
  it(
    "uses the defaults when the workspace has no vtcode.toml",
    cleanly(async (defer) => {
      const cwd = workspace(defer);
      const config = await load({ cwd, env: envOf({}) });
      assert.equal(config.configFile, undefined);
      assert.deepEqual(config.sources, {
        baseUrl: "default",
        model: "default",
        apiToken: "none",
        lmsPath: "none",
      });
    }),
  );

  it(
    "uses the defaults when vtcode.toml has no [lmstudio] table, but reports the file",
    cleanly(async (defer) => {
      const cwd = workspace(defer, { "vtcode.toml": '[agent]\nprovider = "openai"\n' });
      const config = await load({ cwd, env: envOf({}) });
      assert.equal(config.configFile, join(cwd, "vtcode.toml"));
      assert.equal(config.baseUrl, DEFAULT_BASE_URL);
      assert.equal(config.sources.model, "default");
    }),
  );
});

describe("resolveConfig: precedence option > env > vtcode.toml > LM Studio's settings > default", () => {
  it(
    "takes base_url, model and api_token_env from the workspace's vtcode.toml",
    cleanly(async (defer) => {
      const cwd = workspace(defer, { "vtcode.toml": FULL_FILE });
      const config = await load({ cwd, env: envOf({ MY_LM_TOKEN: TOKEN }) });
      assert.deepEqual(config, {
        baseUrl: "http://file-host:1234",
        model: "file/model",
        apiToken: TOKEN,
        apiTokenEnv: "MY_LM_TOKEN",
        configFile: join(cwd, "vtcode.toml"),
        sources: { baseUrl: "config", model: "config", apiToken: "env", lmsPath: "none" },
      });
    }),
  );

  it(
    "lets the environment win over the file",
    cleanly(async (defer) => {
      const cwd = workspace(defer, { "vtcode.toml": FULL_FILE });
      const config = await load({
        cwd,
        env: envOf({ LMSTUDIO_URL: "http://env-host:1234", LMSTUDIO_MODEL: "env/model" }),
      });
      assert.equal(config.baseUrl, "http://env-host:1234");
      assert.equal(config.model, "env/model");
      assert.deepEqual(config.sources, { baseUrl: "env", model: "env", apiToken: "none", lmsPath: "none" });
    }),
  );

  it(
    "lets explicit options win over the environment and the file",
    cleanly(async (defer) => {
      const cwd = workspace(defer, { "vtcode.toml": FULL_FILE });
      const config = await load({
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
      assert.deepEqual(config.sources, {
        baseUrl: "option",
        model: "option",
        apiToken: "option",
        lmsPath: "option",
      });
    }),
  );

  it(
    "mixes sources per value and reports each one",
    cleanly(async (defer) => {
      const cwd = workspace(defer, { "vtcode.toml": '[lmstudio]\nmodel = "file/model"\n' });
      const config = await load({
        cwd,
        env: envOf({ LMSTUDIO_URL: "http://env-host:1234", LM_API_TOKEN: TOKEN }),
      });
      assert.equal(config.baseUrl, "http://env-host:1234");
      assert.equal(config.model, "file/model");
      assert.equal(config.apiToken, TOKEN);
      assert.deepEqual(config.sources, { baseUrl: "env", model: "config", apiToken: "env", lmsPath: "none" });
    }),
  );

  it(
    "reads a real VT Code file, not fooled by [lmstudio] inside a multi-line string",
    cleanly(async (defer) => {
      const cwd = workspace(defer, { "vtcode.toml": REAL_VTCODE_TOML });
      const config = await load({ cwd, env: envOf({}) });
      assert.equal(config.baseUrl, "http://localhost:4321");
      assert.equal(config.model, "qwen/qwen3-4b-2507");
      assert.equal(config.sources.baseUrl, "config");
    }),
  );

  it(
    "accepts [lmstudio] written as top-level dotted keys or as an inline table",
    cleanly(async (defer) => {
      const dotted = workspace(defer, {
        "vtcode.toml": 'lmstudio.base_url = "http://dotted:1"\nlmstudio.model = "d/m"\n',
      });
      const config = await load({ cwd: dotted, env: envOf({}) });
      assert.deepEqual([config.baseUrl, config.model, config.sources.baseUrl], [
        "http://dotted:1",
        "d/m",
        "config",
      ]);
      const inline = workspace(defer, { "vtcode.toml": 'lmstudio = { model = "i/m" }\n' });
      assert.equal((await load({ cwd: inline, env: envOf({}) })).model, "i/m");
    }),
  );

  it(
    "is not fooled by other tables holding the same keys",
    cleanly(async (defer) => {
      const cwd = workspace(defer, {
        "vtcode.toml": '[other.lmstudio]\nmodel = "evil2"\n[tools]\nmodel = "x"\n',
      });
      const config = await load({ cwd, env: envOf({}) });
      assert.equal(config.model, DEFAULT_MODEL);
      assert.equal(config.sources.model, "default");
    }),
  );
});

describe("resolveConfig: LM Studio's saved server settings", () => {
  /** A user home whose LM Studio saved port `port` (with `networkInterface`, if given). */
  function savedHome(defer: Defer, settings: string): string {
    const home = workspace(defer, { ".lmstudio/.internal/http-server-config.json": settings });
    return home;
  }

  it(
    "gives the base URL when no option, variable or file does",
    cleanly(async (defer) => {
      const home = savedHome(defer, '{"port":41234,"networkInterface":"0.0.0.0"}');
      const cwd = workspace(defer);
      const config = await resolveConfig({ cwd, home, env: envOf({}) });
      assert.equal(config.baseUrl, "http://127.0.0.1:41234");
      assert.equal(config.sources.baseUrl, "lmstudio-settings");
      assert.equal(config.settingsFile, join(home, ".lmstudio", ".internal", "http-server-config.json"));
    }),
  );

  it(
    "finds LM Studio's home through $HOME of the given environment",
    cleanly(async (defer) => {
      const home = savedHome(defer, '{"port":41235}');
      const config = await resolveConfig({
        cwd: workspace(defer),
        env: envOf({ HOME: home, USERPROFILE: home }),
      });
      assert.equal(config.baseUrl, "http://127.0.0.1:41235");
    }),
  );

  it(
    "comes after the option, the environment and vtcode.toml",
    cleanly(async (defer) => {
      const home = savedHome(defer, '{"port":41234}');
      const empty = workspace(defer);
      const withFile = workspace(defer, { "vtcode.toml": FULL_FILE });
      const option = await resolveConfig({
        cwd: empty,
        home,
        env: envOf({}),
        overrides: { baseUrl: "http://o:1" },
      });
      assert.deepEqual([option.baseUrl, option.sources.baseUrl, option.settingsFile], [
        "http://o:1",
        "option",
        undefined,
      ]);
      const env = await resolveConfig({ cwd: empty, home, env: envOf({ LMSTUDIO_URL: "http://e:1" }) });
      assert.deepEqual([env.baseUrl, env.sources.baseUrl], ["http://e:1", "env"]);
      const file = await resolveConfig({ cwd: withFile, home, env: envOf({}) });
      assert.deepEqual([file.baseUrl, file.sources.baseUrl], ["http://file-host:1234", "config"]);
    }),
  );

  it(
    "is ignored when broken (the default applies), or when lmstudioSettings is false",
    cleanly(async (defer) => {
      const cwd = workspace(defer);
      for (const broken of ["{", '{"port":"1234"}', '{"port":99999}', "[]"]) {
        const config = await resolveConfig({ cwd, home: savedHome(defer, broken), env: envOf({}) });
        assert.deepEqual([config.baseUrl, config.sources.baseUrl], [DEFAULT_BASE_URL, "default"], broken);
      }
      const good = savedHome(defer, '{"port":41234}');
      const off = await resolveConfig({ cwd, home: good, env: envOf({}), lmstudioSettings: false });
      assert.deepEqual([off.baseUrl, off.sources.baseUrl], [DEFAULT_BASE_URL, "default"]);
    }),
  );
});

describe("resolveConfig: environment values", () => {
  it(
    "treats empty and whitespace-only values as unset",
    cleanly(async (defer) => {
      const cwd = workspace(defer, { "vtcode.toml": '[lmstudio]\nmodel = "file/model"\n' });
      const config = await load({
        cwd,
        env: envOf({ LMSTUDIO_URL: "", LMSTUDIO_MODEL: "  \n\t", LM_API_TOKEN: " ", LMSTUDIO_LMS_PATH: "" }),
      });
      assert.equal(config.baseUrl, DEFAULT_BASE_URL);
      assert.equal(config.model, "file/model");
      assert.equal(config.apiToken, undefined);
      assert.equal(config.lmsPath, undefined);
      assert.deepEqual(config.sources, {
        baseUrl: "default",
        model: "config",
        apiToken: "none",
        lmsPath: "none",
      });
    }),
  );

  it("keeps other values literally, spaces and newlines included", () => {
    const config = mergeConfig({
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
    const config = mergeConfig({
      env: envOf({ LMSTUDIO_URL: "http://env:1" }),
      overrides: { baseUrl: " ", model: "", apiToken: "", apiTokenEnv: "", lmsPath: " " },
    });
    assert.equal(config.baseUrl, "http://env:1");
    assert.equal(config.sources.model, "default");
    assert.equal(config.sources.apiToken, "none");
    assert.equal(config.sources.lmsPath, "none");
    assert.equal(config.apiTokenEnv, "LM_API_TOKEN");
  });

  it("uses the runtime's environment when no reader is given", async () => {
    const config = await load({ configFile: false });
    assert.equal(typeof config.baseUrl, "string");
    assert.equal(typeof config.model, "string");
  });
});

describe("resolveConfig: the token", () => {
  it("reads it from LM_API_TOKEN by default", () => {
    const config = mergeConfig({ env: envOf({ LM_API_TOKEN: TOKEN }) });
    assert.equal(config.apiToken, TOKEN);
    assert.equal(config.sources.apiToken, "env");
  });

  it(
    "reads it from the variable named by api_token_env first, else from the contract's LM_API_TOKEN",
    cleanly(async (defer) => {
      const cwd = workspace(defer, { "vtcode.toml": '[lmstudio]\napi_token_env = "MY_LM_TOKEN"\n' });
      const named = await load({ cwd, env: envOf({ MY_LM_TOKEN: TOKEN, LM_API_TOKEN: OTHER_TOKEN }) });
      assert.deepEqual([named.apiToken, named.apiTokenEnv, named.sources.apiToken], [
        TOKEN,
        "MY_LM_TOKEN",
        "env",
      ]);
      const fallback = await load({ cwd, env: envOf({ LM_API_TOKEN: OTHER_TOKEN }) });
      assert.deepEqual(
        [fallback.apiToken, fallback.apiTokenEnv, fallback.sources.apiToken],
        [OTHER_TOKEN, "LM_API_TOKEN", "env"],
        "a file naming its own variable does not turn LM_API_TOKEN off; hints name where the token came from",
      );
      const none = await load({ cwd, env: envOf({}) });
      assert.deepEqual([none.apiToken, none.apiTokenEnv, none.sources.apiToken], [
        undefined,
        "MY_LM_TOKEN",
        "none",
      ]);
    }),
  );

  it(
    "lets an apiTokenEnv option win over the file's api_token_env",
    cleanly(async (defer) => {
      const cwd = workspace(defer, { "vtcode.toml": '[lmstudio]\napi_token_env = "FROM_FILE"\n' });
      const config = await load({
        cwd,
        env: envOf({ FROM_FILE: "file-var-token", FROM_OPTION: TOKEN }),
        overrides: { apiTokenEnv: "FROM_OPTION" },
      });
      assert.equal(config.apiToken, TOKEN);
      assert.equal(config.apiTokenEnv, "FROM_OPTION");
    }),
  );

  // These tokens start differently from every other token of the suite: redaction also hides a
  // secret's leading characters, so a shared "sk-lm-" prefix would blur what is being tested here.
  it("registers the token as a secret, so later error messages redact it", () => {
    const token = "regtest-Regi5ter:Secret0123456789abcd";
    mergeConfig({ env: envOf({ LM_API_TOKEN: token }) });
    const error = new LMStudioError("AUTH_REQUIRED", `server rejected ${token}`, { hint: `not ${token}` });
    assert.equal(error.message, "server rejected [redacted]");
    assert.equal(error.hint, "not [redacted]");
  });

  it("registers an option token too", () => {
    const token = "opttest-OptionTk:Secret0123456789wxyz";
    mergeConfig({ env: envOf({}), overrides: { apiToken: token } });
    assert.equal(new LMStudioError("INTERNAL", token).message, "[redacted]");
  });

  it("redacts a token of 1-3 characters where it stands alone, and only there", () => {
    mergeConfig({ env: envOf({}), overrides: { apiToken: "q7" } });
    const error = new LMStudioError("AUTH_REQUIRED", "Invalid token provided: q7. Expected q7x or xq7", {
      hint: "Send 'q7' no more",
    });
    assert.equal(error.message, "Invalid token provided: [redacted]. Expected q7x or xq7");
    assert.equal(error.hint, "Send '[redacted]' no more");
    const quoted = new LMStudioError("USAGE", 'Invalid model name "--token=q7" (LM_API_TOKEN=q7, token:q7)');
    assert.equal(
      quoted.message,
      'Invalid model name "--token=[redacted]" (LM_API_TOKEN=[redacted], token:[redacted])',
    );
  });

  it("prints as [redacted] in JSON and inspection; config.apiToken and a spread copy still hold it", async () => {
    const token = "jsontest-Inspect:Secret0123456789efgh";
    const config = await load({ configFile: false, env: envOf({ LM_API_TOKEN: token }) });
    assert.equal(config.apiToken, token);
    assert.equal({ ...config }.apiToken, token);
    assert.equal(JSON.parse(JSON.stringify(config)).apiToken, "[redacted]");
    assert.equal(JSON.parse(JSON.stringify(config)).baseUrl, DEFAULT_BASE_URL);
    const shown = inspect(config);
    assert.ok(!shown.includes(token) && shown.includes("[redacted]"), shown);
  });

  it(
    "keeps the token out of messages even when it was pasted into the file",
    cleanly(async (defer) => {
      const token = "sk-lm-Pasted12:Secret0123456789mnop";
      const unquoted = workspace(defer, { "vtcode.toml": `[lmstudio]\nmodel = ${token}\n` });
      const error = await rejectsWith(
        load({ cwd: unquoted, env: envOf({ LM_API_TOKEN: token }) }),
        "USAGE",
        /vtcode\.toml:2:9: invalid value/,
      );
      assert.ok(!error.message.includes(token) && !(error.hint ?? "").includes(token), error.message);
      // Even a token the resolver never registered does not show: the parser's quote of the file is left out.
      const other = "zz-never-registered-Secret0123456789";
      const quoted = workspace(defer, { "vtcode.toml": `[lmstudio]\nmodel = ${other}\n` });
      const plain = await rejectsWith(load({ cwd: quoted, env: envOf({}) }), "USAGE", /vtcode\.toml:2:9: /);
      assert.ok(!plain.message.includes(other) && !(plain.hint ?? "").includes(other), plain.message);
    }),
  );
});

describe("resolveConfig: api_token_env must name an environment variable", () => {
  for (const bad of [TOKEN, "1ABC", "MY-TOKEN", "$LM_API_TOKEN", "A B"]) {
    it(
      `rejects ${JSON.stringify(bad)} in the file without echoing it`,
      cleanly(async (defer) => {
        const cwd = workspace(defer, {
          "vtcode.toml": `# c\n[lmstudio]\napi_token_env = ${JSON.stringify(bad)}\n`,
        });
        const error = await rejectsWith(
          load({ cwd, env: envOf({}) }),
          "USAGE",
          /vtcode\.toml:3: \[lmstudio\] api_token_env must be the name of an environment variable/,
        );
        assert.ok(error.message.includes(join(cwd, "vtcode.toml")));
        assert.ok(!error.message.includes(bad) && !(error.hint ?? "").includes(bad));
        assert.match(error.hint ?? "", /api_token_env = "LM_API_TOKEN"/);
      }),
    );
  }

  it("rejects a bad apiTokenEnv option without echoing it", async () => {
    const error = await rejectsWith(
      load({ configFile: false, env: envOf({}), overrides: { apiTokenEnv: TOKEN } }),
      "USAGE",
      /^apiTokenEnv must be the name of an environment variable/,
    );
    assert.ok(!error.message.includes(TOKEN) && !(error.hint ?? "").includes(TOKEN));
    assert.throws(() => mergeConfig({ overrides: { apiTokenEnv: "A B" } }), /apiTokenEnv must be the name/);
  });

  it(
    "accepts names with lower case, digits and underscores",
    cleanly(async (defer) => {
      const cwd = workspace(defer, { "vtcode.toml": '[lmstudio]\napi_token_env = "_my_Token2"\n' });
      assert.equal((await load({ cwd, env: envOf({ _my_Token2: TOKEN }) })).apiToken, TOKEN);
    }),
  );
});

describe("resolveConfig: a broken vtcode.toml is a USAGE error naming the file, the line and the key", () => {
  const cases: Array<[string, string, RegExp]> = [
    ["base_url = 1234", "a number", /base_url = "http:\/\/localhost:1234"/],
    ["model = true", "a boolean", /model = "openai\/gpt-oss-20b"/],
    ["model = 1979-05-27", "a date", /model = "openai\/gpt-oss-20b"/],
    ["model = 07:32:00", "a time", /quoted string/],
    ["model = 1979-05-27T07:32:00Z", "a date-time", /quoted string/],
    ["base_url = 1.5", "a number", /quoted string/],
    ['api_token_env = ["LM_API_TOKEN"]', "an array", /api_token_env = "LM_API_TOKEN"/],
    ['model = { id = "x" }', "a table", /quoted string/],
  ];
  for (const [line, type, hint] of cases) {
    it(
      `rejects ${line}`,
      cleanly(async (defer) => {
        const cwd = workspace(defer, { "vtcode.toml": `[agent]\nx = 1\n\n[lmstudio]\n${line}\n` });
        const key = line.split(" ")[0];
        const error = await rejectsWith(
          load({ cwd, env: envOf({}) }),
          "USAGE",
          new RegExp(`vtcode\\.toml:5: \\[lmstudio\\] ${key} must be a string, but it is ${type}$`),
        );
        assert.ok(error.message.startsWith(`${join(cwd, "vtcode.toml")}:5: `), error.message);
        assert.match(error.hint ?? "", hint);
      }),
    );
  }

  it(
    "names the line of a dotted key or an inline table",
    cleanly(async (defer) => {
      const dotted = workspace(defer, { "vtcode.toml": "a = 1\n\nlmstudio.model = 5\n" });
      await rejectsWith(
        load({ cwd: dotted, env: envOf({}) }),
        "USAGE",
        /vtcode\.toml:3: \[lmstudio\] model must be a string/,
      );
      const inline = workspace(defer, {
        "vtcode.toml": '# x\nlmstudio = { base_url = "u", model = false }\n',
      });
      await rejectsWith(
        load({ cwd: inline, env: envOf({}) }),
        "USAGE",
        /vtcode\.toml:2: \[lmstudio\] model must be a string/,
      );
    }),
  );

  it(
    "rejects a wrong type even when the environment would override the value",
    cleanly(async (defer) => {
      const cwd = workspace(defer, { "vtcode.toml": "[lmstudio]\nbase_url = 1234\n" });
      await rejectsWith(
        load({ cwd, env: envOf({ LMSTUDIO_URL: "http://env:1" }) }),
        "USAGE",
        /:2: .*base_url/,
      );
    }),
  );

  it(
    "rejects lmstudio that is not a table",
    cleanly(async (defer) => {
      const scalar = workspace(defer, { "vtcode.toml": 'a = 1\nlmstudio = "http://x"\n' });
      await rejectsWith(
        load({ cwd: scalar, env: envOf({}) }),
        "USAGE",
        /:2: lmstudio must be a table, but it is a string$/,
      );
      const array = workspace(defer, { "vtcode.toml": '[[lmstudio]]\nmodel = "m"\n' });
      await rejectsWith(
        load({ cwd: array, env: envOf({}) }),
        "USAGE",
        /:1: lmstudio must be a table, but it is an array$/,
      );
    }),
  );

  it(
    "rejects empty strings in the file",
    cleanly(async (defer) => {
      const cwd = workspace(defer, { "vtcode.toml": '[lmstudio]\nmodel = "  "\n' });
      const error = await rejectsWith(
        load({ cwd, env: envOf({}) }),
        "USAGE",
        /:2: \[lmstudio\] model must not be empty$/,
      );
      assert.match(error.hint ?? "", /Remove model/);
    }),
  );

  it(
    "refuses api_token in the file, without echoing it",
    cleanly(async (defer) => {
      const cwd = workspace(defer, { "vtcode.toml": `[lmstudio]\nmodel = "m"\napi_token = "${TOKEN}"\n` });
      const error = await rejectsWith(
        load({ cwd, env: envOf({}) }),
        "USAGE",
        /:3: \[lmstudio\] api_token is not read from files/,
      );
      assert.ok(!error.message.includes(TOKEN) && !(error.hint ?? "").includes(TOKEN));
      assert.match(error.hint ?? "", /api_token_env/);
    }),
  );

  it(
    "reports TOML syntax errors with the file, the line, the column and a hint",
    cleanly(async (defer) => {
      const cwd = workspace(defer, { "vtcode.toml": '[lmstudio]\nmodel = "m"\n\n[lmstudio]\n' });
      const file = join(cwd, "vtcode.toml");
      const error = await rejectsWith(
        load({ cwd, env: envOf({}) }),
        "USAGE",
        /redefine an already defined table/,
      );
      assert.ok(error.message.startsWith(`${file}:4:2: `), error.message);
      assert.ok(!error.message.includes("\n"), "one line, without the parser's quote of the file");
      assert.ok(
        (error.hint ?? "").startsWith(`Fix the TOML syntax in ${file} at line 4, column 2`),
        error.hint,
      );
    }),
  );

  it(
    "rejects a file that is not UTF-8, naming the line, and accepts a byte-order mark",
    cleanly(async (defer) => {
      const latin1 = new Uint8Array([
        ...new TextEncoder().encode('[lmstudio]\nmodel = "caf'),
        0xe9,
        0x22,
        0x0a,
      ]);
      const cwd = workspace(defer, { "vtcode.toml": latin1 });
      const error = await rejectsWith(
        load({ cwd, env: envOf({}) }),
        "USAGE",
        /vtcode\.toml:2: not valid UTF-8$/,
      );
      assert.match(error.hint ?? "", /UTF-8/);
      const bom = workspace(defer, { "vtcode.toml": '\uFEFF[lmstudio]\nmodel = "café"\n' });
      assert.equal((await load({ cwd: bom, env: envOf({}) })).model, "café");
    }),
  );

  it(
    "accepts TOML 1.1 (newlines and a trailing comma in an inline table)",
    cleanly(async (defer) => {
      const cwd = workspace(defer, { "vtcode.toml": 'lmstudio = {\n  model = "m11",\n}\n' });
      assert.equal((await load({ cwd, env: envOf({}) })).model, "m11");
    }),
  );

  it(
    "refuses a vtcode.toml over 1 MiB without parsing it",
    cleanly(async (defer) => {
      const cwd = workspace(defer, {
        "vtcode.toml": '[lmstudio]\nmodel = "m"\n' + "#".repeat(1 << 20) + "\n",
      });
      const error = await rejectsWith(load({ cwd, env: envOf({}) }), "USAGE", /is larger than 1 MiB/);
      assert.ok(error.hint);
    }),
  );

  it(
    "refuses a directory named vtcode.toml",
    cleanly(async (defer) => {
      const cwd = workspace(defer);
      mkdirSync(join(cwd, "vtcode.toml"));
      const explicit = await rejectsWith(
        load({ cwd, configFile: "vtcode.toml", env: envOf({}) }),
        "USAGE",
        /not found/,
      );
      assert.ok(explicit.hint);
    }),
  );

  it(
    "ignores unknown keys in [lmstudio] and every other table",
    cleanly(async (defer) => {
      const cwd = workspace(defer, {
        "vtcode.toml": '[lmstudio]\nmodel = "m"\nfuture_option = 3\n[tools]\nbase_url = 5\n',
      });
      assert.equal((await load({ cwd, env: envOf({}) })).model, "m");
    }),
  );
});

describe("a configured URL that is not one names where it came from", () => {
  it("ensureReady: LMSTUDIO_URL, the baseUrl option", async () => {
    const fromEnv = await rejectsWith(
      ensureReady({ env: envOf({ LMSTUDIO_URL: "ftp://x" }) }),
      "USAGE",
      /^LMSTUDIO_URL: unsupported URL scheme/,
    );
    assert.ok(fromEnv.hint);
    await rejectsWith(
      ensureReady({ baseUrl: "http://h:1234/v1/chat/completions", env: envOf({}) }),
      "USAGE",
      /^The baseUrl option: the server URL points at an endpoint/,
    );
  });

  it(
    "the CLI: base_url in vtcode.toml, with the file's path",
    cleanly(async (defer) => {
      const dir = workspace(defer, { "vtcode.toml": `[lmstudio]\nbase_url = "localhost:1234"\n` });
      let stdout = "";
      const code = await runCli(["check", "--json"], {
        stdout: (t) => (stdout += t),
        stderr: () => {},
        env: envOf({}),
        cwd: dir,
      });
      assert.equal(code, 2);
      const message: string = JSON.parse(stdout).error.message;
      assert.equal(
        message,
        `The base_url of ${join(dir, "vtcode.toml")}: the server URL has no scheme: localhost:1234`,
      );
    }),
  );
});

describe("resolveConfig: which file is read", () => {
  it(
    "looks in the parent folders up to the one containing .git",
    cleanly(async (defer) => {
      const root = workspace(defer, { "vtcode.toml": '[lmstudio]\nmodel = "root/model"\n' });
      const cwd = join(root, "packages", "app");
      mkdirSync(cwd, { recursive: true });
      const config = await load({ cwd, env: envOf({}) });
      assert.equal(config.model, "root/model");
      assert.equal(config.configFile, join(root, "vtcode.toml"));
    }),
  );

  it(
    "stops at the folder containing .git and does not read files above it",
    cleanly(async (defer) => {
      const outer = workspace(defer, { "vtcode.toml": '[lmstudio]\nmodel = "outside/model"\n' });
      const repo = join(outer, "repo");
      mkdirSync(join(repo, ".git"), { recursive: true });
      mkdirSync(join(repo, "src"));
      const config = await load({ cwd: join(repo, "src"), env: envOf({}) });
      assert.equal(config.model, DEFAULT_MODEL);
      assert.equal(config.configFile, undefined);
    }),
  );

  it(
    "treats a .git file (worktree, submodule) as the repository root too",
    cleanly(async (defer) => {
      const outer = workspace(defer, { "vtcode.toml": '[lmstudio]\nmodel = "outside/model"\n' });
      const repo = join(outer, "worktree");
      mkdirSync(repo);
      writeFileSync(join(repo, ".git"), "gitdir: /elsewhere\n");
      assert.equal((await load({ cwd: repo, env: envOf({}) })).configFile, undefined);
    }),
  );

  it(
    "uses the nearest vtcode.toml, even one without [lmstudio]",
    cleanly(async (defer) => {
      const root = workspace(defer, {
        "vtcode.toml": '[lmstudio]\nmodel = "root/model"\n',
        "sub/vtcode.toml": "[agent]\n",
      });
      const config = await load({ cwd: join(root, "sub"), env: envOf({}) });
      assert.equal(config.configFile, join(root, "sub", "vtcode.toml"));
      assert.equal(config.model, DEFAULT_MODEL);
    }),
  );

  it(
    "reads an explicit configFile, relative to cwd, instead of looking around",
    cleanly(async (defer) => {
      const root = workspace(defer, {
        "vtcode.toml": '[lmstudio]\nmodel = "workspace/model"\n',
        "conf/other.toml": '[lmstudio]\nmodel = "explicit/model"\n',
      });
      const config = await load({ cwd: root, configFile: "conf/other.toml", env: envOf({}) });
      assert.equal(config.model, "explicit/model");
      assert.equal(config.configFile, join(root, "conf", "other.toml"));
    }),
  );

  it(
    "fails when an explicit configFile is missing",
    cleanly(async (defer) => {
      const root = workspace(defer);
      const error = await rejectsWith(
        load({ cwd: root, configFile: "missing.toml", env: envOf({}) }),
        "USAGE",
        /^Config file not found: .*missing\.toml$/,
      );
      assert.ok(error.hint);
    }),
  );

  it(
    "reads no file at all with configFile: false",
    cleanly(async (defer) => {
      const root = workspace(defer, { "vtcode.toml": "this is not TOML\n" });
      const config = await load({ cwd: root, configFile: false, env: envOf({}) });
      assert.equal(config.configFile, undefined);
      assert.equal(config.sources.model, "default");
    }),
  );

  it("works with an injected file system (readFile and exists)", async () => {
    const files: Record<string, string> = { "/w/vtcode.toml": '[lmstudio]\nbase_url = "http://virtual:1"\n' };
    const seen: string[] = [];
    const config = await load({
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

  it("stops at the filesystem root when there is no .git", async () => {
    const seen: string[] = [];
    const config = await load({
      cwd: "/x/y",
      env: envOf({}),
      readFile: (path) => void seen.push(path),
      exists: () => false,
    });
    assert.deepEqual(seen, ["/x/y/vtcode.toml", "/x/vtcode.toml", "/vtcode.toml"]);
    assert.equal(config.configFile, undefined);
  });

  it("turns an unreadable file into a USAGE error", async () => {
    const denied = Object.assign(new Error("EACCES: permission denied, open '/w/vtcode.toml'"), {
      code: "EACCES",
    });
    const error = await rejectsWith(
      load({
        cwd: "/w",
        env: envOf({}),
        readFile: () => {
          throw denied;
        },
        exists: () => true,
      }),
      "USAGE",
      /^Cannot read \/w\/vtcode\.toml: EACCES/,
    );
    assert.match(error.hint ?? "", /readable/);
  });

  it("finds nothing, quietly, when Deno has no read permission; an explicit file says --allow-read", async () => {
    const notCapable = (): never => {
      const error = new Error(
        'Requires read access to "/w/vtcode.toml", run again with the --allow-read flag',
      );
      error.name = "NotCapable";
      throw error;
    };
    const config = await load({ cwd: "/w", env: envOf({}), readFile: notCapable, exists: () => false });
    assert.equal(config.configFile, undefined);
    const error = await rejectsWith(
      load({ cwd: "/w", configFile: "vtcode.toml", env: envOf({}), readFile: notCapable }),
      "USAGE",
      /^Cannot read \/w\/vtcode\.toml/,
    );
    assert.match(error.hint ?? "", /--allow-read/);
  });
});

describe("readVtcodeToml", () => {
  it(
    "returns undefined for a missing file",
    cleanly(async (defer) => {
      const root = workspace(defer);
      assert.equal(await readVtcodeToml(join(root, "vtcode.toml")), undefined);
    }),
  );

  it(
    "returns {} for a file without [lmstudio], and the values of [lmstudio] otherwise",
    cleanly(async (defer) => {
      const root = workspace(defer, { "a.toml": '[agent]\nmodel = "x"\n', "b.toml": FULL_FILE });
      assert.deepEqual(await readVtcodeToml(join(root, "a.toml")), {});
      assert.deepEqual(await readVtcodeToml(join(root, "b.toml")), {
        baseUrl: "http://file-host:1234",
        model: "file/model",
        apiTokenEnv: "MY_LM_TOKEN",
      });
    }),
  );

  it("takes an injected reader", async () => {
    assert.deepEqual(await readVtcodeToml("v.toml", () => "[lmstudio] # ok\nmodel = 'm'\n"), { model: "m" });
  });

  it("names the file it was given in errors", async () => {
    await rejectsWith(
      readVtcodeToml("conf/v.toml", () => "[lmstudio]\nmodel = 1\n"),
      "USAGE",
      /^conf\/v\.toml:2: /,
    );
  });
});

describe("start-up cost: smol-toml loads only when a vtcode.toml exists", {
  skip: detectRuntime().name !== "node" &&
    "module resolve hooks are Node's (the module graph is the same source)",
}, () => {
  it(
    "(Node, resolve hook) resolveConfig without a vtcode.toml never resolves smol-toml; with one it does",
    cleanly(async (defer) => {
      const dir = workspace(defer, {
        "main.mjs": `const { resolveConfig } = await import(${
          JSON.stringify(pathToFileURL(join(ROOT, "src/config.ts")).href)
        });
console.log("imported");
for (const cwd of process.argv.slice(2)) {
  await resolveConfig({ cwd, env: () => undefined, lmstudioSettings: false })
    .then((config) => console.log("resolved " + config.model), (error) => console.log(error.message));
}
`,
      });
      const bare = workspace(defer);
      const withFile = workspace(defer, { "vtcode.toml": '[lmstudio]\nmodel = "file/model"\n' });
      const run = await nodeWithout("smol-toml", dir)([join(dir, "main.mjs"), bare, withFile], {
        HOME: bare,
      });
      const [imported, withoutFile, withOne] = run.stdout.trim().split("\n");
      assert.equal(imported, "imported", "importing the resolver does not resolve smol-toml");
      assert.equal(withoutFile, `resolved ${DEFAULT_MODEL}`, "no vtcode.toml: no smol-toml");
      assert.match(
        withOne!,
        /^smol-toml resolved from .*\/src\/config_files\.ts$/,
        "a vtcode.toml needs smol-toml (the hook works)",
      );
    }),
  );
});

describe("one resolver for the CLI and the library (end to end, against the simulator)", () => {
  const sim = useSimulators();

  /** Runs the CLI in-process with exactly `env`, in `cwd`; returns the exit code and the JSON document. */
  async function cliJson(args: string[], env: Record<string, string>, cwd: string) {
    let stdout = "";
    const code = await runCli([...args, "--json"], {
      stdout: (text) => (stdout += text),
      stderr: () => {},
      env: envOf(env),
      stderrIsTTY: false,
      cwd,
    });
    return { code, json: JSON.parse(stdout) as Record<string, unknown> };
  }

  it(
    "the CLI finds the server on LM Studio's saved port and says so",
    cleanly(async (defer) => {
      const s = await sim({ models: [QWEN] });
      const home = await createFakeLmStudioHome({ simulator: s, networkInterface: "0.0.0.0" });
      defer(() => home.cleanup());
      const cwd = workspace(defer);
      const check = await cliJson(["check"], home.env, cwd);
      assert.equal(check.code, 0);
      assert.deepEqual(check.json, {
        ok: true,
        command: "check",
        baseUrl: `http://127.0.0.1:${s.port}`,
        baseUrlSource: "lmstudio-settings",
        server: { reachable: true, api: "v1" },
      });
      const ensure = await cliJson(["ensure", "--no-load"], { ...home.env, LMSTUDIO_MODEL: QWEN.key }, cwd);
      assert.equal(ensure.code, 0);
      assert.equal(ensure.json.baseUrlSource, "lmstudio-settings");
      assert.equal(ensure.json.model, QWEN.key);
    }),
  );

  it(
    "the CLI's flag, variable and vtcode.toml each win over the saved port, and --json names which",
    cleanly(async (defer) => {
      const saved = await sim({ models: [QWEN] });
      const other = await sim({ models: [QWEN] });
      const home = await createFakeLmStudioHome({ simulator: saved });
      defer(() => home.cleanup());
      const empty = workspace(defer);
      const withFile = workspace(defer, { "vtcode.toml": `[lmstudio]\nbase_url = "${other.url}"\n` });
      const flag = await cliJson(["check", "--url", other.url], home.env, empty);
      assert.deepEqual([flag.json.baseUrl, flag.json.baseUrlSource], [other.url, "option"]);
      const env = await cliJson(["check"], { ...home.env, LMSTUDIO_URL: other.url }, empty);
      assert.deepEqual([env.json.baseUrl, env.json.baseUrlSource], [other.url, "env"]);
      const file = await cliJson(["check"], home.env, withFile);
      assert.deepEqual([file.json.baseUrl, file.json.baseUrlSource], [other.url, "config"]);
      assert.equal(saved.requests.length, 0, "the saved port was never asked");
    }),
  );

  it(
    "a failing check still says where the URL came from; a broken settings file means the default",
    cleanly(async (defer) => {
      const closed = Number(new URL(await closedPortUrl()).port);
      const home = await createFakeLmStudioHome({ port: closed });
      defer(() => home.cleanup());
      const cwd = workspace(defer);
      const refused = await cliJson(["check", "--timeout", "5s"], home.env, cwd);
      assert.equal(refused.code, 3);
      assert.equal(refused.json.baseUrl, `http://127.0.0.1:${closed}`);
      assert.equal(refused.json.baseUrlSource, "lmstudio-settings");
      home.writeSettings("{ not json");
      const broken = await cliJson(["check", "--timeout", "5s"], home.env, cwd);
      assert.equal(broken.json.baseUrl, DEFAULT_BASE_URL);
      assert.equal(broken.json.baseUrlSource, "default");
    }),
  );

  it(
    "ensureReady resolves like the CLI: LMSTUDIO_MODEL and the saved port, reported in baseUrlSource",
    cleanly(async (defer) => {
      const s = await sim({ models: [QWEN] });
      const home = await createFakeLmStudioHome({ simulator: s });
      defer(() => home.cleanup());
      const result = await ensureReady({
        env: envOf({ ...home.env, LMSTUDIO_MODEL: QWEN.key }),
        load: false,
      });
      assert.equal(result.baseUrl, `http://127.0.0.1:${s.port}`);
      assert.equal(result.baseUrlSource, "lmstudio-settings");
      assert.equal(result.model, QWEN.key);
      const explicit = await ensureReady({
        client: new LMStudioClient({ baseUrl: s.url }),
        model: QWEN.key,
        load: false,
      });
      assert.equal(explicit.baseUrlSource, "option");
      const fromEnv = await ensureReady({
        env: envOf({ LMSTUDIO_URL: s.url }),
        model: QWEN.key,
        load: false,
      });
      assert.equal(fromEnv.baseUrlSource, "env");
    }),
  );

  it(
    "the CLI reads the token from the variable api_token_env names, which wins over LM_API_TOKEN",
    cleanly(async (defer) => {
      const s = await sim({ models: [QWEN], auth: { token: TOKEN } });
      const cwd = workspace(defer, { "vtcode.toml": '[lmstudio]\napi_token_env = "MY_LM_TOKEN"\n' });
      // MY_LM_TOKEN holds a wrong token and wins over the right one in LM_API_TOKEN.
      const denied = await cliJson(["check", "--url", s.url], {
        MY_LM_TOKEN: OTHER_TOKEN,
        LM_API_TOKEN: TOKEN,
      }, cwd);
      assert.equal((denied.json.error as { code: string }).code, "AUTH_REQUIRED");
      const allowed = await cliJson(["check", "--url", s.url], { MY_LM_TOKEN: TOKEN }, cwd);
      assert.equal(allowed.code, 0);
      const contract = await cliJson(["check", "--url", s.url], { LM_API_TOKEN: TOKEN }, cwd);
      assert.equal(contract.code, 0, "with MY_LM_TOKEN unset, the contract's LM_API_TOKEN counts");
    }),
  );
});

describe("library messages name options; the CLI shows flags", () => {
  const sim = useSimulators();

  it("a missing token: the library says apiToken, the CLI says --token (stderr and --json)", async () => {
    const s = await sim({ models: [], auth: { token: TOKEN } });
    const client = new LMStudioClient({ baseUrl: s.url, env: envOf({}) });
    let library: LMStudioError | undefined;
    await client.check().catch((error) => (library = error));
    assert.equal(library?.code, "AUTH_REQUIRED");
    assert.match(library.hint ?? "", /set LM_API_TOKEN \(or pass the apiToken option\)/);
    assert.doesNotMatch(`${library.message} ${library.hint}`, /--token/);

    let stdout = "";
    let stderr = "";
    const io = { stdout: (t: string) => (stdout += t), stderr: (t: string) => (stderr += t), env: envOf({}) };
    assert.equal(await runCli(["check", "--url", s.url, "--json"], { ...io, stderrIsTTY: false }), 4);
    const hint = (JSON.parse(stdout).error as { hint: string }).hint;
    assert.match(hint, /set LM_API_TOKEN \(or pass --token\)/);
    assert.match(stderr, /hint: .*set LM_API_TOKEN \(or pass --token\)/);
    assert.doesNotMatch(`${hint} ${stderr}`, /apiToken option/);
  });

  it("a wrong token given as an option is named as such, and as --token in the CLI", async () => {
    const s = await sim({ models: [], auth: { token: TOKEN } });
    const wrong = "sk-lm-Wrong123:Secret0123456789zzzz";
    let library: LMStudioError | undefined;
    await new LMStudioClient({ baseUrl: s.url, apiToken: wrong }).check().catch((error) => (library = error));
    assert.match(`${library?.message} ${library?.hint}`, /the apiToken option/);
    let stdout = "";
    await runCli(["check", "--url", s.url, "--token", wrong, "--json"], {
      stdout: (t) => (stdout += t),
      stderr: () => {},
      env: envOf({}),
    });
    const error = JSON.parse(stdout).error as { message: string; hint: string };
    assert.match(`${error.message} ${error.hint}`, /--token/);
    assert.doesNotMatch(`${error.message} ${error.hint}`, /apiToken option/);
  });

  it(
    "an lms path that does not exist: lmsPath in the library, --lms in the CLI",
    cleanly(async (defer) => {
      const missing = join(workspace(defer), "no-lms");
      let stdout = "";
      await runCli(["which-lms", "--lms", missing, "--json"], {
        stdout: (t) => (stdout += t),
        stderr: () => {},
        env: envOf({}),
      });
      assert.match(
        (JSON.parse(stdout).error as { message: string }).message,
        /^--lms points at .*no-lms, which does not exist/,
      );
      const { findLms } = await import("../src/lms_find.ts");
      assert.throws(
        () => findLms({ path: missing, env: envOf({}) }),
        /The lmsPath option points at .*no-lms, which does not exist/,
      );
    }),
  );
});
