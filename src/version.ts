/**
 * The package version. Kept equal to `deno.json`'s `version` (the one manifest) by
 * `tests/manifest.test.ts`; `scripts/build_npm.ts` writes it into the npm package.json.
 *
 * @module
 */

/** This package's version. */
export const VERSION = "0.1.0";
