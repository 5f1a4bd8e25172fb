/**
 * Builds the npm package from the Deno sources with `tsc` for the types and esbuild for the
 * bundled JavaScript (dnt is JSR-only and unreachable here, and `deno pack` writes no `bin` and
 * embeds build-machine paths in source maps), then packs it.
 *
 *   node --import tsx scripts/build_npm.ts      → dist/package/ and dist/vtcode-lmstudio-<version>.tgz
 *
 * The published package.json is generated: name, version and exports from deno.json (the one
 * manifest), dependencies from the root package.json. It prints the tarball path last.
 */
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join, resolve } from "node:path";
import { build } from "esbuild";

const root = resolve(import.meta.dirname, "..");
const out = join(root, "dist", "package");
const deno = JSON.parse(readFileSync(join(root, "deno.json"), "utf8"));
const dev = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const CLI_ENTRY = "./cli.ts";

rmSync(join(root, "dist"), { recursive: true, force: true });
execFileSync(process.execPath, [
  join(root, "node_modules", "typescript", "bin", "tsc"),
  "-p",
  "tsconfig.build.json",
], {
  cwd: root,
  stdio: "inherit",
});

// tsc keeps ".ts" in declaration re-exports; harmless for TS ≥ 5, but clean files are nicer.
function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}
for (const file of walk(out).filter((f) => f.endsWith(".d.ts"))) {
  const text = readFileSync(file, "utf8");
  writeFileSync(file, text.replace(/(from\s+["']\.{1,2}\/[^"']+)\.ts(["'])/g, "$1.js$2"));
}

// The JavaScript is bundled: one file per entry point plus shared chunks, instead of tsc's one
// module per source file. On Node 20 each ES module costs ~0.7 ms to resolve, load and link, so
// importing the package (21 modules) took ~20 ms more than an empty script; bundled, ~6 ms. The
// code is what tsx runs in the tests (esbuild strips the types the same way). The types stay tsc's
// per-file .d.ts; zod, dax and the node: builtins stay imports (zod and dax only dynamic ones).
// The library entries share chunks; the CLI is built apart, below.
const entries = Object.values(deno.exports as Record<string, string>).filter((file) => file !== CLI_ENTRY);
await build({
  entryPoints: entries.map((file) => join(root, file)),
  outdir: out,
  outbase: root,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "es2022",
  external: Object.keys(dev.dependencies),
  chunkNames: "chunks/[name]-[hash]",
  logLevel: "warning",
});
for (const file of walk(join(out, "src")).filter((f) => f.endsWith(".js"))) rmSync(file);

// The CLI is a small entry and three self-contained programs, each loaded only when the one before
// cannot finish the run. The quick check (cli.ts → src/cli_quick.ts: the one configuration
// resolver, one request, the frame's output; ~24 KB) answers `--version` and a plain `check` that
// succeeds; `cli_check.js` runs `check` in the CLI frame (src/cli_check.ts: --help, usage errors,
// every failure with its hint), and `cli_full.js` every other command (src/cli_main.ts). Each has
// its own copy of what it uses, so no object crosses from one file to the other (the quick check
// hands over plain data). One module per run instead of a file and its chunks: measured with
// scripts/bench.ts, medians of 21, chunks cost Bun 1-1.4 ms and Deno 3-4 ms; on Bun, a file costs
// ~1.3 ms per 85 KB to load even when its code never runs, and each function run for the first
// time costs more in JavaScriptCore's interpreter, hence a quick path of a few small functions in a
// small file. Their `import()`s of their own modules (the config readers, `lms` and its discovery)
// become calls into code that runs on first use; only zod, dax, smol-toml and node: builtins stay
// imports. The sources have no static `node:` import (one would be hoisted to the top of the file
// and run at start-up: on Deno, ~20 ms of Node compatibility layer).
const cliBuild = {
  bundle: true,
  splitting: false,
  format: "esm",
  platform: "node",
  target: "es2022",
  external: Object.keys(dev.dependencies),
  logLevel: "warning",
} as const;
/** Built apart, then compiled into the package by `bun build` (below). */
const bunSource = join(root, "dist", "bun");
/** What the quick check hands a run it cannot finish to. */
const QUICK_NEXT = { source: "src/cli_check.ts", file: "./cli_check.js" } as const;
/** The CLI's programs: each source, where it is built, its module format, and the program it imports. */
const CLI_PROGRAMS = [
  { source: CLI_ENTRY, outfile: join(out, "cli_quick.js"), format: "esm", next: QUICK_NEXT },
  // The quick check again, as CommonJS for Bun's bytecode; not shipped as such.
  { source: CLI_ENTRY, outfile: join(bunSource, "cli_bun.js"), format: "cjs", next: QUICK_NEXT },
  {
    source: "src/cli_check.ts",
    outfile: join(out, "cli_check.js"),
    format: "esm",
    next: { source: "src/cli_main.ts", file: "./cli_full.js" },
  },
  { source: "src/cli_main.ts", outfile: join(out, "cli_full.js"), format: "esm" },
] as const;
for (const program of CLI_PROGRAMS) {
  const next = "next" in program ? program.next : undefined;
  await build({
    ...cliBuild,
    format: program.format,
    entryPoints: [join(root, program.source)],
    outfile: program.outfile,
    plugins: next === undefined ? [] : [{
      name: "next-program-apart",
      setup(build) {
        build.onResolve({ filter: /\.ts$/ }, (args) => {
          if (resolve(args.resolveDir, args.path) !== join(root, next.source)) return undefined;
          if (args.kind !== "dynamic-import") {
            throw new Error(`${args.importer} imports ${next.source} statically`);
          }
          return { path: next.file, external: true };
        });
      },
    }],
  });
}
// On Bun the quick check runs from compiled bytecode: Bun compiles esbuild's CommonJS file (the
// code stays esbuild's; Bun adds its module wrapper) and writes JavaScriptCore's bytecode beside it
// (cli_bun.js.jsc), which spares each run the parsing and first compiling of every function it
// calls. Measured on Bun 1.4.5 (scripts/bench.ts, three runs of 31): `check` went from 1.30–1.33×
// a bare fetch to 1.19–1.22× (README, Performance). Bun ESM bytecode needs `--compile`, hence CommonJS. A
// Bun whose JavaScriptCore cannot use the file (Bun 1.3.0: tried) ignores it and parses the
// source, as it does when the .jsc is missing or damaged (tried: truncated, random bytes).
execFileSync(join(root, "node_modules", ".bin", "bun"), [
  "build",
  "--bytecode",
  "--format=cjs",
  "--target=bun",
  "--packages=external",
  "--external",
  QUICK_NEXT.file,
  "--outdir",
  out,
  "cli_bun.js",
], { cwd: bunSource, stdio: ["ignore", "ignore", "inherit"] });
rmSync(bunSource, { recursive: true, force: true });
// The bin: Bun takes the bytecode program (through `import.meta.require`, as `@bun` files are not
// transpiled); Node and Deno the ES module. One tiny module more per run (~0.3 ms on Bun).
writeFileSync(
  join(out, "cli.js"),
  [
    "#!/usr/bin/env node",
    "// @bun",
    "// The vtcode-lmstudio command: on Bun, the quick check compiled to bytecode (cli_bun.js and",
    "// cli_bun.js.jsc); on Node and Deno, the same program as an ES module (cli_quick.js).",
    'if (globalThis.Bun) import.meta.require("./cli_bun.js");',
    'else import("./cli_quick.js");',
    "",
  ].join("\n"),
);
const SHIPPED_PROGRAMS = ["cli_quick.js", "cli_bun.js", "cli_check.js", "cli_full.js"];
for (const file of ["cli_bun.js", "cli_bun.js.jsc"]) {
  if (!existsSync(join(out, file))) throw new Error(`bun build wrote no ${file}`);
}
if (!readFileSync(join(out, "cli_bun.js"), "utf8").includes("// @bun @bytecode @bun-cjs")) {
  throw new Error("cli_bun.js lacks Bun's bytecode pragma");
}
// A static import of a builtin would run at every start-up of the CLI: refuse to ship one.
for (const file of SHIPPED_PROGRAMS) {
  const text = readFileSync(join(out, file), "utf8");
  const staticBuiltins = text.match(/^import [^;]*?from\s*"node:[^"]+";|\brequire\("node:[^"]+"\)/gm);
  if (staticBuiltins) {
    throw new Error(
      `${file} imports builtins at start-up (make them lazy in src/): ${staticBuiltins.join(" ")}`,
    );
  }
}
// What the quick check and `check` must not carry (each would cost every run its load).
const QUICK_MUST_NOT_CARRY = [
  "class Lms ",
  "function parseCliArgs(",
  "function createReporter(",
  "function parseModelList(",
];
const MUST_NOT_CARRY: Record<string, string[]> = {
  "cli_quick.js": QUICK_MUST_NOT_CARRY,
  "cli_bun.js": QUICK_MUST_NOT_CARRY,
  "cli_check.js": ["class Lms "],
};
for (const [file, marks] of Object.entries(MUST_NOT_CARRY)) {
  const text = readFileSync(join(out, file), "utf8");
  for (const mark of marks) {
    if (text.includes(mark)) {
      throw new Error(`${file} (${text.length} bytes) carries ${JSON.stringify(mark)}`);
    }
  }
}

const exportsMap: Record<string, { types: string; default: string }> = {};
for (const [key, source] of Object.entries(deno.exports as Record<string, string>)) {
  const base = source.replace(/\.ts$/, "");
  exportsMap[key] = { types: `${base}.d.ts`, default: `${base}.js` };
}
const manifest = {
  name: deno.name,
  version: deno.version,
  description: "Make a local LM Studio ready for coding agents and scripts, on Deno, Bun and Node.",
  license: deno.license,
  type: "module",
  main: "./mod.js",
  types: "./mod.d.ts",
  exports: exportsMap,
  bin: { "vtcode-lmstudio": "./cli.js" },
  engines: { node: ">=20.16" }, // process.getBuiltinModule: node:os without an import (start-up)
  keywords: ["lmstudio", "lms", "llm", "local", "readiness", "cli", "deno", "bun"],
  dependencies: dev.dependencies,
};
writeFileSync(join(out, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
for (const file of ["README.md", "LICENSE"]) copyFileSync(join(root, file), join(out, file));
chmodSync(join(out, "cli.js"), 0o755);

const packed = execFileSync("npm", ["pack", "--silent", "--pack-destination", join(root, "dist")], {
  cwd: out,
  encoding: "utf8",
}).trim().split("\n").pop()!;
console.log(join(root, "dist", packed));
