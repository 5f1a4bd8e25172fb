import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  createLmsOutputSplitter,
  parseLmsDownloadProgress,
  parseLmsLoadProgress,
  stripAnsi,
} from "../src/lms_progress.ts";

const ESC = "\u001b";

describe("parseLmsDownloadProgress", () => {
  it("reads the current lms progress bar: percent, sizes, speed and ETA", () => {
    assert.deepEqual(
      parseLmsDownloadProgress(
        "⠋ [██████▍               ] 28.57% | 1.30 GB / 4.55 GB | 45.67 MB/s | ETA 01:11",
      ),
      {
        downloadedBytes: 1_300_000_000,
        totalBytes: 4_550_000_000,
        bytesPerSecond: 45_670_000,
        percent: 28.57,
        etaSeconds: 71,
      },
    );
  });

  it("ignores the cursor save/restore, hide-cursor and colour escapes lms wraps the bar in", () => {
    const line =
      `${ESC}[?25l${ESC}[s${ESC}[36m⠙${ESC}[39m [${ESC}[32m███████████▏${ESC}[39m          ] 51.02% |` +
      ` 2.32 GB / 4.55 GB | 102.40 MB/s | ETA 00:21${ESC}[u`;
    const progress = parseLmsDownloadProgress(line);
    assert.equal(progress?.percent, 51.02);
    assert.equal(progress?.downloadedBytes, 2_320_000_000);
    assert.equal(progress?.bytesPerSecond, 102_400_000);
    assert.equal(progress?.etaSeconds, 21);
  });

  it("keeps only what the terminal shows after \\r redraws", () => {
    const redrawn = "\r⠋ [▏      ] 1.00% | 45.50 MB / 4.55 GB | 10.00 MB/s | ETA 07:30" +
      "\r⠙ [▎      ] 2.00% | 91.00 MB / 4.55 GB | 11.00 MB/s | ETA 06:54\r";
    const progress = parseLmsDownloadProgress(redrawn);
    assert.equal(progress?.percent, 2);
    assert.equal(progress?.downloadedBytes, 91_000_000);
    assert.equal(progress?.etaSeconds, 414);
  });

  it("reads the padded start of a download and an hours ETA", () => {
    const progress = parseLmsDownloadProgress(
      "⠋ [                      ] 0.00% |  0.00 B / 22.07 GB |  0.00 B/s | ETA 01:02:03",
    );
    assert.deepEqual(progress, {
      downloadedBytes: 0,
      totalBytes: 22_070_000_000,
      bytesPerSecond: 0,
      percent: 0,
      etaSeconds: 3723,
    });
  });

  it("reads every base-1000 unit lms prints and base-1024 units if they appear", () => {
    assert.equal(parseLmsDownloadProgress("1.00% | 1.50 KB / 150.00 KB")?.downloadedBytes, 1500);
    assert.equal(parseLmsDownloadProgress("10.00% | 0.10 TB / 1.00 TB")?.totalBytes, 1e12);
    assert.equal(parseLmsDownloadProgress("5.00% | 12 B / 240 B")?.totalBytes, 240);
    const binary = parseLmsDownloadProgress("50.00% | 512.00 MiB / 1.00 GiB | 8.00 MiB/s | ETA 01:04");
    assert.equal(binary?.downloadedBytes, 512 * 1024 ** 2);
    assert.equal(binary?.totalBytes, 1024 ** 3);
    assert.equal(binary?.bytesPerSecond, 8 * 1024 ** 2);
  });

  it("accepts lines without speed or ETA, and computes the percent from sizes when it is missing", () => {
    assert.deepEqual(parseLmsDownloadProgress("50.00% | 2.00 GB / 4.00 GB"), {
      downloadedBytes: 2e9,
      totalBytes: 4e9,
      bytesPerSecond: null,
      percent: 50,
      etaSeconds: null,
    });
    assert.equal(parseLmsDownloadProgress("Downloaded 1.00 GB / 4.00 GB")?.percent, 25);
  });

  it("accepts a percent-only line with unknown bytes", () => {
    assert.deepEqual(parseLmsDownloadProgress("⠼ [████▌                 ] 12.50%"), {
      downloadedBytes: 0,
      totalBytes: null,
      bytesPerSecond: null,
      percent: 12.5,
      etaSeconds: null,
    });
  });

  it("returns undefined for every line that is not progress", () => {
    for (
      const line of [
        "",
        "   ",
        "\r\r",
        `${ESC}[2K${ESC}[1G`,
        "Download completed.",
        "Finalizing download...",
        "Searching for models with the term qwen3.5-35b-a3b",
        "   ↓ To download: model qwen/qwen3.5-35b-a3b - 171.27 KB",
        "   └─ ↓ To download: Qwen3.5 35B A3B Q4_K_M [GGUF] - 22.07 GB",
        "About to download 22.07 GB.",
        "Resolution completed. Downloading 22.07 GB...",
        "Model already downloaded. To use, run: lms load qwen/qwen3-4b-2507",
        "ETA 01:00",
        "150.00% | 1.00 GB / 2.00 GB",
        "9.00 GB / 4.00 GB",
        "1.00 GB / 0.00 B",
        "\u0000\u0001garbage\ufffd%%%",
        '{"percent": 42}',
      ]
    ) {
      assert.equal(parseLmsDownloadProgress(line), undefined, JSON.stringify(line));
    }
  });
});

describe("parseLmsLoadProgress", () => {
  it("reads the current spinner with a percent", () => {
    assert.equal(parseLmsLoadProgress("\rLoading qwen/qwen3-4b-2507 37% ⠹"), 0.37);
    assert.equal(parseLmsLoadProgress("Loading openai/gpt-oss-20b on mac-studio 100% ⠋"), 1);
    assert.equal(parseLmsLoadProgress("Loading qwen/qwen3-4b-2507 0%"), 0);
  });

  it("reads the old progress bar", () => {
    assert.equal(
      parseLmsLoadProgress("⠇ [█████████████████████████████████████████████████▎] 99.90%"),
      0.999,
    );
    assert.equal(parseLmsLoadProgress(`${ESC}[?25l⠋ [██▌        ] 12.34%${ESC}[u`), 0.1234);
  });

  it("keeps only the last redraw", () => {
    assert.equal(parseLmsLoadProgress("Loading m 10% ⠋\rLoading m 20% ⠙\rLoading m 30% ⠹"), 0.3);
  });

  it("returns undefined for everything else", () => {
    for (
      const line of [
        "",
        "Loading qwen/qwen3-4b-2507 ⠹",
        "Model loaded successfully in 6.88s.",
        "(4.69 GiB)",
        'To use the model in the API/SDK, use the identifier "qwen/qwen3-4b-2507".',
        "Loading 100%-model ⠹",
        "Loading m 120% ⠋",
        `\r${ESC}[K`,
      ]
    ) {
      assert.equal(parseLmsLoadProgress(line), undefined, JSON.stringify(line));
    }
  });
});

describe("createLmsOutputSplitter", () => {
  it("splits on \\n, \\r\\n and bare \\r across chunk boundaries and drops empty lines", () => {
    const lines: string[] = [];
    const splitter = createLmsOutputSplitter((line) => lines.push(line));
    splitter.push("Searching...\n1.00%");
    splitter.push(" | a\r2.00% | b\r");
    splitter.push("\nDownload completed.\r\n\r\n");
    splitter.push("tail without newline");
    splitter.end();
    assert.deepEqual(lines, [
      "Searching...",
      "1.00% | a",
      "2.00% | b",
      "Download completed.",
      "tail without newline",
    ]);
  });

  it("emits nothing more after end() has flushed", () => {
    const lines: string[] = [];
    const splitter = createLmsOutputSplitter((line) => lines.push(line));
    splitter.push("a");
    splitter.end();
    splitter.end();
    assert.deepEqual(lines, ["a"]);
  });

  it("does not hold an endless line without breaks in memory", () => {
    const lines: string[] = [];
    const splitter = createLmsOutputSplitter((line) => lines.push(line));
    for (let i = 0; i < 100; i++) splitter.push("x".repeat(10_000));
    splitter.push("\n");
    assert.equal(lines.length, 1);
    assert.ok(lines[0].length <= 64 * 1024 + 10_000, `kept ${lines[0].length} chars`);
  });

  it("feeds the download parser one redraw at a time", () => {
    const percents: number[] = [];
    const splitter = createLmsOutputSplitter((line) => {
      const progress = parseLmsDownloadProgress(line);
      if (progress?.percent != null) percents.push(progress.percent);
    });
    splitter.push("Resolution completed. Downloading 4.55 GB...\n");
    splitter.push("\r⠋ [▏] 1.00% | 45.50 MB / 4.55 GB | 10.00 MB/s | ETA 07:30\r⠙ [▎] 2.0");
    splitter.push(
      "0% | 91.00 MB / 4.55 GB | 11.00 MB/s | ETA 06:54\r⠹ [█] 100.00% | 4.55 GB / 4.55 GB | 11.00 MB/s | ETA 00:00\n",
    );
    splitter.end();
    assert.deepEqual(percents, [1, 2, 100]);
  });
});

describe("stripAnsi", () => {
  it("removes colours, cursor movement and OSC titles but keeps the text", () => {
    assert.equal(stripAnsi(`${ESC}[1m${ESC}[31mError:${ESC}[39m${ESC}[22m no`), "Error: no");
    assert.equal(stripAnsi(`${ESC}]0;title\u0007x${ESC}[?25h${ESC}7y${ESC}8`), "xy");
  });
});
