/**
 * LM Studio's `lms` command, wrapped: find it ({@linkcode findLms}: option, `LMSTUDIO_LMS_PATH`,
 * PATH, LM Studio's home folder) and drive it ({@linkcode Lms}: get, load, unload, ps, ls, server
 * start/status, version) with typed errors, deadlines and no child process left behind.
 * `LMStudioClient` uses it on its own where the server has no REST route for a job; import it
 * here when you want `lms` directly.
 *
 * @example
 * ```ts
 * import { findLms, Lms } from "@vtcode/lmstudio/lms";
 *
 * const lms = new Lms(findLms());
 * for (const instance of await lms.ps()) console.log(instance.identifier, instance.contextLength);
 * ```
 *
 * @module
 */
export {
  Lms,
  type LmsDownloadedModel,
  type LmsGetOptions,
  type LmsLoadedInstance,
  type LmsLoadOptions,
  type LmsOptions,
} from "./src/lms.ts";
export {
  type FileSystemProbe,
  findLms,
  type FindLmsOptions,
  type LmsLocation,
  type LmsSource,
} from "./src/lms_find.ts";
