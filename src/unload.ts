/**
 * Unloading: a model's instances, one instance by id, or everything. The same name rules on every
 * server: an unknown model is `MODEL_NOT_FOUND`, a known one that is not loaded is "nothing to unload".
 *
 * @module
 */
import { type Connection, lmsOf } from "./connection.ts";
import { isLMStudioError, LMStudioError } from "./errors.ts";
import { notAnObject, request, serverErrorOf } from "./http.ts";
import { isObject } from "./json.ts";
import { listModels, requireModel } from "./listing.ts";

/** What an unload did. */
export interface UnloadResult {
  /** Instance ids that were unloaded. */
  unloaded: string[];
}

/** Unloads `target`: a model name (all its instances, or the one instance a `key:N` names), or all. */
export async function unloadModel(
  conn: Connection,
  target: string | { all: true },
  signal: AbortSignal,
): Promise<UnloadResult> {
  const api = (await conn.detect(signal)).api;
  const match = typeof target === "string"
    ? await requireModel(
      conn,
      target,
      signal,
      "Nothing by that name is on the server: check the name with `listModels()`, which lists loaded instances too.",
    )
    : undefined;
  if (api !== "v1") {
    await conn.forgetListing();
    conn.requireLocal("unload", api);
    const lms = await lmsOf(conn);
    const loaded = await lms.ps({ signal });
    if (!match) {
      await lms.unload({ all: true }, { signal });
      return { unloaded: loaded.map((i) => i.identifier) };
    }
    const ids = loaded
      .filter((i) => match.instanceId ? i.identifier === match.instanceId : i.modelKey === match.model!.id)
      .map((i) => i.identifier);
    for (const id of ids) await lms.unload(id, { signal });
    return { unloaded: ids };
  }
  const ids = match
    ? (match.instanceId ? [match.instanceId] : (match.model!.instances ?? []).map((i) => i.id))
    : (await listModels(conn, signal)).flatMap((m) => (m.instances ?? []).map((i) => i.id));
  await conn.forgetListing();
  for (const id of ids) await unloadInstance(conn, id, signal);
  return { unloaded: ids };
}

/**
 * Unloads instances by id, over REST v1 when the server has it, else with `lms` (this machine only),
 * to replace them. An instance that is already gone (unloaded by someone else since the listing) is
 * what the replace wanted, not an error.
 */
export async function unloadInstances(
  conn: Connection,
  ids: readonly string[],
  signal: AbortSignal,
): Promise<void> {
  const api = (await conn.detect(signal)).api;
  await conn.forgetListing();
  if (api === "v1") {
    for (const id of ids) await unloadInstance(conn, id, signal, { goneIsUnloaded: true });
    return;
  }
  conn.requireLocal("unload", api);
  const lms = await lmsOf(conn);
  for (const id of ids) {
    try {
      await lms.unload(id, { signal });
    } catch (error) {
      // `lms` says MODEL_NOT_FOUND when `lms ps` no longer lists the instance: it is gone already.
      if (!isLMStudioError(error, "MODEL_NOT_FOUND")) throw error;
    }
  }
}

/**
 * One REST v1 unload. LM Studio answers `{"instance_id": ...}`; anything else does not say it unloaded.
 * With `goneIsUnloaded`, an instance the server no longer has (HTTP 404, "No loaded model instance")
 * counts as unloaded.
 */
export async function unloadInstance(
  conn: Connection,
  id: string,
  signal: AbortSignal,
  { goneIsUnloaded = false }: { goneIsUnloaded?: boolean } = {},
): Promise<void> {
  const answer = await request(conn.http, "POST", "/api/v1/models/unload", {
    body: { instance_id: id },
    signal,
  });
  const error = serverErrorOf(answer.json);
  if (error || answer.status >= 300) {
    const gone = answer.status === 404 || /no loaded model instance/i.test(error?.message ?? "");
    if (gone && goneIsUnloaded) return;
    throw new LMStudioError(
      "INTERNAL",
      `Failed to unload ${id}: ${error?.message ?? `HTTP ${answer.status}`}`,
      {
        status: answer.status,
        endpoint: answer.endpoint,
        hint: "Check LM Studio's server log (lms log stream).",
      },
    );
  }
  if (!isObject(answer.json)) throw notAnObject(answer);
}
