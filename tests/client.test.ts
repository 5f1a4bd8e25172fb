import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LMStudioClient } from "../src/client.ts";
import { createFakeLms } from "../src/testing/fake_lms.ts";
import type { DownloadProgress } from "../src/progress.ts";
import { FAST, GPT, LMS_BACKED, NOMIC, OTHER_TOKEN, QWEN, TOKEN } from "./_fixtures.ts";
import { detectRuntime } from "../src/runtime.ts";
import { closedPortUrl, rejectsWith, startServer, until, useSimulators } from "./_helpers.ts";

const sim = useSimulators();

/** What a hint says when its fix is to point the client at LM Studio's own address. */
const FIX_URL = /--url|baseUrl|LMSTUDIO_URL/;
/** What a hint says when its fix is a longer deadline. */
const FIX_TIMEOUT = /timeout/i;

describe("configuration", () => {
  it("takes options over LMSTUDIO_URL over the default, normalised", () => {
    const env = (name: string) => (name === "LMSTUDIO_URL" ? "http://env-host:1234/v1/" : undefined);
    assert.equal(new LMStudioClient({ env }).baseUrl, "http://env-host:1234");
    assert.equal(new LMStudioClient({ env, baseUrl: "http://opt:9/v1" }).baseUrl, "http://opt:9");
    assert.equal(new LMStudioClient({ env: () => undefined }).baseUrl, "http://localhost:1234");
    assert.equal(new LMStudioClient({ env: () => "   " }).baseUrl, "http://localhost:1234");
  });

  it("rejects bad URLs from the environment with USAGE", () => {
    assert.throws(
      () => new LMStudioClient({ env: (n) => (n === "LMSTUDIO_URL" ? "file:///etc/passwd" : undefined) }),
      {
        code: "USAGE",
      },
    );
  });

  it("uses an injected fetch for every request", async () => {
    const s = await sim({ models: [GPT] });
    const seen: string[] = [];
    const client = new LMStudioClient({
      baseUrl: s.url,
      fetch: (url, init) => {
        seen.push(url);
        return fetch(url, init);
      },
    });
    await client.check();
    assert.deepEqual(seen, [`${s.url}/api/v1/models`]);
  });
});

describe("check and API detection", () => {
  it("answers with one request when REST v1 answers (LM Studio 0.4)", async () => {
    const s = await sim({ models: [GPT] });
    const status = await new LMStudioClient({ baseUrl: `${s.url}/v1` }).check();
    assert.deepEqual(status, { reachable: true, api: "v1", baseUrl: s.url, authenticated: false });
    assert.equal(s.requests.length, 1);
  });

  it("falls back to REST v0 on LM Studio 0.3, deciding from the body and not the status", async () => {
    const s = await sim({ version: "0.3", models: [GPT] });
    const status = await new LMStudioClient({ baseUrl: s.url }).check();
    assert.equal(status.api, "v0");
    assert.deepEqual(s.requests.map((r) => r.path), ["/api/v1/models", "/api/v0/models"]);
  });

  it("falls back to the OpenAI listing on LM Studio 0.2", async () => {
    const s = await sim({ version: "0.2", models: [GPT] });
    assert.equal((await new LMStudioClient({ baseUrl: s.url }).check()).api, "openai");
  });

  it("detects the API once per client", async () => {
    const s = await sim({ version: "0.3", models: [GPT] });
    const client = new LMStudioClient({ baseUrl: s.url });
    await client.detectApi();
    await client.detectApi();
    await client.listModels();
    assert.equal(s.requestCount("/api/v1/models"), 1);
  });

  it("says SERVER_UNREACHABLE with the start hint when the port is closed", async () => {
    const error = await rejectsWith(
      new LMStudioClient({ baseUrl: await closedPortUrl() }).check(),
      "SERVER_UNREACHABLE",
      { message: /refused/, hint: /lms server start/ },
    );
    assert.equal(error.status, undefined);
  });

  it("says which port fetch refuses (the Fetch standard's bad ports), where the runtime refuses it", async () => {
    // Node and Deno refuse port 6000 before connecting; Bun connects (and nothing listens there).
    const url = "http://127.0.0.1:6000";
    const error = await rejectsWith(new LMStudioClient({ baseUrl: url }).check(), "SERVER_UNREACHABLE");
    if (detectRuntime().name === "bun") {
      assert.doesNotMatch(error.message, /bad ports/);
    } else {
      assert.equal(
        error.message,
        `This runtime's fetch refuses to connect to port 6000 of ${url}: it is one of the Fetch standard's "bad ports"`,
      );
      assert.match(error.hint ?? "", /another port .*1234/);
      // No wait changes that: waitForServer gives up at once instead of retrying to its deadline.
      let retries = 0;
      await rejectsWith(
        new LMStudioClient({ baseUrl: url }).waitForServer({ timeoutMs: 60_000, onRetry: () => retries++ }),
        "SERVER_UNREACHABLE",
        { message: /bad ports/ },
      );
      assert.equal(retries, 0);
    }
  });

  // The deadline only bounds a resolver that never answers: a slow one (glibc: 5 s per attempt) must
  // still end in its own answer, not in TIMEOUT.
  it("says SERVER_UNREACHABLE when the host name does not resolve", { timeout: 60_000 }, async () => {
    await rejectsWith(
      new LMStudioClient({ baseUrl: "http://no-such-host.invalid:1234" }).check({ timeoutMs: 30_000 }),
      "SERVER_UNREACHABLE",
      { hint: /host name/ },
    );
  });

  it("says NOT_LMSTUDIO when an HTML 404 server answers", async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(404, { "content-type": "text/html" }).end("<html><body>Not Found</body></html>");
    });
    try {
      await rejectsWith(new LMStudioClient({ baseUrl: server.url }).check(), "NOT_LMSTUDIO", {
        hint: FIX_URL,
      });
    } finally {
      await server.close();
    }
  });

  it("says NOT_LMSTUDIO for an OpenAI-compatible server that is not LM Studio (e.g. Ollama)", async () => {
    const server = await startServer((req, res) => {
      if (req.url === "/v1/models") {
        res.writeHead(200, { "content-type": "application/json" }).end(
          JSON.stringify({ object: "list", data: [{ id: "llama3" }] }),
        );
      } else res.writeHead(404, { "content-type": "text/plain" }).end("404 page not found");
    });
    try {
      await rejectsWith(new LMStudioClient({ baseUrl: server.url }).check(), "NOT_LMSTUDIO", {
        message: /not LM Studio/,
        hint: FIX_URL,
      });
    } finally {
      await server.close();
    }
  });

  it("a failing REST v1 listing (HTTP 500) is reported, never taken for LM Studio 0.3", async () => {
    const s = await sim({ models: [GPT] });
    s.inject({
      match: "/api/v1/models",
      kind: "respond",
      status: 500,
      body: { error: "Internal error: model index is rebuilding" },
      times: 1,
    });
    const client = new LMStudioClient({ baseUrl: s.url });
    await rejectsWith(client.check(), "INVALID_RESPONSE", {
      message: /GET \/api\/v1\/models .*failed: HTTP 500 Internal error: model index is rebuilding/,
      hint: /lms log stream/,
    });
    assert.ok(!s.requests.some((q) => q.path === "/api/v0/models"), "v0 was not probed");
    // Nothing was concluded from the failure: once the server recovers, it speaks REST v1.
    assert.equal(await client.detectApi(), "v1");
  });

  it("a server that is not LM Studio and fails everywhere (a proxy whose backend is down) is NOT_LMSTUDIO", async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(502, { "content-type": "text/html" }).end("<html>Bad Gateway</html>");
    });
    try {
      await rejectsWith(new LMStudioClient({ baseUrl: server.url }).check(), "NOT_LMSTUDIO");
    } finally {
      await server.close();
    }
  });

  it("on LM Studio 0.3, a failing REST v0 listing is reported, never taken for an OpenAI-only server", async () => {
    const s = await sim({ version: "0.3", models: [GPT] });
    s.inject({ match: "/api/v0/models", kind: "respond", status: 500, body: { error: { message: "boom" } } });
    await rejectsWith(new LMStudioClient({ baseUrl: s.url }).check(), "INVALID_RESPONSE", {
      message: /GET \/api\/v0\/models .*failed: HTTP 500 boom/,
    });
    assert.ok(!s.requests.some((q) => q.path === "/v1/models"), "the OpenAI listing was not probed");
  });

  it("a path LM Studio does not have under it: the hint points at the baseUrl option, not a restart", async () => {
    const s = await sim({ models: [GPT] });
    await rejectsWith(new LMStudioClient({ baseUrl: `${s.url}/foo` }).check(), "INVALID_RESPONSE", {
      hint: /no endpoints under \/foo: point the baseUrl option at the server's address/,
    });
  });

  it("a 429, or a 200 that is not a listing, from the REST v1 listing is a failure too, for LM Studio", async () => {
    const s = await sim({ models: [GPT] });
    const cases = [
      [429, { error: "slow down" }, /GET \/api\/v1\/models at \S+ failed: HTTP 429 slow down/],
      [
        200,
        "<html>hi</html>",
        /GET \/api\/v1\/models at \S+ answered HTTP 200 with something that is not a model listing: \(not JSON\)/,
      ],
      [200, [1, 2], /answered HTTP 200 with something that is not a model listing: \[1,2\]/],
      [200, {}, /answered HTTP 200 with something that is not a model listing: \{\}/],
      // In the shape of LM Studio's own listing, the schema names the field that is wrong.
      [200, { models: "nope" }, /Malformed answer from GET \/api\/v1\/models: field models/],
    ] as const;
    for (const [status, body, message] of cases) {
      s.inject({ match: "/api/v1/models", method: "GET", kind: "respond", status, body, times: 1 });
      const client = new LMStudioClient({ baseUrl: s.url });
      await rejectsWith(client.detectApi(), "INVALID_RESPONSE", { message });
      assert.equal(await client.detectApi(), "v1", "nothing was concluded from it");
    }
  });

  it("a 200 with an error body from the REST v1 listing is a failure too, not a missing REST v1", async () => {
    const s = await sim({ models: [GPT] });
    s.inject({
      match: "/api/v1/models",
      kind: "respond",
      body: { error: "Model listing exploded" },
      times: 1,
    });
    await rejectsWith(new LMStudioClient({ baseUrl: s.url }).check(), "INVALID_RESPONSE", {
      message: /failed: HTTP 200 Model listing exploded/,
    });
    assert.ok(!s.requests.some((q) => q.path === "/api/v0/models"), "v0 was not probed");
  });

  it("when no listing works but /lmstudio-greeting says LM Studio, it is a broken LM Studio, not another server", async () => {
    const s = await sim({ models: [GPT] });
    // As LM Studio before 0.3 has neither REST API, and then its OpenAI listing fails.
    const unknown = { error: "Unexpected endpoint or method. (GET /api/v1/models)" };
    s.inject({ match: /^\/api\/v[01]\/models$/, kind: "respond", status: 200, body: unknown });
    s.inject({ match: "/v1/models", kind: "respond", status: 500, body: { error: "boom" } });
    await rejectsWith(new LMStudioClient({ baseUrl: s.url }).check(), "INVALID_RESPONSE", {
      message: /LM Studio at .* answered, but none of its model endpoints worked/,
      hint: /Restart the LM Studio server/,
    });
  });

  it("times out on a slow server within the deadline, naming it", async () => {
    const s = await sim({ models: [GPT] });
    s.inject({ match: "/api/v1/models", kind: "hang" });
    await rejectsWith(
      new LMStudioClient({ baseUrl: s.url }).check({ timeoutMs: 300 }),
      "TIMEOUT",
      { message: /timed out after 300ms/, hint: FIX_TIMEOUT },
    );
  });

  it("rejects at once with an already-aborted signal, without a request", async () => {
    const s = await sim({ models: [GPT] });
    const controller = new AbortController();
    controller.abort();
    await rejectsWith(
      new LMStudioClient({ baseUrl: s.url }).check({ signal: controller.signal }),
      "INTERRUPTED",
    );
    assert.equal(s.requests.length, 0);
  });

  it("treats 401 as AUTH_REQUIRED with a hint, and never prints the token", async () => {
    const s = await sim({ models: [GPT], auth: { token: TOKEN } });
    const missing = await rejectsWith(
      new LMStudioClient({ baseUrl: s.url, env: () => undefined }).check(),
      "AUTH_REQUIRED",
      { hint: /requires authentication.*LM_API_TOKEN/ },
    );
    assert.equal(missing.status, 401);
    const wrong = await rejectsWith(
      new LMStudioClient({ baseUrl: s.url, apiToken: OTHER_TOKEN }).check(),
      "AUTH_REQUIRED",
      { hint: /rejected the token.*Manage Tokens/ },
    );
    assert.doesNotMatch(`${wrong.message} ${wrong.hint}`, /0therTok|Zz9y8x7w6v/);
    const ok = await new LMStudioClient({ baseUrl: s.url, apiToken: TOKEN }).check();
    assert.equal(ok.authenticated, true);
    // The token went with the check (recorded redacted); the last request asked without it, to
    // learn that the server really requires one.
    assert.equal(s.requests.at(-2)!.headers.authorization, "[redacted]");
    assert.equal(s.requests.at(-1)!.headers.authorization, undefined);
  });

  it("reads LM_API_TOKEN from the environment", async () => {
    const s = await sim({ models: [GPT], auth: { token: TOKEN } });
    const client = new LMStudioClient({
      baseUrl: s.url,
      env: (n) => (n === "LM_API_TOKEN" ? TOKEN : undefined),
    });
    assert.equal((await client.check()).api, "v1");
  });

  it("tryFromProvider fails clearly when the server is not reachable", async () => {
    await rejectsWith(
      LMStudioClient.tryFromProvider({ baseUrl: await closedPortUrl() }),
      "SERVER_UNREACHABLE",
      { hint: /lms server start/ },
    );
    const s = await sim({ models: [GPT] });
    assert.equal((await LMStudioClient.tryFromProvider({ baseUrl: s.url })).baseUrl, s.url);
  });
});

describe("model listing", () => {
  it("lists rich entries with loaded instances from REST v1", async () => {
    const s = await sim({ models: [{ ...GPT, maxContextLength: 65_536 }, QWEN, NOMIC], loaded: [GPT.key] });
    const client = new LMStudioClient({ baseUrl: s.url });
    const models = await client.listModels();
    const gpt = models.find((m) => m.id === GPT.key)!;
    assert.equal(gpt.type, "llm");
    assert.equal(gpt.publisher, "openai");
    assert.equal(gpt.loaded, true);
    assert.deepEqual(gpt.instances?.map((i) => i.id), ["openai/gpt-oss-20b"]);
    assert.equal(gpt.sizeBytes, GPT.sizeBytes);
    assert.equal(gpt.maxContextLength, 65_536);
    assert.equal(models.find((m) => m.id === NOMIC.key)!.type, "embedding");
    assert.equal(models.find((m) => m.id === QWEN.key)!.loaded, false);
    assert.deepEqual(await client.fetchModels(), models.map((m) => m.id));
  });

  it("lists loaded state from REST v0 and normalises its types", async () => {
    const s = await sim({ version: "0.3", models: [GPT, NOMIC], loaded: ["openai/gpt-oss-20b"] });
    const models = await new LMStudioClient({ baseUrl: s.url }).listModels();
    assert.equal(models.find((m) => m.id === GPT.key)!.loaded, true);
    assert.equal(models.find((m) => m.id === NOMIC.key)!.type, "embedding");
    assert.equal(models.find((m) => m.id === NOMIC.key)!.loaded, false);
  });

  it("says loaded: null where the server cannot tell (OpenAI-only)", async () => {
    const s = await sim({ version: "0.2", models: [GPT] });
    const [model] = await new LMStudioClient({ baseUrl: s.url }).listModels();
    assert.equal(model.loaded, null);
    assert.equal(model.instances, null);
  });

  it("reports a malformed REST v1 payload as INVALID_RESPONSE naming the endpoint and field", async () => {
    const s = await sim({ models: [GPT] });
    s.inject({ match: "/api/v1/models", kind: "respond", body: { models: [{ key: 42 }] } });
    // A generous deadline: the first malformed listing loads the validator (zod) inside it.
    const listing = new LMStudioClient({ baseUrl: s.url }).listModels({ timeoutMs: 30_000 });
    await rejectsWith(listing, "INVALID_RESPONSE", {
      message: /GET \/api\/v1\/models.*models\.0\.key/s,
      hint: /(--url|baseUrl).*LM Studio version/,
    });
  });

  it("accepts unknown fields and missing optional ones", async () => {
    const s = await sim({ models: [GPT] });
    s.inject({
      match: "/api/v1/models",
      kind: "respond",
      body: { models: [{ key: "a/b", future_field: { x: 1 } }], extra: true },
    });
    const [model] = await new LMStudioClient({ baseUrl: s.url }).listModels();
    assert.equal(model.id, "a/b");
    assert.equal(model.loaded, null, "without loaded_instances, the loaded state is unknown");
    assert.equal(model.instances, null);
    assert.equal(model.type, null);
  });

  it("keeps the seed's message when /v1/models has no data array", async () => {
    const s = await sim({ version: "0.2", models: [GPT] });
    s.inject({ match: "/v1/models", kind: "respond", body: {} });
    await rejectsWith(
      new LMStudioClient({ baseUrl: s.url }).check(),
      "INVALID_RESPONSE",
      { message: /No 'data' array in response/, hint: /(--url|baseUrl).*LM Studio version/ },
    );
  });
});

describe("download over REST v1", () => {
  it("starts a job, polls it, reports progress and ends with the model on disk", async () => {
    const s = await sim({ catalog: [GPT], download: FAST });
    const client = new LMStudioClient({ baseUrl: s.url, pollIntervalMs: 20 });
    const progress: DownloadProgress[] = [];
    const result = await client.downloadModel(GPT.key, { onProgress: (p) => progress.push(p) });
    assert.equal(result.route, "rest");
    assert.equal(result.alreadyDownloaded, false);
    assert.ok(result.jobId);
    assert.ok(progress.length >= 1);
    assert.equal(progress.at(-1)!.downloadedBytes, GPT.sizeBytes);
    assert.equal(progress.at(-1)!.percent, 100);
    for (let i = 1; i < progress.length; i++) {
      assert.ok(progress[i].downloadedBytes >= progress[i - 1].downloadedBytes);
    }
    assert.ok((await client.fetchModels()).includes(GPT.key));
  });

  it("stopped by its deadline or a signal, says that LM Studio goes on downloading, and it does", async () => {
    const s = await sim({ catalog: [GPT], download: { mode: "manual" } });
    const client = new LMStudioClient({ baseUrl: s.url, pollIntervalMs: 20 });
    // The job must have started before the deadline (a few ms): 1 s is far more than that, and the
    // manual download never ends on its own, so the deadline always comes.
    const timedOut = await rejectsWith(client.downloadModel(GPT.key, { timeoutMs: 1000 }), "TIMEOUT", {
      message: /Downloading openai\/gpt-oss-20b timed out after 1s/,
      hint: /goes on downloading openai\/gpt-oss-20b in the background \(job [^)]+\)/,
    });
    assert.match(timedOut.hint!, /timeoutMs/, "the deadline's own hint stays");
    const controller = new AbortController();
    const seen = s.requests.length;
    const interrupting = client.downloadModel(GPT.key, { signal: controller.signal });
    const interrupted = rejectsWith(interrupting, "INTERRUPTED", { hint: /goes on downloading/ });
    // Abort once this call polls the job its POST was given (so it knows the job), not after a fixed time.
    const pollsItsJob = () => {
      const since = s.requests.slice(seen);
      const post = since.findIndex((r) => r.method === "POST" && r.path === "/api/v1/models/download");
      return post >= 0 && since.slice(post + 1).some((r) => /\/download\/status/.test(r.path));
    };
    try {
      await until("the second call to poll its job", pollsItsJob);
    } finally {
      controller.abort();
    }
    await interrupted;
    // A second request for a model being downloaded gets the job in progress (as `lms get` attaches:
    // "This download is already in progress.").
    const jobs = s.state.jobs() as { status: string }[];
    assert.equal(jobs.length, 1);
    assert.ok(jobs.every((job) => job.status === "downloading"), JSON.stringify(jobs));
  });

  it("reports already_downloaded without a job", async () => {
    const s = await sim({ models: [GPT], catalog: [GPT] });
    const result = await new LMStudioClient({ baseUrl: s.url }).downloadModel(GPT.key);
    assert.equal(result.alreadyDownloaded, true);
    assert.equal(s.requestCount(/download\/status/), 0);
  });

  it("fails with DOWNLOAD_FAILED when the job fails", async () => {
    const s = await sim({ catalog: [GPT] });
    s.failNextDownload(GPT.key, 0.3);
    await rejectsWith(
      new LMStudioClient({ baseUrl: s.url, pollIntervalMs: 20 }).downloadModel(GPT.key),
      "DOWNLOAD_FAILED",
      { hint: /Downloads panel.*run again/ },
    );
  });

  it("fails with DOWNLOAD_FAILED and a resume hint when the job is paused", async () => {
    const s = await sim({ catalog: [GPT], download: { mode: "manual" } });
    const client = new LMStudioClient({ baseUrl: s.url, pollIntervalMs: 20 });
    const running = client.downloadModel(GPT.key);
    await until("the download job", () => s.state.jobs().length === 1);
    s.pauseDownload();
    await rejectsWith(running, "DOWNLOAD_FAILED", { message: /paused/, hint: /Resume it/ });
  });

  it("says MODEL_NOT_FOUND for a name the catalog does not have", async () => {
    const s = await sim({ catalog: [GPT] });
    await rejectsWith(
      new LMStudioClient({ baseUrl: s.url }).downloadModel("nobody/nothing-1b"),
      "MODEL_NOT_FOUND",
      { hint: /model id in LM Studio's catalog/ },
    );
  });

  it("stops at the deadline and on abort", async () => {
    const s = await sim({ catalog: [GPT, QWEN], download: { mode: "manual" } });
    const client = new LMStudioClient({ baseUrl: s.url, pollIntervalMs: 20 });
    await rejectsWith(client.downloadModel(GPT.key, { timeoutMs: 200 }), "TIMEOUT", { hint: FIX_TIMEOUT });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    await rejectsWith(client.downloadModel(QWEN.key, { signal: controller.signal }), "INTERRUPTED");
  });

  it("refuses to download for a remote server without REST v1", async () => {
    const s = await sim({ version: "0.3", models: [] });
    await rejectsWith(
      new LMStudioClient({ baseUrl: s.url, local: false }).downloadModel(GPT.key),
      "UNSUPPORTED",
      { message: /not on this machine/, hint: /Upgrade LM Studio on that machine to 0\.4/ },
    );
    assert.equal(s.requestCount("/api/v1/models/download"), 0);
  });

  it("refuses hostile model names before any request", async () => {
    const s = await sim({ catalog: [GPT] });
    await rejectsWith(new LMStudioClient({ baseUrl: s.url }).downloadModel("--help"), "USAGE", {
      hint: /Use a model key such as/,
    });
    assert.equal(s.requests.length, 0);
  });
});

describe("load and unload", () => {
  it("a REST v1 load stopped by its deadline says that LM Studio may go on loading, and it does", async () => {
    // The load POST must be under way at the deadline (it is sent within a few ms), and the load
    // must outlast the deadline.
    const s = await sim({ models: [GPT], loadDelayMs: 1500 });
    const client = new LMStudioClient({ baseUrl: s.url });
    await rejectsWith(client.loadModel(GPT.key, { timeoutMs: 1000 }), "TIMEOUT", {
      hint: /may go on loading openai\/gpt-oss-20b in the background/,
    });
    await until("the abandoned load to finish in LM Studio", () => s.state.loaded().length === 1);
    assert.equal(s.state.loaded()[0].id, GPT.key);
  });

  it("loads over REST v1 with the context length", async () => {
    const s = await sim({ models: [GPT] });
    const client = new LMStudioClient({ baseUrl: s.url });
    const result = await client.loadModel("openai/gpt-oss-20b", { contextLength: 16384 });
    assert.equal(result.route, "rest");
    assert.equal(result.instanceId, GPT.key);
    assert.equal(
      JSON.parse(s.requests.find((r) => r.path === "/api/v1/models/load")!.body).context_length,
      16384,
    );
    assert.deepEqual(s.state.loaded().map((i) => i.id), [GPT.key]);
  });

  it("never loads a loaded model twice", async () => {
    const s = await sim({ models: [GPT], loaded: [GPT.key] });
    const result = await new LMStudioClient({ baseUrl: s.url }).loadModel(GPT.key);
    assert.equal(result.alreadyLoaded, true);
    assert.equal(s.requestCount("/api/v1/models/load"), 0);
    assert.equal(s.state.loaded().length, 1);
  });

  it("loads by a tolerant name but never a different model", async () => {
    const s = await sim({ models: [GPT, QWEN] });
    const client = new LMStudioClient({ baseUrl: s.url });
    assert.equal((await client.loadModel("GPT-OSS-20B")).model, GPT.key);
    await rejectsWith(client.loadModel("gpt-oss-120b"), "MODEL_NOT_FOUND", {
      message: /Did you mean: openai\/gpt-oss-20b/,
      hint: /Download it first/,
    });
    assert.equal(s.requestCount("/api/v1/models/load"), 1, "only the first load was sent");
  });

  it("reports a failed load as LOAD_FAILED with the server's message", async () => {
    const s = await sim({ models: [GPT] });
    s.failNextLoad(GPT.key, "Not enough memory");
    await rejectsWith(
      new LMStudioClient({ baseUrl: s.url }).loadModel(GPT.key),
      "LOAD_FAILED",
      { message: /Not enough memory/, hint: /free memory.*smaller context length/ },
    );
  });

  it("warms up through JIT on an OpenAI-only server", async () => {
    const s = await sim({ version: "0.2", models: [GPT] });
    const result = await new LMStudioClient({ baseUrl: s.url }).loadModel(GPT.key);
    assert.equal(result.route, "jit");
    assert.equal(s.requestCount("/v1/chat/completions", "POST"), 1);
    assert.deepEqual(s.state.loaded().map((i) => i.key), [GPT.key]);
  });

  it("warms up with /v1/responses on a remote 0.3 server, as Codex does", async () => {
    const s = await sim({ version: "0.3", models: [GPT] });
    const result = await new LMStudioClient({ baseUrl: s.url, local: false }).loadModel(GPT.key);
    assert.equal(result.route, "jit");
    const body = JSON.parse(s.requests.find((r) => r.path === "/v1/responses")!.body);
    assert.equal(body.max_output_tokens, 1);
  });

  it("warms up an embedding model with an embedding: on an OpenAI-only server, once a chat refuses it", async () => {
    const s = await sim({ version: "0.2", models: [GPT, NOMIC] });
    const client = new LMStudioClient({ baseUrl: s.url, lmsPath: "/nonexistent/lms" });
    const result = await client.loadModel(NOMIC.key);
    assert.deepEqual([result.route, result.instanceId], ["jit", NOMIC.key]);
    assert.equal(s.requestCount("/v1/embeddings", "POST"), 1);
    assert.deepEqual(s.state.loaded().map((i) => i.key), [NOMIC.key]);
    await rejectsWith(client.loadModel("nobody/nothing"), "MODEL_NOT_FOUND", { hint: /listModels/ });
    assert.equal(
      s.requestCount("/v1/embeddings", "POST"),
      1,
      "a name the server does not list gets no second try",
    );
  });

  it("warms up an embedding model with an embedding straight away where the listing says what it is", async () => {
    const s = await sim({ version: "0.3", models: [GPT, NOMIC] });
    const result = await new LMStudioClient({ baseUrl: s.url, local: false }).loadModel(NOMIC.key);
    assert.equal(result.route, "jit");
    assert.equal(s.requestCount("/v1/responses", "POST") + s.requestCount("/v1/chat/completions", "POST"), 0);
    assert.deepEqual(s.state.loaded().map((i) => i.key), [NOMIC.key]);
  });

  it("does not take another model's answer for a load (one loaded model answers any name)", async () => {
    const s = await sim({
      version: "0.2",
      models: [GPT, QWEN],
      loaded: [GPT.key],
      jit: false,
      quirks: { singleLoadedAnswersAnyName: true },
    });
    const client = new LMStudioClient({ baseUrl: s.url, lmsPath: "/nonexistent/lms" });
    await rejectsWith(client.loadModel(QWEN.key), "LOAD_FAILED", {
      message: new RegExp(`answered with ${GPT.key} instead of loading ${QWEN.key}`),
      hint: /Just-in-Time/,
    });
    assert.deepEqual(s.state.loaded().map((i) => i.key), [GPT.key], "nothing else was loaded");
  });

  it("on 0.3 without lms, loads just in time when nothing only lms gives is asked; a context needs lms", async () => {
    const s = await sim({ ...LMS_BACKED, loaded: [] });
    const client = new LMStudioClient({ baseUrl: s.url, lmsPath: "/nonexistent/lms", env: () => undefined });
    await rejectsWith(client.loadModel(QWEN.key, { contextLength: 8192 }), "LMS_NOT_FOUND", {
      hint: /lmsPath|lmstudio\.ai/,
    });
    assert.equal(s.state.loaded().length, 0, "nothing loaded without the context asked");
    const result = await client.loadModel(QWEN.key);
    assert.deepEqual([result.route, result.instanceId], ["jit", QWEN.key]);
    assert.deepEqual(s.state.loaded().map((i) => i.key), [QWEN.key]);
  });

  it("explains a JIT warm-up that cannot load (JIT off)", async () => {
    const s = await sim({ version: "0.2", models: [GPT], jit: false });
    await rejectsWith(new LMStudioClient({ baseUrl: s.url }).loadModel(GPT.key), "LOAD_FAILED", {
      hint: /Turn on Just-in-Time/,
    });
  });

  it("unloads a model's instances, one instance, or everything", async () => {
    const s = await sim({
      models: [GPT, QWEN],
      loaded: [GPT.key, { key: GPT.key, id: `${GPT.key}:2` }, QWEN.key],
    });
    const client = new LMStudioClient({ baseUrl: s.url });
    assert.deepEqual((await client.unloadModel(`${GPT.key}:2`)).unloaded, [`${GPT.key}:2`]);
    assert.deepEqual((await client.unloadModel(GPT.key)).unloaded, [GPT.key]);
    assert.deepEqual((await client.unloadModel(GPT.key)).unloaded, []);
    assert.deepEqual((await client.unloadModel({ all: true })).unloaded, [QWEN.key]);
    assert.equal(s.state.loaded().length, 0);
    await rejectsWith(client.unloadModel("nobody/nothing"), "MODEL_NOT_FOUND", { hint: /check the name/ });
  });
});

describe("unload on LM Studio 0.3 (through lms)", () => {
  it("follows the same name rules as REST v1: unknown is MODEL_NOT_FOUND, not loaded is nothing", async () => {
    const s = await sim(LMS_BACKED);
    const lms = await createFakeLms({ simulator: s });
    try {
      const client = new LMStudioClient({ baseUrl: s.url, lmsPath: lms.path, env: () => undefined });
      await rejectsWith(client.unloadModel("nobody/nothing"), "MODEL_NOT_FOUND", { hint: /check the name/ });
      assert.deepEqual((await client.unloadModel(GPT.key)).unloaded, []);
      assert.deepEqual((await client.unloadModel("qwen3-4b-2507")).unloaded, [QWEN.key]);
      assert.equal(s.state.loaded().length, 0);
    } finally {
      await lms.cleanup();
    }
  });
});

describe("waiting for the server", () => {
  it("polls with backoff until the server comes up", async () => {
    const s = await sim({ models: [GPT], serverRunning: false });
    const client = new LMStudioClient({ baseUrl: s.url });
    let retries = 0;
    setTimeout(() => void s.setServerRunning(true), 300);
    const status = await client.waitForServer({ timeoutMs: 4000, onRetry: () => retries++ });
    assert.equal(status.api, "v1");
    assert.ok(retries >= 1);
  });

  it("gives up at the deadline with TIMEOUT", async () => {
    await rejectsWith(
      new LMStudioClient({ baseUrl: await closedPortUrl() }).waitForServer({ timeoutMs: 300 }),
      "TIMEOUT",
      { hint: FIX_TIMEOUT },
    );
  });
});
