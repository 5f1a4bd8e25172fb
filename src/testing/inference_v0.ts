/**
 * REST v0 inference (`POST /api/v0/chat/completions`, `/api/v0/completions`, `/api/v0/embeddings`,
 * LM Studio 0.3+): the `/v1/*` answer of the same request, plus what the docs' v0 examples add
 * to a generated answer (`1_developer/2_rest/endpoints.mdx`; reference §4.3): `stats`
 * (`tokens_per_second`, `time_to_first_token`, `generation_time`, `stop_reason`), `model_info`
 * (`arch`, `quant`, `format`, `context_length`) and `runtime`. The embeddings example adds
 * nothing, nor does the simulator; a streamed v0 answer is not documented, so it is the `/v1`
 * stream. Internal to the testing kit.
 *
 * @module
 */
import { isObject } from "../json.ts";
import { TIME_TO_FIRST_TOKEN_SECONDS, TOKENS_PER_SECOND } from "./inference_common.ts";
import { json, type SimResponse } from "./routes.ts";
import type { World } from "./world.ts";

/**
 * The runtime of the docs' v0 examples, verbatim. It is the only runtime LM Studio documents
 * (MLX runtimes' names are not), so the simulator reports it for every model.
 */
const RUNTIME = {
  name: "llama.cpp-mac-arm64-apple-metal-advsimd",
  version: "1.3.0",
  supported_formats: ["gguf"],
} as const;

/**
 * `stats.stop_reason` for an OpenAI `finish_reason`: the docs' examples show `eosFound` (stop) and
 * `maxPredictedTokensReached` (length); `toolCalls` is the name lmstudio-js gives the third
 * (`LLMPredictionStopReason`, lms-shared-types `LLMPredictionStats.ts`).
 */
const STOP_REASONS: Readonly<Record<string, string>> = {
  stop: "eosFound",
  length: "maxPredictedTokensReached",
  tool_calls: "toolCalls",
};

/** Adds the v0 fields to a `/v1` chat or text completion answer; anything else passes as it is. */
export function withV0Fields(world: World, response: SimResponse): SimResponse {
  if (response.status !== 200 || response.chunks) return response;
  const answer = JSON.parse(response.body) as Record<string, unknown>;
  if (answer.object !== "chat.completion" && answer.object !== "text_completion") return response;
  const instance = typeof answer.model === "string" ? world.instanceById(answer.model) : undefined;
  const record = instance ? world.models.get(instance.key) : undefined;
  if (!instance || !record) return response;
  const choice = Array.isArray(answer.choices) && isObject(answer.choices[0]) ? answer.choices[0] : {};
  const usage = isObject(answer.usage) ? answer.usage : {};
  const generated = typeof usage.completion_tokens === "number" ? usage.completion_tokens : 0;
  const { stats: _empty, system_fingerprint: _fingerprint, ...rest } = answer;
  return json(200, {
    ...rest,
    stats: {
      tokens_per_second: TOKENS_PER_SECOND,
      time_to_first_token: TIME_TO_FIRST_TOKEN_SECONDS,
      generation_time: generated / TOKENS_PER_SECOND,
      stop_reason: STOP_REASONS[String(choice.finish_reason)] ?? "eosFound",
    },
    model_info: {
      arch: record.architecture,
      quant: record.quantization,
      format: record.format,
      context_length: instance.contextLength,
    },
    runtime: RUNTIME,
  });
}
