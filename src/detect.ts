/**
 * API detection: which of LM Studio's API families a server speaks (REST v1, else REST v0, else
 * OpenAI `/v1/models`), decided from the bodies of the answers, and whether it is LM Studio at all.
 *
 * @module
 */
import { LMStudioError } from "./errors.ts";
import { type HttpAnswer, type HttpTarget, isUnknownRouteAnswer, request, serverErrorOf } from "./http.ts";
import { isObject, isObjectWith } from "./json.ts";
import { type ApiFamily, looksLikeModelList, type ModelInfo, MODELS_PATH, parseModelList } from "./models.ts";
import { showValue } from "./text.ts";

/** What a probe found: the API family, and the listing that answered it (reused once if still fresh). */
export interface Detection {
  api: ApiFamily;
  listing?: { models: ModelInfo[]; at: number };
}

/** How long the probe's listing may stand in for a fresh one. */
export const LISTING_FRESH_MS = 1000;

/**
 * Probes the model endpoints in order. The listing that answers is parsed in full: a server whose
 * listing is malformed is not "ready", whichever command asked.
 */
export async function probeServer(http: HttpTarget, signal: AbortSignal): Promise<Detection> {
  const notes: string[] = [];
  let lmStudioFingerprint = false;
  let unknownRoutes = 0;
  // Asked at most once, and only when an answer leaves it open.
  let greeting: Promise<boolean> | undefined;
  const isLmStudio = () => (greeting ??= greets(http, signal));
  for (const api of ["v1", "v0", "openai"] as const) {
    const answer = await request(http, "GET", MODELS_PATH[api], { signal });
    const listed = answer.status === 200 && looksLikeModelList(api, answer.json);
    const unknownRoute = isUnknownRouteAnswer(answer.json);
    // Neither a listing nor LM Studio's "Unexpected endpoint": an API that is there but fails (a 5xx,
    // a 429, a 200 with an error or with something else), or another server's answer.
    const failing = !listed && !unknownRoute;
    const error = serverErrorOf(answer.json);
    // LM Studio's own REST v1 listing in a shape it does not use, whoever sent it: the schema says
    // which field is wrong (a throw) rather than probing on.
    if (failing && !error && answer.status === 200 && api === "v1" && isObjectWith(answer.json, "models")) {
      await parseModelList(api, answer.json);
    }
    // A failing LM Studio is not one without that API (LM Studio answers 200 "Unexpected endpoint"
    // for an API it lacks, other servers 404): probing on would take LM Studio 0.4 for 0.3, or 0.3 for
    // an OpenAI-only server, and the client would keep that verdict. Only when it says it is LM Studio:
    // anything else that fails (a proxy whose backend is down) is probed on, as any server.
    if (api !== "openai" && failing && (lmStudioFingerprint || await isLmStudio())) {
      throw new LMStudioError(
        "INVALID_RESPONSE",
        error || answer.status !== 200
          ? `${answer.endpoint} at ${http.baseUrl} failed: HTTP ${answer.status}${
            error ? ` ${error.message.slice(0, 200)}` : ""
          }`
          : `${answer.endpoint} at ${http.baseUrl} answered HTTP 200 with something that is not a model listing: ${
            answer.json === undefined ? "(not JSON)" : showValue(answer.json)
          }`,
        {
          hint:
            "Check the LM Studio server log (`lms log stream`) and retry; restart the server if it persists.",
          endpoint: answer.endpoint,
          status: answer.status,
        },
      );
    }
    if (listed) {
      if (api === "openai" && !lmStudioFingerprint && !(await isLmStudio())) {
        throw new LMStudioError(
          "NOT_LMSTUDIO",
          `Something answers at ${http.baseUrl}, but it is not LM Studio (it speaks the OpenAI API only and ` +
            `does not answer /lmstudio-greeting)`,
          {
            hint:
              "Another server (Ollama? llama.cpp?) is on that port: point the baseUrl option at LM Studio's port (default 1234).",
            endpoint: answer.endpoint,
          },
        );
      }
      return { api, listing: { models: await parseModelList(api, answer.json), at: Date.now() } };
    }
    if (unknownRoute) {
      lmStudioFingerprint = true;
      unknownRoutes++;
    }
    notes.push(probeNote(answer));
    if (
      api === "openai" && answer.status === 200 && answer.json !== undefined &&
      serverErrorOf(answer.json) === undefined &&
      (lmStudioFingerprint || isObjectWith(answer.json, "object"))
    ) {
      throw new LMStudioError(
        "INVALID_RESPONSE",
        `No 'data' array in response from GET /v1/models at ${http.baseUrl}`,
        {
          hint:
            "The server answered in a shape LM Studio does not use: check the baseUrl option and the LM Studio version.",
          endpoint: answer.endpoint,
          status: answer.status,
        },
      );
    }
  }
  // No listing worked: LM Studio may still say that it is LM Studio (a broken server, not another).
  if (lmStudioFingerprint || await isLmStudio()) {
    // Every listing "Unexpected endpoint": LM Studio is there, but not under this path.
    const wrongPath = unknownRoutes === 3 && new URL(http.baseUrl).pathname !== "/";
    throw new LMStudioError(
      "INVALID_RESPONSE",
      `LM Studio at ${http.baseUrl} answered, but none of its model endpoints worked (${notes.join("; ")})`,
      {
        hint: wrongPath
          ? `LM Studio has no endpoints under ${
            new URL(http.baseUrl).pathname
          }: point the baseUrl option at the server's address without that path.`
          : "Restart the LM Studio server (`lms server stop && lms server start`) and retry.",
      },
    );
  }
  throw new LMStudioError(
    "NOT_LMSTUDIO",
    `Something answers at ${http.baseUrl}, but it is not LM Studio (${notes.join("; ")})`,
    {
      hint: "Point the baseUrl option / LMSTUDIO_URL at LM Studio's server (default http://localhost:1234).",
    },
  );
}

/** LM Studio answers `/lmstudio-greeting` with `{"lmstudio": true}`; other OpenAI-compatible servers do not. */
async function greets(http: HttpTarget, signal: AbortSignal): Promise<boolean> {
  try {
    const answer = await request(http, "GET", "/lmstudio-greeting", { signal, maxBytes: 64 * 1024 });
    return answer.status === 200 && isObject(answer.json) && answer.json.lmstudio === true;
  } catch (error) {
    if (error instanceof LMStudioError && (error.code === "TIMEOUT" || error.code === "INTERRUPTED")) {
      throw error;
    }
    return false;
  }
}

function probeNote(answer: HttpAnswer): string {
  const error = serverErrorOf(answer.json);
  if (error) return `${answer.endpoint} → HTTP ${answer.status} ${error.message.slice(0, 80)}`;
  const kind = answer.json === undefined
    ? (answer.text.trim() === "" ? "empty body" : "not JSON")
    : "unexpected JSON";
  return `${answer.endpoint} → HTTP ${answer.status} (${kind})`;
}
