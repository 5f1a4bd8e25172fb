/**
 * Finding the model a user means in a listing: exact id first, then tolerant forms of the same
 * model (case, publisher prefix, `@quant` variant, `:N` instance suffix). It never swaps to a
 * different model: anything else yields no match plus "did you mean" suggestions.
 *
 * @module
 */
import type { ModelInfo, ModelInstance } from "./models.ts";

/** How a name matched. */
export type MatchKind = "exact" | "instance" | "variant" | "case" | "publisher";

/** Which model a name means, as `LMStudioClient.findModel()` answers it. */
export interface ModelMatchResult {
  /** The model meant, if exactly one fits. */
  model?: ModelInfo;
  /** How it matched. */
  kind?: MatchKind;
  /** The instance id when the name named an instance (`key:2`). */
  instanceId?: string;
  /**
   * The instance itself when the name named one (`key:2`): the very entry of `model.instances`,
   * so its `contextLength` is that instance's, not another's of the same model.
   */
  instance?: ModelInstance;
  /** The variant when the name named one (`key@q4_k_m`). */
  variant?: string;
  /** Several models fit equally well (e.g. the same name from two publishers). */
  ambiguous?: ModelInfo[];
  /** Close names, best first, when nothing matched. */
  suggestions: string[];
}

function baseName(id: string): string {
  const slash = id.lastIndexOf("/");
  return slash === -1 ? id : id.slice(slash + 1);
}

function publisherOf(id: string): string | undefined {
  const slash = id.indexOf("/");
  return slash === -1 ? undefined : id.slice(0, slash);
}

function splitVariant(name: string): { base: string; quant?: string } {
  const at = name.lastIndexOf("@");
  return at > 0 ? { base: name.slice(0, at), quant: name.slice(at + 1) } : { base: name };
}

function splitInstance(name: string): { base: string; n?: number } {
  const match = /^(.*):(\d+)$/.exec(name);
  return match ? { base: match[1], n: Number(match[2]) } : { base: name };
}

/** Edit distance, for suggestions only. */
function distance(a: string, b: string): number {
  if (a === b) return 0;
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length];
}

/**
 * Suggests up to three ids close to `name` (by edit distance of the names without publisher, or by
 * containment), best first.
 *
 * @example
 * ```ts
 * import { suggestModels } from "./model_match.ts";
 * suggestModels("gpt-oss-2b", ["openai/gpt-oss-20b", "qwen/qwen3-4b"]); // ["openai/gpt-oss-20b"]
 * ```
 */
export function suggestModels(name: string, ids: readonly string[]): string[] {
  const wanted = baseName(splitVariant(splitInstance(name).base).base).toLowerCase();
  if (wanted === "") return [];
  const scored = ids.map((id) => {
    const candidate = baseName(id).toLowerCase();
    let score = distance(wanted, candidate);
    if (candidate.includes(wanted) || wanted.includes(candidate)) score = Math.min(score, 1);
    return { id, score };
  });
  const limit = Math.max(2, Math.floor(wanted.length / 3));
  return scored.filter((s) => s.score <= limit).sort((a, b) => a.score - b.score || a.id.localeCompare(b.id))
    .slice(0, 3).map((s) => s.id);
}

function candidatesByName(
  name: string,
  models: readonly ModelInfo[],
): { models: ModelInfo[]; kind: MatchKind } {
  const exact = models.filter((m) => m.id === name);
  if (exact.length > 0) return { models: exact, kind: "exact" };
  const lower = name.toLowerCase();
  const caseOnly = models.filter((m) => m.id.toLowerCase() === lower);
  if (caseOnly.length > 0) return { models: caseOnly, kind: "case" };
  // With or without the publisher: only the same name, and a given publisher must agree.
  const wantedPublisher = publisherOf(lower);
  const wantedBase = baseName(lower);
  const samePublisherRule = models.filter((m) => {
    if (baseName(m.id).toLowerCase() !== wantedBase) return false;
    const modelPublisher = (publisherOf(m.id) ?? m.publisher ?? undefined)?.toLowerCase();
    if (wantedPublisher === undefined) return true;
    return modelPublisher === wantedPublisher;
  });
  return { models: samePublisherRule, kind: "publisher" };
}

/**
 * Finds the model a name refers to.
 *
 * @example
 * ```ts
 * import { matchModel } from "./model_match.ts";
 * import { type ModelInfo } from "@vtcode/lmstudio";
 * declare const models: ModelInfo[];
 * const result = matchModel("gpt-oss-20b", models);
 * if (result.model) console.log("use", result.model.id);
 * else console.log("did you mean", result.suggestions.join(", "));
 * ```
 */
export function matchModel(name: string, models: readonly ModelInfo[]): ModelMatchResult {
  const ids = models.map((m) => m.id);
  const trimmed = name.trim();
  // 1. Exact model id, or an exact loaded-instance id (`key:2`).
  const exact = models.find((m) => m.id === trimmed);
  if (exact) return { model: exact, kind: "exact", suggestions: [] };
  for (const m of models) {
    const instance = m.instances?.find((i) => i.id === trimmed);
    if (instance) return { model: m, kind: "instance", instanceId: instance.id, instance, suggestions: [] };
  }
  // 2. An exact variant key.
  const byVariant = models.find((m) => m.variants.includes(trimmed));
  if (byVariant) return { model: byVariant, kind: "variant", variant: trimmed, suggestions: [] };

  // 3. Tolerant forms of the same name.
  const { base: withoutInstance, n } = splitInstance(trimmed);
  const { base, quant } = splitVariant(withoutInstance);
  const found = candidatesByName(base, models);
  if (found.models.length > 1) return { ambiguous: found.models, suggestions: found.models.map((m) => m.id) };
  const model = found.models[0];
  if (!model) return { suggestions: suggestModels(trimmed, ids) };

  const result: ModelMatchResult = { model, kind: found.kind, suggestions: [] };
  if (quant !== undefined) {
    // A named quantization must be one this model has; otherwise it is a different download.
    const variant = model.variants.find((v) => splitVariant(v).quant?.toLowerCase() === quant.toLowerCase());
    const sameQuant = model.quantization?.toLowerCase() === quant.toLowerCase();
    if (!variant && !sameQuant) return { suggestions: [model.id, ...model.variants].slice(0, 3) };
    result.kind = "variant";
    result.variant = variant ?? `${model.id}@${quant}`;
  }
  if (n !== undefined) {
    const instanceId = `${model.id}:${n}`;
    const instance = model.instances?.find((i) => i.id.toLowerCase() === instanceId.toLowerCase());
    if (!instance) return { suggestions: (model.instances ?? []).map((i) => i.id).slice(0, 3) };
    result.kind = "instance";
    result.instanceId = instance.id;
    result.instance = instance;
  }
  return result;
}
