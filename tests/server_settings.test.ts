/**
 * LM Studio's home and its saved server settings, on the real file system of a temp folder: every
 * file that cannot give a URL gives `undefined` (never a throw, never a hang), and a good one gives
 * the URL LM Studio's server is on.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as nodeFs from "node:fs";
import nodePath, { join } from "node:path";
import { pathToFileURL } from "node:url";
import {
  findLmStudioHome,
  homeLookup,
  lmStudioHomeCandidates,
  SMALL_FILE_MAX_BYTES,
  userHomeDir,
} from "../src/lmstudio_home.ts";
import { readServerSettings, serverUrlFromSettings } from "../src/server_settings.ts";
import { answeredLater, fileAccess, nodeFileAccess, pathRules, posixPath } from "../src/runtime_files.ts";
import { cleanly, type Defer, denoWithoutNode, ROOT } from "./_helpers.ts";

/** A temp user home, removed after the test. */
function userHome(defer: Defer): string {
  const home = realpathSync(mkdtempSync(join(tmpdir(), "vtcode-home-")));
  defer(() => rmSync(home, { recursive: true, force: true }));
  return home;
}

/** Writes `<home>/.lmstudio/.internal/http-server-config.json` and returns its path. */
function writeSettings(home: string, contents: string | Uint8Array): string {
  const dir = join(home, ".lmstudio", ".internal");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "http-server-config.json");
  writeFileSync(file, contents);
  return file;
}

const noEnv = () => undefined;

async function urlIn(home: string): Promise<string | undefined> {
  return (await readServerSettings({ home, env: noEnv }))?.baseUrl;
}

describe("LM Studio home discovery", () => {
  it(
    "follows ~/.lmstudio-home-pointer (trimmed), even to a folder that does not exist yet",
    cleanly(async (defer) => {
      const home = userHome(defer);
      mkdirSync(join(home, ".cache", "lm-studio"), { recursive: true });
      writeFileSync(join(home, ".lmstudio-home-pointer"), "/data/lm studio\n");
      assert.deepEqual(await findLmStudioHome({ home, platform: "linux" }), {
        path: "/data/lm studio",
        source: "home-pointer",
      });
    }),
  );

  it(
    "uses the legacy ~/.cache/lm-studio when it exists, else ~/.lmstudio",
    cleanly(async (defer) => {
      const home = userHome(defer);
      assert.deepEqual(await findLmStudioHome({ home }), {
        path: join(home, ".lmstudio"),
        source: "default-home",
      });
      mkdirSync(join(home, ".cache", "lm-studio"), { recursive: true });
      assert.deepEqual(await findLmStudioHome({ home }), {
        path: join(home, ".cache", "lm-studio"),
        source: "legacy-cache",
      });
    }),
  );

  it(
    "ignores a relative or empty pointer (it would depend on the current folder)",
    cleanly(async (defer) => {
      const home = userHome(defer);
      writeFileSync(join(home, ".lmstudio-home-pointer"), "lmstudio\n");
      assert.equal((await findLmStudioHome({ home }))?.source, "default-home");
      writeFileSync(join(home, ".lmstudio-home-pointer"), " \n");
      assert.equal((await findLmStudioHome({ home }))?.source, "default-home");
    }),
  );

  it("lists every candidate home for lms discovery, pointer first, with Windows path rules for win32", async () => {
    const fs = {
      readText: (p: string) => (p === "C:\\Users\\ada\\.lmstudio-home-pointer" ? "D:\\LM\r\n" : undefined),
      isDirectory: () => false,
    };
    const lookup = await homeLookup({ platform: "win32", home: "C:\\Users\\ada", fs });
    assert.equal(lookup.path, nodePath.win32);
    assert.deepEqual(await lmStudioHomeCandidates(lookup), [
      { path: "D:\\LM", source: "home-pointer" },
      { path: "C:\\Users\\ada\\.cache\\lm-studio", source: "legacy-cache" },
      { path: "C:\\Users\\ada\\.lmstudio", source: "default-home" },
    ]);
  });

  it("takes %USERPROFILE% on Windows and $HOME elsewhere; none known means no home", async () => {
    const env = (name: string) =>
      ({ USERPROFILE: "C:\\Users\\ada", HOME: "/home/ada" } as Record<string, string>)[name];
    assert.equal(userHomeDir({ platform: "win32", env }), "C:\\Users\\ada");
    assert.equal(userHomeDir({ platform: "linux", env }), "/home/ada");
    assert.equal(userHomeDir({ home: "" }), undefined);
    assert.deepEqual(await lmStudioHomeCandidates(await homeLookup({ home: "" })), []);
    assert.equal(await findLmStudioHome({ home: "" }), undefined);
  });
});

describe("serverUrlFromSettings", () => {
  const cases: Array<[unknown, string | undefined]> = [
    [{ port: 41234 }, "http://127.0.0.1:41234"],
    [{ port: 1234, networkInterface: "0.0.0.0" }, "http://127.0.0.1:1234"],
    [{ port: 1234, networkInterface: "::" }, "http://127.0.0.1:1234"],
    [{ port: 1234, networkInterface: "[::]" }, "http://127.0.0.1:1234"],
    [{ port: 1234, networkInterface: "" }, "http://127.0.0.1:1234"],
    [{ port: 1234, networkInterface: null }, "http://127.0.0.1:1234"],
    [{ port: 1234, networkInterface: "127.0.0.1" }, "http://127.0.0.1:1234"],
    [{ port: 1234, networkInterface: "localhost" }, "http://localhost:1234"],
    [{ port: 1234, networkInterface: "192.168.1.20" }, "http://192.168.1.20:1234"],
    [{ port: 1234, networkInterface: "::1" }, "http://[::1]:1234"],
    [{ port: 1234, networkInterface: "[fe80::1]" }, "http://[fe80::1]:1234"],
    [{ port: 1234, networkInterface: "GPU-Box.local" }, "http://gpu-box.local:1234"],
    [{ port: 65535, cors: true, justInTimeModelLoading: true }, "http://127.0.0.1:65535"],
    [{ port: 1 }, "http://127.0.0.1:1"],
    // Not usable:
    [null, undefined],
    [[{ port: 1234 }], undefined],
    [1234, undefined],
    ["port=1234", undefined],
    [{}, undefined],
    [{ port: "1234" }, undefined],
    [{ port: 1234.5 }, undefined],
    [{ port: 0 }, undefined],
    [{ port: -1 }, undefined],
    [{ port: 65536 }, undefined],
    [{ port: Number.NaN }, undefined],
    [{ port: true }, undefined],
    [{ port: 1234, networkInterface: 42 }, undefined],
    [{ port: 1234, networkInterface: ["0.0.0.0"] }, undefined],
    [{ port: 1234, networkInterface: "evil.example/x" }, undefined],
    [{ port: 1234, networkInterface: "user@host" }, undefined],
    [{ port: 1234, networkInterface: "a b" }, undefined],
    [{ port: 1234, networkInterface: "fe80::1%eth0" }, undefined],
    [{ port: 1234, networkInterface: "1.2.3.4.5" }, undefined],
  ];
  for (const [settings, expected] of cases) {
    it(`${JSON.stringify(settings)} → ${expected ?? "undefined"}`, () => {
      assert.equal(serverUrlFromSettings(settings), expected);
    });
  }
});

describe("readServerSettings", () => {
  it(
    "reads the port and interface from <LM Studio home>/.internal/http-server-config.json",
    cleanly(async (defer) => {
      const home = userHome(defer);
      const file = writeSettings(
        home,
        JSON.stringify({ port: 41234, networkInterface: "0.0.0.0", cors: false }),
      );
      assert.deepEqual(await readServerSettings({ home, env: noEnv }), {
        baseUrl: "http://127.0.0.1:41234",
        port: 41234,
        networkInterface: "0.0.0.0",
        file,
        home: { path: join(home, ".lmstudio"), source: "default-home" },
      });
    }),
  );

  it(
    "reads it in the home the pointer names",
    cleanly(async (defer) => {
      const home = userHome(defer);
      const lmHome = join(home, "elsewhere");
      mkdirSync(join(lmHome, ".internal"), { recursive: true });
      writeFileSync(join(lmHome, ".internal", "http-server-config.json"), '{"port":5555}');
      writeFileSync(join(home, ".lmstudio-home-pointer"), `${lmHome}\n`);
      writeSettings(home, '{"port":1111}'); // ~/.lmstudio is not LM Studio's home while a pointer exists
      assert.equal(await urlIn(home), "http://127.0.0.1:5555");
    }),
  );

  it(
    "accepts a UTF-8 byte-order mark and a file of exactly 64 KiB",
    cleanly(async (defer) => {
      const home = userHome(defer);
      writeSettings(home, `\uFEFF{"port":2345}`);
      assert.equal(await urlIn(home), "http://127.0.0.1:2345");
      const body = '{"port":3456}';
      writeSettings(home, body + " ".repeat(SMALL_FILE_MAX_BYTES - body.length));
      assert.equal(await urlIn(home), "http://127.0.0.1:3456");
    }),
  );

  const bad: Array<[string, string | Uint8Array]> = [
    ["malformed JSON", '{"port": 1234'],
    ["an empty file", ""],
    ["JSON that is not an object", "[1234]"],
    ["JSON null", "null"],
    ["a port that is a string", '{"port":"1234"}'],
    ["a port out of range", '{"port":70000}'],
    ["a port of 0", '{"port":0}'],
    ["a fractional port", '{"port":12.5}'],
    ["no port", '{"networkInterface":"0.0.0.0"}'],
    ["an interface that is not a string", '{"port":1234,"networkInterface":1}'],
    ["invalid UTF-8", new Uint8Array([0x7b, 0x22, 0x70, 0xff, 0x22, 0x3a, 0x31, 0x7d])],
    [
      "a file one byte over 64 KiB (otherwise valid)",
      '{"port":4567}' + " ".repeat(SMALL_FILE_MAX_BYTES - 12),
    ],
    ["a 1 MiB file", `{"port":4567,"x":"${"a".repeat(1 << 20)}"}`],
    ["JSON nested 100 000 deep", `{"port":1234,"x":${"[".repeat(100_000)}${"]".repeat(100_000)}}`],
  ];
  for (const [what, contents] of bad) {
    it(
      `gives undefined, quietly, for ${what}`,
      cleanly(async (defer) => {
        const home = userHome(defer);
        writeSettings(home, contents);
        assert.equal(await urlIn(home), undefined);
      }),
    );
  }

  it(
    "gives undefined when the file, the home or the user home is missing",
    cleanly(async (defer) => {
      const home = userHome(defer);
      assert.equal(await urlIn(home), undefined);
      mkdirSync(join(home, ".lmstudio", ".internal"), { recursive: true });
      assert.equal(await urlIn(home), undefined);
      assert.equal(await readServerSettings({ home: "" }), undefined);
      writeFileSync(join(home, ".lmstudio-home-pointer"), join(home, "gone"));
      writeSettings(home, '{"port":1111}');
      assert.equal(await urlIn(home), undefined);
    }),
  );

  it(
    "gives undefined for a directory in place of the file",
    cleanly(async (defer) => {
      const home = userHome(defer);
      mkdirSync(join(home, ".lmstudio", ".internal", "http-server-config.json"), { recursive: true });
      assert.equal(await urlIn(home), undefined);
    }),
  );

  it(
    "gives undefined for a symlink loop, and follows a good symlink",
    cleanly(async (defer) => {
      const home = userHome(defer);
      const dir = join(home, ".lmstudio", ".internal");
      mkdirSync(dir, { recursive: true });
      const file = join(dir, "http-server-config.json");
      symlinkSync(join(dir, "loop-b"), file);
      symlinkSync(file, join(dir, "loop-b"));
      assert.equal(await urlIn(home), undefined);
      rmSync(file);
      writeFileSync(join(dir, "real.json"), '{"port":6789}');
      symlinkSync(join(dir, "real.json"), file);
      assert.equal(await urlIn(home), "http://127.0.0.1:6789");
    }),
  );

  it(
    "gives undefined for a FIFO in place of the file, without blocking on it",
    cleanly(async (defer) => {
      const home = userHome(defer);
      const dir = join(home, ".lmstudio", ".internal");
      mkdirSync(dir, { recursive: true });
      const made = spawnSync("mkfifo", [join(dir, "http-server-config.json")]);
      if (made.status !== 0) return; // no mkfifo (Windows): nothing to test here
      assert.equal(await urlIn(home), undefined);
    }),
  );

  const root = process.getuid?.() === 0;
  it(
    "gives undefined for a file without read permission",
    {
      skip: root
        ? "root reads files whatever their mode"
        : process.platform === "win32"
        ? "no mode bits"
        : false,
    },
    cleanly(async (defer) => {
      const home = userHome(defer);
      const file = writeSettings(home, '{"port":1234}');
      chmodSync(file, 0o000);
      assert.equal(await urlIn(home), undefined);
      chmodSync(file, 0o644);
      assert.equal(await urlIn(home), "http://127.0.0.1:1234");
    }),
  );

  it(
    "gives undefined when the probe cannot read the file, or throws",
    cleanly(async (defer) => {
      const home = userHome(defer);
      const file = writeSettings(home, '{"port":1234}');
      const denied = { readText: () => undefined, isDirectory: () => false };
      assert.equal(await readServerSettings({ home, fs: denied }), undefined);
      const throwing = {
        readText: (): string => {
          throw Object.assign(new Error(`EACCES: permission denied, open '${file}'`), { code: "EACCES" });
        },
        isDirectory: () => false,
      };
      assert.equal(await readServerSettings({ home, fs: throwing }), undefined);
    }),
  );
});

describe("file access of the home lookup (runtime_files.ts's, and the node:fs one lms discovery uses)", () => {
  // On Bun runtime_files.ts's is Bun.file, on Deno Deno.*, on Node node:fs: the same answers everywhere.
  const accesses = [
    ["fileAccess()", () => fileAccess()],
    ["nodeFileAccess(node:fs)", () => Promise.resolve(answeredLater(nodeFileAccess(nodeFs, nodePath)))],
  ] as const;
  for (const [name, make] of accesses) {
    it(
      `${name}: reads a small file, refuses a large one, says nothing for a missing one, a folder or a FIFO`,
      cleanly(async (defer) => {
        const files = await make();
        const home = userHome(defer);
        writeFileSync(join(home, "small"), "abc");
        writeFileSync(join(home, "empty"), "");
        writeFileSync(join(home, "large"), "x".repeat(11));
        symlinkSync(join(home, "small"), join(home, "link"));
        assert.deepEqual([...(await files.readFile(join(home, "small"), 10))!], [97, 98, 99]);
        assert.deepEqual([...(await files.readFile(join(home, "link"), 10))!], [97, 98, 99]);
        assert.deepEqual([...(await files.readFile(join(home, "empty"), 10))!], []);
        await assert.rejects(files.readFile(join(home, "large"), 10), RangeError);
        assert.equal(await files.readFile(join(home, "missing"), 10), undefined);
        assert.equal(await files.readFile(join(home, "small", "below-a-file"), 10), undefined);
        assert.equal(await files.readFile(home, 10), undefined);
        assert.equal(await files.isDirectory(home), true);
        assert.equal(await files.isDirectory(join(home, "small")), false);
        assert.equal(await files.isDirectory(join(home, "missing")), false);
        for (const there of ["small", "empty", "large", "link", ""]) {
          assert.equal(await files.exists(join(home, there)), true, there);
        }
        assert.equal(await files.exists(join(home, "missing")), false);
        assert.equal(await files.exists(join(home, "small", "below-a-file")), false);
        if (process.platform !== "win32") {
          // A FIFO with no writer: opening it would block for ever.
          execFileSync("mkfifo", [join(home, "fifo")]);
          assert.equal(await files.readFile(join(home, "fifo"), 10), undefined);
          assert.equal(await files.isDirectory(join(home, "fifo")), false);
          assert.equal(await files.exists(join(home, "fifo")), true);
        }
      }),
    );

    it(
      `${name}: a symlink loop is an error to read, and neither a folder nor there`,
      cleanly(async (defer) => {
        const files = await make();
        const home = userHome(defer);
        symlinkSync(join(home, "loop-b"), join(home, "loop-a"));
        symlinkSync(join(home, "loop-a"), join(home, "loop-b"));
        await assert.rejects(files.readFile(join(home, "loop-a"), 10), /loop|ELOOP|symbolic links/i);
        assert.equal(await files.isDirectory(join(home, "loop-a")), false);
        assert.equal(await files.exists(join(home, "loop-a")), false);
      }),
    );
  }
});

describe("path rules of the home lookup", () => {
  it("POSIX rules equal node:path.posix on every combination of up to three tricky segments", () => {
    const atoms = ["", "/", "//", ".", "..", "a", "b/", "/a", "a/b", "../a", "./", "a/..", "x//y", "..."];
    const lists: string[][] = [[]];
    for (let length = 1; length <= 3; length++) {
      for (const list of lists.filter((l) => l.length === length - 1)) {
        for (const atom of atoms) lists.push([...list, atom]);
      }
    }
    let compared = 0;
    for (const segments of lists) {
      const path = segments.join("");
      assert.equal(
        posixPath.resolve(...segments),
        nodePath.posix.resolve(...segments),
        `resolve ${segments}`,
      );
      assert.equal(posixPath.join(...segments), nodePath.posix.join(...segments), `join ${segments}`);
      assert.equal(posixPath.dirname(path), nodePath.posix.dirname(path), `dirname ${path}`);
      assert.equal(posixPath.isAbsolute(path), nodePath.posix.isAbsolute(path), `isAbsolute ${path}`);
      compared++;
    }
    assert.equal(compared, 1 + 14 + 14 ** 2 + 14 ** 3);
  });

  it("gives the POSIX rules for every platform but win32, and node:path.win32 for win32", async () => {
    assert.equal(await pathRules("linux"), posixPath);
    assert.equal(await pathRules("darwin"), posixPath);
    assert.equal(await pathRules("win32"), nodePath.win32);
  });

  it("reads the saved settings at the Windows path for win32", async () => {
    const wanted = "C:\\Users\\ada\\.lmstudio\\.internal\\http-server-config.json";
    const read: string[] = [];
    const fs = {
      readText: (p: string) => {
        read.push(p);
        return p === wanted ? '{"port":4444}' : undefined;
      },
      isDirectory: () => false,
    };
    const saved = await readServerSettings({ platform: "win32", home: "C:\\Users\\ada", fs });
    assert.equal(saved?.baseUrl, "http://127.0.0.1:4444");
    assert.equal(saved?.file, wanted);
    assert.deepEqual(read, ["C:\\Users\\ada\\.lmstudio-home-pointer", wanted]);
  });
});

describe("readServerSettings on Deno without permissions", () => {
  const deno = join(ROOT, "node_modules", ".bin", process.platform === "win32" ? "deno.cmd" : "deno");
  // A tiny script in the temp home (Deno loads its main module and imports without --allow-read).
  const probe = (home: string): string => {
    const script = join(home, "probe.ts");
    const module = pathToFileURL(join(ROOT, "src", "server_settings.ts")).href;
    writeFileSync(
      script,
      `import { readServerSettings } from ${JSON.stringify(module)};\n` +
        `const home = Deno.args[0] === "" ? undefined : Deno.args[0];\n` +
        `console.log(JSON.stringify({ baseUrl: (await readServerSettings({ home }))?.baseUrl ?? null }));\n`,
    );
    return script;
  };
  const run = (flags: string[], home: string, withHome: boolean) => {
    const args = [
      "run",
      "--quiet",
      "--no-prompt",
      "--no-config",
      ...flags,
      probe(home),
      withHome ? home : "",
    ];
    const result = spawnSync(deno, args, {
      encoding: "utf8",
      env: { ...process.env, HOME: home, USERPROFILE: home, NO_COLOR: "1" },
      timeout: 30_000,
    });
    assert.equal(result.status, 0, `deno ${flags.join(" ")} failed: ${result.stderr}`);
    return JSON.parse(result.stdout.trim()) as { baseUrl: string | null };
  };

  it(
    "finds the saved URL with read and env permission (the control case)",
    cleanly((defer) => {
      const home = userHome(defer);
      writeSettings(home, '{"port":4321}');
      assert.deepEqual(run(["--allow-read", "--allow-env"], home, false), {
        baseUrl: "http://127.0.0.1:4321",
      });
    }),
  );

  it(
    "gives undefined, without a crash, with --allow-env but no --allow-read",
    cleanly((defer) => {
      const home = userHome(defer);
      writeSettings(home, '{"port":4321}');
      assert.deepEqual(run(["--allow-env"], home, false), { baseUrl: null });
      assert.deepEqual(run(["--allow-env"], home, true), { baseUrl: null });
    }),
  );

  it(
    "gives undefined, without a crash, with --allow-read but no --allow-env (the home is unknown)",
    cleanly((defer) => {
      const home = userHome(defer);
      writeSettings(home, '{"port":4321}');
      assert.deepEqual(run(["--allow-read"], home, false), { baseUrl: null });
      // Told the home explicitly, it needs no environment at all.
      assert.deepEqual(run(["--allow-read"], home, true), { baseUrl: "http://127.0.0.1:4321" });
    }),
  );

  it(
    "gives undefined, without a crash, with no permission at all",
    cleanly((defer) => {
      const home = userHome(defer);
      writeSettings(home, '{"port":4321}');
      assert.deepEqual(run([], home, true), { baseUrl: null });
    }),
  );
});

describe("on Deno, the saved port costs no Node compatibility layer", () => {
  it(
    "resolveConfig takes the URL from LM Studio's settings (pointer, vtcode.toml lookup and all) without either",
    { skip: process.platform === "win32" ? "Deno on Windows reads files through node:fs" : false },
    cleanly(async (defer) => {
      const home = userHome(defer);
      writeSettings(home, '{"port":4321,"networkInterface":"0.0.0.0"}');
      writeFileSync(join(home, ".lmstudio-home-pointer"), join(home, ".lmstudio"));
      const config = pathToFileURL(join(ROOT, "src", "config.ts")).href;
      const run = await denoWithoutNode(
        home,
        `const { resolveConfig } = await import(${JSON.stringify(config)});\n` +
          `const resolved = await resolveConfig({ cwd: Deno.cwd() });\n` +
          `console.log(JSON.stringify({ baseUrl: resolved.baseUrl, source: resolved.sources.baseUrl }));\n`,
      );
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(JSON.parse(run.stdout.trim()), {
        baseUrl: "http://127.0.0.1:4321",
        source: "lmstudio-settings",
      });
      assert.equal(run.touched, false, "process was touched");
    }),
  );
});
