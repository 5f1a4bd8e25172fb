/**
 * The HTTP client's module graph: what importing `src/client.ts` loads before anything runs. The
 * client must import nothing that touches the file system (configuration files, LM Studio's home,
 * `lms` discovery and running): those are imported on first use (`import()`), and file access lives
 * in `runtime_files.ts`, apart from the runtime shim the client needs for the environment.
 *
 * The graph is read from the sources with TypeScript's parser: every top-level `import ... from`
 * and `export ... from` of a relative file is followed; `import()` (loaded on first use) and
 * `import type` / `export type` (erased) are not edges. A failure names the chain of imports that
 * reaches what the client must not load.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { describe, it } from "node:test";
import ts from "typescript";
import { ROOT } from "./_helpers.ts";

/** Source files the client's static graph must not contain (by file name). */
const FORBIDDEN_FILES = [
  "runtime_files.ts",
  "config_files.ts",
  "lms_find.ts",
  "lms.ts",
  "lms_run.ts",
  "server_settings.ts",
  "lmstudio_home.ts",
];

/** Modules the client's static graph must not import (a subpath such as `dax/x` counts too). */
const FORBIDDEN_MODULES = ["node:fs", "node:path", "smol-toml", "dax"];

/** The specifiers of the static, non-type imports and re-exports of a TypeScript source. */
function staticImports(text: string, fileName = "module.ts"): string[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const specifiers: string[] = [];
  for (const statement of source.statements) {
    if (ts.isImportDeclaration(statement)) {
      if (statement.importClause?.isTypeOnly) continue;
      if (ts.isStringLiteral(statement.moduleSpecifier)) specifiers.push(statement.moduleSpecifier.text);
    } else if (ts.isExportDeclaration(statement)) {
      if (statement.isTypeOnly || !statement.moduleSpecifier) continue;
      if (ts.isStringLiteral(statement.moduleSpecifier)) specifiers.push(statement.moduleSpecifier.text);
    }
  }
  return specifiers;
}

/** One module reached from the entry: a file of this repository or an external specifier. */
interface Reached {
  /** A path relative to the repository root (`src/config.ts`), or the specifier (`node:fs`). */
  id: string;
  /** The imports that lead to it, entry first, itself last. */
  chain: string[];
}

/**
 * Walks the static import graph from `entry` (a path relative to the repository root), breadth
 * first, so each chain is a shortest one. Relative specifiers are followed; others are leaves.
 */
function staticGraph(entry: string): Reached[] {
  const reached = new Map<string, string[]>([[entry, [entry]]]);
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.shift()!;
    const chain = reached.get(file)!;
    const text = readFileSync(join(ROOT, file), "utf8");
    for (const specifier of staticImports(text, file)) {
      const relativeFile = specifier.startsWith("./") || specifier.startsWith("../");
      const id = relativeFile
        ? relative(ROOT, resolve(ROOT, dirname(file), specifier)).split("\\").join("/")
        : specifier;
      if (reached.has(id)) continue;
      reached.set(id, [...chain, id]);
      if (relativeFile) {
        assert.ok(
          existsSync(join(ROOT, id)),
          `${chain.join(" -> ")} imports ${specifier}, which is not there`,
        );
        queue.push(id);
      }
    }
  }
  return [...reached].map(([id, chain]) => ({ id, chain }));
}

/** The modules of `graph` that `forbidden` names, each with the chain that reaches it. */
function offences(graph: Reached[]): string[] {
  return graph.filter(({ id }) =>
    id.endsWith(".ts")
      ? FORBIDDEN_FILES.includes(basename(id))
      : FORBIDDEN_MODULES.some((name) => id === name || id.startsWith(`${name}/`))
  ).map(({ chain }) => chain.join(" -> "));
}

describe("the HTTP client's static module graph", () => {
  it("reads static imports and re-exports, not import(), import type or export type", () => {
    const text = `/**
 * import { inComment } from "./comment.ts";
 */
import { a, type B } from "./a.ts";
import type { C } from "./c.ts";
import * as d from "./d.ts";
import "./e.ts";
export { f } from "./f.ts";
export * from "./g.ts";
export type { H } from "./h.ts";
const later = () => import("./later.ts");
const text = \`import { x } from "./in_string.ts";\`;
`;
    assert.deepEqual(staticImports(text), ["./a.ts", "./d.ts", "./e.ts", "./f.ts", "./g.ts"]);
  });

  it("is walked: the client reaches the runtime shim and the configuration merge", () => {
    const ids = staticGraph("src/client.ts").map(({ id }) => id);
    for (const file of ["src/client.ts", "src/runtime.ts", "src/config.ts"]) {
      assert.ok(ids.includes(file), `${file} is in the client's graph (${ids.join(", ")})`);
    }
  });

  it("contains no file access: no runtime_files, config files, LM Studio home, lms, node:fs, node:path, smol-toml or dax", () => {
    const found = offences(staticGraph("src/client.ts"));
    assert.deepEqual(
      found,
      [],
      `src/client.ts statically imports what touches the file system:\n${found.join("\n")}`,
    );
  });

  it("the runtime shim imports nothing, so the file access apart from it stays apart", () => {
    assert.deepEqual(staticGraph("src/runtime.ts").map(({ chain }) => chain.join(" -> ")), [
      "src/runtime.ts",
    ]);
  });
});
