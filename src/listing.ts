/**
 * Listing models and finding the one a name refers to, and what `lms ps` adds where the server's
 * listing cannot tell which instances are loaded.
 *
 * @module
 */
import { type Connection, lmsOf } from "./connection.ts";
import { LISTING_FRESH_MS } from "./detect.ts";
import { LMStudioError } from "./errors.ts";
import { request, serverErrorOf } from "./http.ts";
import type { LmsLoadedInstance } from "./lms.ts";
import { matchModel, type ModelMatchResult } from "./model_match.ts";
import { type ApiFamily, type ModelInfo, MODELS_PATH, parseModelList } from "./models.ts";

/**
 * The server's models, parsed. On LM Studio 0.3 (REST v0) with a model loaded and the server on
 * this machine, the instances are `lms ps`'s when it answers: REST v0 says only that a model is
 * loaded, with one context, not how many instances there are nor whose context that is.
 */
export async function listModels(conn: Connection, signal: AbortSignal): Promise<ModelInfo[]> {
  const { api, models } = await listServerModels(conn, signal);
  return api === "v0" && models.some((m) => m.loaded === true)
    ? await seenByLms(conn, models, signal)
    : models;
}

/** `models` with the instances `lms ps` lists, where it can tell (see {@linkcode loadedByLms}). */
async function seenByLms(conn: Connection, models: ModelInfo[], signal: AbortSignal): Promise<ModelInfo[]> {
  const loaded = await loadedByLms(conn, signal);
  return loaded === undefined ? models : models.map((m) => withLmsInstances(m, loaded));
}

/**
 * The server's own listing, parsed, and the API family it came from; the probe's listing stands in
 * once when it is fresh (one request saved).
 */
export async function listServerModels(
  conn: Connection,
  signal: AbortSignal,
): Promise<{ api: ApiFamily; models: ModelInfo[] }> {
  const detection = await conn.detect(signal);
  const { api, listing } = detection;
  if (listing && Date.now() - listing.at <= LISTING_FRESH_MS) {
    // Reuse the probe's answer once: on the hot path (ensure of a loaded model) that is the only request.
    detection.listing = undefined;
    return { api, models: listing.models };
  }
  const answer = await request(conn.http, "GET", MODELS_PATH[api], { signal });
  const error = serverErrorOf(answer.json);
  if (answer.status !== 200 || error) {
    throw new LMStudioError(
      "INVALID_RESPONSE",
      `Failed to fetch models: HTTP ${answer.status}${error ? ` ${error.message}` : ""}`,
      {
        status: answer.status,
        endpoint: answer.endpoint,
        hint: "Check the LM Studio server log (lms log stream).",
      },
    );
  }
  if (answer.json === undefined) {
    throw new LMStudioError(
      "INVALID_RESPONSE",
      `JSON parse error: the answer to ${answer.endpoint} is not JSON`,
      {
        status: answer.status,
        endpoint: answer.endpoint,
        hint: "Check that the baseUrl option points at LM Studio.",
      },
    );
  }
  return { api, models: await parseModelList(api, answer.json) };
}

/**
 * What `lms ps` says is loaded, where it can say it: the server is on this machine, `lms` is found
 * and answers with its JSON. Else `undefined` (no `lms`, a failing or garbled one), and the caller
 * goes by the server alone: `lms` only adds to what the server says, it is never needed. An abort
 * or the deadline is still thrown.
 */
export async function loadedByLms(
  conn: Connection,
  signal: AbortSignal,
): Promise<LmsLoadedInstance[] | undefined> {
  if (!conn.local) return undefined;
  try {
    // A short deadline of its own: an `lms` that hangs must not use up the caller's, since what it
    // adds is not needed. Only the caller's own abort or deadline is the caller's error.
    return await (await lmsOf(conn)).ps({ signal, timeoutMs: LMS_PS_TIMEOUT_MS });
  } catch (error) {
    if (signal.aborted) throw error;
    return undefined;
  }
}

/** How long `lms ps` may take before it is taken as unable to tell (it answers in well under a second). */
const LMS_PS_TIMEOUT_MS = 2500;

/**
 * `model` with its instances as `lms ps` lists them (matched by model key), each with its own
 * context. Where `lms ps` lists none, the server's word stands; where the server said nothing
 * (OpenAI-only), `lms ps` listing none means none is loaded.
 */
export function withLmsInstances(model: ModelInfo, loaded: readonly LmsLoadedInstance[]): ModelInfo {
  const mine = loaded.filter((i) => i.modelKey === model.id);
  if (mine.length === 0) return model.instances === null ? { ...model, loaded: false, instances: [] } : model;
  return {
    ...model,
    loaded: true,
    instances: mine.map((i) => ({ id: i.identifier, contextLength: i.contextLength ?? null })),
    maxContextLength: model.maxContextLength ?? mine[0].maxContextLength ?? null,
  };
}

/** The listed model a name refers to, or `MODEL_NOT_FOUND` with suggestions. */
export async function requireModel(
  conn: Connection,
  name: string,
  signal: AbortSignal,
  missingHint = `Download it first (\`downloadModel("${name}")\`) or check the name with \`listModels()\`.`,
): Promise<ModelMatchResult> {
  const { api, models } = await listServerModels(conn, signal);
  let match = matchModel(name, models);
  // As listModels(), but `lms ps` is asked only when it matters to this name: its model is loaded,
  // or the name may be an instance (`key:2`) that only `lms ps` lists.
  const mayMatter = match.model ? match.model.loaded === true : models.some((m) => m.loaded === true);
  if (api === "v0" && mayMatter) match = matchModel(name, await seenByLms(conn, models, signal));
  if (match.model) return match;
  const suggestions = match.suggestions.length > 0 ? ` Did you mean: ${match.suggestions.join(", ")}?` : "";
  const what = match.ambiguous ? "matches several models" : "is not downloaded";
  throw new LMStudioError("MODEL_NOT_FOUND", `Model ${name} ${what} on ${conn.baseUrl}.${suggestions}`, {
    hint: match.ambiguous ? "Use the full model id (publisher/name)." : missingHint,
  });
}
