import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type FileSystemProbe, findLms, type FindLmsOptions, nodeFileSystemProbe } from "../src/lms_find.ts";
import { LMStudioError } from "../src/errors.ts";
import { cleanly, envOf } from "./_helpers.ts";

/** An in-memory file system: executables, plain files, directories and text files. */
function memoryFs(
  spec: { exec?: string[]; plain?: string[]; dirs?: string[]; text?: Record<string, string> },
): {
  fs: FileSystemProbe;
  probed: string[];
} {
  const exec = new Set(spec.exec ?? []);
  const plain = new Set(spec.plain ?? []);
  const dirs = new Set(spec.dirs ?? []);
  const text = spec.text ?? {};
  const probed: string[] = [];
  return {
    probed,
    fs: {
      isFile: (p) => {
        probed.push(p);
        return exec.has(p) || plain.has(p) || p in text;
      },
      isExecutable: (p) => exec.has(p),
      readText: (p) => text[p],
      isDirectory: (p) => dirs.has(p),
    },
  };
}

function notFound(options: FindLmsOptions): LMStudioError {
  try {
    findLms(options);
  } catch (error) {
    assert.ok(error instanceof LMStudioError);
    assert.equal(error.code, "LMS_NOT_FOUND");
    return error;
  }
  assert.fail("expected LMS_NOT_FOUND");
}

const linux = { platform: "linux", home: "/home/ada" } as const;

describe("findLms on Linux and macOS", () => {
  it("uses the explicit path option first, even when lms is also on PATH", () => {
    const { fs } = memoryFs({ exec: ["/opt/lms/lms", "/usr/bin/lms"] });
    const found = findLms({ ...linux, fs, path: "/opt/lms/lms", env: envOf({ PATH: "/usr/bin" }) });
    assert.deepEqual(found, { path: "/opt/lms/lms", source: "option" });
  });

  it("uses LMSTUDIO_LMS_PATH before PATH", () => {
    const { fs } = memoryFs({ exec: ["/srv/lms", "/usr/bin/lms"] });
    const found = findLms({ ...linux, fs, env: envOf({ LMSTUDIO_LMS_PATH: "/srv/lms", PATH: "/usr/bin" }) });
    assert.deepEqual(found, { path: "/srv/lms", source: "env" });
  });

  it("fails loudly when LMSTUDIO_LMS_PATH points at a missing file instead of falling back", () => {
    const { fs } = memoryFs({ exec: ["/usr/bin/lms"] });
    const error = notFound({
      ...linux,
      fs,
      env: envOf({ LMSTUDIO_LMS_PATH: "/nope/lms", PATH: "/usr/bin" }),
    });
    assert.match(error.message, /LMSTUDIO_LMS_PATH points at \/nope\/lms, which does not exist/);
    assert.match(error.hint ?? "", /LMSTUDIO_LMS_PATH/);
  });

  it("fails loudly when LMSTUDIO_LMS_PATH points at a file that is not executable", () => {
    const { fs } = memoryFs({ plain: ["/srv/lms"], exec: ["/usr/bin/lms"] });
    const error = notFound({ ...linux, fs, env: envOf({ LMSTUDIO_LMS_PATH: "/srv/lms", PATH: "/usr/bin" }) });
    assert.match(error.message, /is not executable/);
    assert.match(error.hint ?? "", /chmod \+x \/srv\/lms/);
  });

  it("fails loudly when the path option points at a directory", () => {
    const { fs } = memoryFs({ dirs: ["/opt/lms"] });
    const error = notFound({ ...linux, fs, path: "/opt/lms", env: envOf({}) });
    assert.match(error.message, /The lmsPath option points at \/opt\/lms, which is a directory/);
  });

  it("ignores an empty LMSTUDIO_LMS_PATH", () => {
    const { fs } = memoryFs({ exec: ["/usr/bin/lms"] });
    const found = findLms({ ...linux, fs, env: envOf({ LMSTUDIO_LMS_PATH: " ", PATH: "/usr/bin" }) });
    assert.equal(found.source, "PATH");
  });

  it("finds lms on PATH, in PATH order, and returns the absolute path", () => {
    const { fs } = memoryFs({ exec: ["/usr/local/bin/lms", "/usr/bin/lms"] });
    const found = findLms({ ...linux, fs, env: envOf({ PATH: "/bin:/usr/local/bin:/usr/bin" }) });
    assert.deepEqual(found, { path: "/usr/local/bin/lms", source: "PATH" });
  });

  it("never looks in the current directory: empty and relative PATH entries are skipped", () => {
    const { fs, probed } = memoryFs({ exec: ["lms", "./lms", "bin/lms", "/usr/bin/lms"] });
    const found = findLms({ ...linux, fs, env: envOf({ PATH: ":.:bin::./x:/usr/bin:" }) });
    assert.deepEqual(found, { path: "/usr/bin/lms", source: "PATH" });
    assert.deepEqual(probed, ["/usr/bin/lms"], "no relative candidate was even probed");
  });

  it("skips an lms on PATH that is not executable, and finds the next one", () => {
    const { fs } = memoryFs({ plain: ["/a/lms"], exec: ["/b/lms"] });
    const found = findLms({ ...linux, fs, env: envOf({ PATH: "/a:/b" }) });
    assert.deepEqual(found, { path: "/b/lms", source: "PATH" });
  });

  it("follows ~/.lmstudio-home-pointer (trimming its trailing newline)", () => {
    const { fs } = memoryFs({
      text: { "/home/ada/.lmstudio-home-pointer": "/data/lmstudio\n" },
      exec: ["/data/lmstudio/bin/lms", "/home/ada/.lmstudio/bin/lms"],
    });
    const found = findLms({ ...linux, fs, env: envOf({ PATH: "/usr/bin" }) });
    assert.deepEqual(found, { path: "/data/lmstudio/bin/lms", source: "home-pointer" });
  });

  it("uses the legacy ~/.cache/lm-studio install", () => {
    const { fs } = memoryFs({
      dirs: ["/home/ada/.cache/lm-studio"],
      exec: ["/home/ada/.cache/lm-studio/bin/lms"],
    });
    const found = findLms({ ...linux, fs, env: envOf({}) });
    assert.deepEqual(found, { path: "/home/ada/.cache/lm-studio/bin/lms", source: "legacy-cache" });
  });

  it("uses the default ~/.lmstudio install", () => {
    const { fs } = memoryFs({ exec: ["/home/ada/.lmstudio/bin/lms"] });
    const found = findLms({ ...linux, fs, env: envOf({ PATH: "/usr/bin" }) });
    assert.deepEqual(found, { path: "/home/ada/.lmstudio/bin/lms", source: "default-home" });
  });

  it("falls back past a stale home pointer to the other homes", () => {
    const { fs } = memoryFs({
      text: { "/home/ada/.lmstudio-home-pointer": "/gone\n" },
      exec: ["/home/ada/.lmstudio/bin/lms"],
    });
    assert.equal(findLms({ ...linux, fs, env: envOf({}) }).source, "default-home");
  });

  it("prefers PATH over the home installs", () => {
    const { fs } = memoryFs({ exec: ["/usr/bin/lms", "/home/ada/.lmstudio/bin/lms"] });
    assert.equal(findLms({ ...linux, fs, env: envOf({ PATH: "/usr/bin" }) }).source, "PATH");
  });

  it("takes the home from $HOME when no home option is given", () => {
    const { fs } = memoryFs({ exec: ["/users/bob/.lmstudio/bin/lms"] });
    const found = findLms({ platform: "darwin", fs, env: envOf({ HOME: "/users/bob" }) });
    assert.equal(found.path, "/users/bob/.lmstudio/bin/lms");
  });

  it("reports every place it looked, and the install hint, when lms is nowhere", () => {
    const error = notFound({
      ...linux,
      fs: memoryFs({ text: { "/home/ada/.lmstudio-home-pointer": "/data/lms-home" } }).fs,
      env: envOf({ PATH: "/usr/bin:/bin" }),
    });
    assert.match(error.message, /LMSTUDIO_LMS_PATH \(unset\)/);
    assert.match(error.message, /PATH \(2 absolute directories\)/);
    assert.match(error.message, /\/data\/lms-home\/bin\/lms/);
    assert.match(error.message, /\/home\/ada\/\.cache\/lm-studio\/bin\/lms/);
    assert.match(error.message, /\/home\/ada\/\.lmstudio\/bin\/lms/);
    assert.match(error.hint ?? "", /https:\/\/lmstudio\.ai\/download/);
    assert.match(error.hint ?? "", /lms bootstrap/);
    assert.match(error.hint ?? "", /LMSTUDIO_LMS_PATH/);
  });

  it("names an lms it found but could not execute", () => {
    const { fs } = memoryFs({ plain: ["/home/ada/.lmstudio/bin/lms"] });
    const error = notFound({ ...linux, fs, env: envOf({}) });
    assert.match(error.message, /Found but not executable \(skipped\): \/home\/ada\/\.lmstudio\/bin\/lms/);
  });
});

describe("findLms on Windows", () => {
  const win = { platform: "win32" } as const;

  it("finds lms.exe on PATH using PATHEXT", () => {
    const { fs } = memoryFs({ exec: ["C:\\Tools\\lms.exe"] });
    const found = findLms({
      ...win,
      fs,
      env: envOf({
        PATH: "C:\\Windows;C:\\Tools",
        PATHEXT: ".COM;.EXE;.BAT;.CMD",
        USERPROFILE: "C:\\Users\\ada",
      }),
    });
    assert.deepEqual(found, { path: "C:\\Tools\\lms.exe", source: "PATH" });
  });

  it("finds an lms.cmd shim, honouring the PATHEXT order and a quoted entry", () => {
    const { fs } = memoryFs({ exec: ["C:\\Program Files\\npm\\lms.cmd", "C:\\Program Files\\npm\\lms.bat"] });
    const found = findLms({
      ...win,
      fs,
      env: envOf({ Path: '"C:\\Program Files\\npm"', PATHEXT: ".CMD;.BAT;.JS" }),
      home: "C:\\Users\\ada",
    });
    assert.deepEqual(found, { path: "C:\\Program Files\\npm\\lms.cmd", source: "PATH" });
  });

  it("uses the default PATHEXT when it is unset and never tries .js or extensionless files", () => {
    const { fs, probed } = memoryFs({ exec: ["D:\\bin\\lms.bat"] });
    const found = findLms({
      ...win,
      fs,
      env: envOf({ PATH: "D:\\bin", PATHEXT: ".JS;.EXE;.BAT" }),
      home: "C:\\U",
    });
    assert.equal(found.path, "D:\\bin\\lms.bat");
    assert.deepEqual(probed, ["D:\\bin\\lms.exe", "D:\\bin\\lms.bat"]);
    const unset = memoryFs({ exec: ["D:\\bin\\lms.cmd"] });
    assert.equal(
      findLms({ ...win, fs: unset.fs, env: envOf({ PATH: "D:\\bin" }), home: "C:\\U" }).path,
      "D:\\bin\\lms.cmd",
    );
  });

  it("skips relative and drive-relative PATH entries", () => {
    const { fs, probed } = memoryFs({ exec: ["C:\\ok\\lms.exe"] });
    findLms({
      ...win,
      fs,
      env: envOf({ PATH: ".;bin;\\rooted;C:rel;;C:\\ok", PATHEXT: ".EXE" }),
      home: "C:\\U",
    });
    assert.deepEqual(probed, ["C:\\ok\\lms.exe"]);
  });

  it("finds %USERPROFILE%\\.lmstudio\\bin\\lms.exe", () => {
    const { fs } = memoryFs({ exec: ["C:\\Users\\ada\\.lmstudio\\bin\\lms.exe"] });
    const found = findLms({ ...win, fs, env: envOf({ USERPROFILE: "C:\\Users\\ada", PATH: "C:\\Windows" }) });
    assert.deepEqual(found, { path: "C:\\Users\\ada\\.lmstudio\\bin\\lms.exe", source: "default-home" });
  });

  it("finds the per-user installer's %USERPROFILE%\\.cache\\lm-studio\\bin\\lms.exe", () => {
    const { fs } = memoryFs({ exec: ["C:\\Users\\ada\\.cache\\lm-studio\\bin\\lms.exe"] });
    const found = findLms({ ...win, fs, env: envOf({ USERPROFILE: "C:\\Users\\ada" }) });
    assert.deepEqual(found, {
      path: "C:\\Users\\ada\\.cache\\lm-studio\\bin\\lms.exe",
      source: "legacy-cache",
    });
  });

  it("follows the home pointer with Windows joins and a CRLF", () => {
    const { fs } = memoryFs({
      text: { "C:\\Users\\ada\\.lmstudio-home-pointer": "E:\\LMStudio\r\n" },
      exec: ["E:\\LMStudio\\bin\\lms.exe"],
    });
    const found = findLms({ ...win, fs, env: envOf({ USERPROFILE: "C:\\Users\\ada" }) });
    assert.deepEqual(found, { path: "E:\\LMStudio\\bin\\lms.exe", source: "home-pointer" });
  });

  it("reports Windows paths when lms is nowhere", () => {
    const error = notFound({ ...win, fs: memoryFs({}).fs, env: envOf({ USERPROFILE: "C:\\Users\\ada" }) });
    assert.match(error.message, /C:\\Users\\ada\\\.lmstudio\\bin\\lms\.exe/);
    assert.match(error.message, /C:\\Users\\ada\\\.cache\\lm-studio\\bin\\lms\.exe/);
  });
});

describe("findLms on the real file system", () => {
  it(
    "checks existence and the execute bit of real files",
    cleanly((defer) => {
      const dir = mkdtempSync(join(tmpdir(), "lms-find-"));
      defer(() => rmSync(dir, { recursive: true, force: true }));
      const home = join(dir, "home");
      const bin = join(home, ".lmstudio", "bin");
      const plainBin = join(dir, "plain");
      mkdirSync(bin, { recursive: true });
      mkdirSync(plainBin);
      writeFileSync(join(plainBin, "lms"), "#!/bin/sh\n");
      chmodSync(join(plainBin, "lms"), 0o644);
      writeFileSync(join(bin, "lms"), "#!/bin/sh\n");
      chmodSync(join(bin, "lms"), 0o755);

      const found = findLms({
        platform: "linux",
        home,
        env: envOf({ PATH: plainBin }),
        fs: nodeFileSystemProbe,
      });
      assert.deepEqual(found, { path: join(bin, "lms"), source: "default-home" });

      if (process.platform !== "win32") {
        // Mode 0644 has no execute bit at all, so access(X_OK) fails even for root.
        const error = notFound({ platform: "linux", path: join(plainBin, "lms") });
        assert.match(error.message, /is not executable/);
      }
      assert.equal(nodeFileSystemProbe.isDirectory(bin), true);
      assert.equal(nodeFileSystemProbe.isFile(bin), false);
      assert.equal(nodeFileSystemProbe.readText(join(dir, "missing")), undefined);
    }),
  );
});
