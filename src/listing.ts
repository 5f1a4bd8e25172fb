/**
 * Listing models and finding the one a name refers to.
 *
 * @module
 */
import type { Connection } from "./connection.ts";
import { LISTING_FRESH_MS } from "./detect.ts";
import { LMStudioError } from "./errors.ts";
import { request, serverErrorOf } from "./http.ts";
import { matchModel, type ModelMatchResult } from "./model_match.ts";
import { type ModelInfo, MODELS_PATH, parseModelList } from "./models.ts";

/** The server's models, parsed; the probe's listing stands in once when it is fresh (one request saved). */
export async function listModels(conn: Connection, signal: AbortSignal): Promise<ModelInfo[]> {
  const detection = await conn.detect(signal);
  const listing = detection.listing;
  if (listing && Date.now() - listing.at <= LISTING_FRESH_MS) {
    // Reuse the probe's answer once: on the hot path (ensure of a loaded model) that is the only request.
    detection.listing = undefined;
    return listing.models;
  }
  const answer = await request(conn.http, "GET", MODELS_PATH[detection.api], { signal });
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
  return await parseModelList(detection.api, answer.json);
}

/** The listed model a name refers to, or `MODEL_NOT_FOUND` with suggestions. */
export async function requireModel(
  conn: Connection,
  name: string,
  signal: AbortSignal,
): Promise<ModelMatchResult> {
  const match = matchModel(name, await listModels(conn, signal));
  if (match.model) return match;
  const suggestions = match.suggestions.length > 0 ? ` Did you mean: ${match.suggestions.join(", ")}?` : "";
  const what = match.ambiguous ? "matches several models" : "is not downloaded";
  throw new LMStudioError("MODEL_NOT_FOUND", `Model ${name} ${what} on ${conn.baseUrl}.${suggestions}`, {
    hint: match.ambiguous
      ? "Use the full model id (publisher/name)."
      : `Download it first (\`downloadModel("${name}")\`) or check the name with \`listModels()\`.`,
  });
}
