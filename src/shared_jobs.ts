/**
 * Single flight: work that concurrent callers in this process share (one download or load per
 * model on a server), each caller leaving on its own deadline or abort, the work aborted only when
 * every caller has gone. Generic over the work's result and the events it reports; `ensureReady`
 * (ensure.ts) keeps the registries it uses.
 *
 * @module
 */
import { abortReason } from "./deadline.ts";
import { isLMStudioError } from "./errors.ts";

/** Where one caller's events go (see {@linkcode eventSink}). */
export type Emit<E> = (event: E) => void;

/**
 * A caller's `onEvent` as the job calls it: quiet (see `listenerOption` in listener.ts: a broken
 * listener must not break readiness, nor crash the process with an unhandled rejection), and it hears
 * nothing once `close()` is called, when the call has settled, although shared work it took part in
 * may go on for other callers.
 */
export function eventSink<E>(onEvent: Emit<E> | undefined): { emit: Emit<E>; close: () => void } {
  let open = true;
  return {
    emit: (event) => {
      if (open) onEvent?.(event);
    },
    close: () => {
      open = false;
    },
  };
}

/** One caller of a shared job: its own signal (its deadline and abort) and where its events go. */
export interface JobCaller<E> {
  signal: AbortSignal;
  emit: Emit<E>;
  /** The step, for an abort error: `Downloading m/a`. */
  what: string;
}

/** A download or a load that concurrent callers share. */
interface SharedJob<T, E> {
  /** What the job was started for: only a caller that needs the same joins it. */
  readonly purpose: string;
  readonly promise: Promise<T>;
  /** Aborts the work, once every caller waiting on it has gone. */
  readonly controller: AbortController;
  /** The event sinks of the callers waiting on it: each gets the job's events while it waits. */
  readonly callers: Set<Emit<E>>;
}

/** Starts a shared job's work, which reports its events through `broadcast` (to every caller). */
export type StartJob<T, E> = (signal: AbortSignal, broadcast: Emit<E>) => Promise<T>;

/**
 * Jobs shared by concurrent callers in this process, at most one per key (a model on a server).
 * A caller joins the running job when it needs the same (`purpose`); otherwise it waits for that
 * job to settle, then decides again. Each caller leaves on its own deadline or abort, at once;
 * the work is aborted only when every caller has gone.
 */
export class SharedJobs<T, E> {
  readonly #running = new Map<string, SharedJob<T, E>>();

  /**
   * Joins the job under `key` when it runs for `purpose`, or starts one with `start` when none
   * runs: `{ joined }` is its outcome for this caller. When a job for another purpose, or one that
   * every caller has left, holds the key, joins nothing: `{ busy }` resolves once that job has
   * settled (and rejects when the caller's signal aborts first).
   */
  enter(
    key: string,
    purpose: string,
    caller: JobCaller<E>,
    start: StartJob<T, E>,
  ): { joined: Promise<T> } | { busy: Promise<void> } {
    const running = this.#running.get(key);
    if (running && (running.purpose !== purpose || running.controller.signal.aborted)) {
      return { busy: settled(running.promise, caller) };
    }
    return { joined: join(running ?? this.#start(key, purpose, start), caller) };
  }

  /** {@linkcode enter}, waiting out whatever holds the key, until the caller has joined a job. */
  async run(key: string, purpose: string, caller: JobCaller<E>, start: StartJob<T, E>): Promise<T> {
    for (;;) {
      const entry = this.enter(key, purpose, caller, start);
      if ("joined" in entry) return await entry.joined;
      await entry.busy;
    }
  }

  #start(key: string, purpose: string, start: StartJob<T, E>): SharedJob<T, E> {
    const controller = new AbortController();
    const callers = new Set<Emit<E>>();
    const broadcast: Emit<E> = (event) => {
      for (const emit of callers) emit(event);
    };
    const promise = Promise.resolve().then(() => start(controller.signal, broadcast)).finally(() => {
      // The key is free once the work has settled, not when the last caller leaves: an abandoned
      // load may still be unloading, and the next one must not race it.
      if (this.#running.get(key) === job) this.#running.delete(key);
    });
    // Each caller gets the outcome through `join`; with none left, a failure is nobody's to report.
    promise.catch(() => {});
    const job: SharedJob<T, E> = { purpose, promise, controller, callers };
    this.#running.set(key, job);
    return job;
  }
}

/**
 * `job`'s outcome for one caller, who gets its events until then. When its signal aborts, the
 * caller leaves: at once, with its own deadline or abort, while others still wait on the work;
 * the last one to leave aborts the work and reports how it stopped, since that may say more (a
 * download goes on in LM Studio's background).
 */
function join<T, E>(job: SharedJob<T, E>, caller: JobCaller<E>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const leave = () => {
      job.callers.delete(caller.emit);
      caller.signal.removeEventListener("abort", quit);
    };
    const quit = () => {
      leave();
      const stop = abortReason(caller.signal, caller.what);
      if (job.callers.size > 0) {
        reject(stop);
        return;
      }
      job.controller.abort(caller.signal.reason);
      const told = (error: unknown) => reject(isLMStudioError(error, stop.code) ? error : stop);
      job.promise.then(() => reject(stop), told);
    };
    if (caller.signal.aborted) {
      quit();
      return;
    }
    job.callers.add(caller.emit);
    caller.signal.addEventListener("abort", quit, { once: true });
    job.promise.then(
      (value) => {
        leave();
        resolve(value);
      },
      (error) => {
        leave();
        reject(error);
      },
    );
  });
}

/** Resolves once `promise` has settled, either way; rejects when the caller's signal aborts first. */
function settled<E>(promise: Promise<unknown>, caller: JobCaller<E>): Promise<void> {
  return new Promise((resolve, reject) => {
    const quit = () => reject(abortReason(caller.signal, caller.what));
    if (caller.signal.aborted) {
      quit();
      return;
    }
    caller.signal.addEventListener("abort", quit, { once: true });
    const done = () => {
      caller.signal.removeEventListener("abort", quit);
      resolve();
    };
    promise.then(done, done);
  });
}
