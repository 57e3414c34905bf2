/**
 * The worker's batches wait here for their decision, and those waiting together are decided together:
 * every batch kafkajs hands over from one fetch (in one turn of the event loop), and any that asked
 * while the previous decision ran, go to `decideAll` in one call, in the order they asked. One call
 * at a time, so batches are still decided in order; each batch gets its own result, and a failure of
 * the call is every one of its batches' failure.
 *
 * Deciding a fetch's batches in one detector call gives the store one round trip for all of them
 * instead of one per partition (docs/BENCHMARKS.md, "deciding a fetch in one call").
 */

export interface DecisionQueue<B, R> {
  /** Resolves with this batch's result once the call that took it has returned. */
  decide(batch: B): Promise<R>;
}

interface Waiting<B, R> {
  batch: B;
  resolve: (result: R) => void;
  reject: (e: unknown) => void;
}

/** `decideAll` returns one result per batch, in the order given; it is never called concurrently. */
export function createDecisionQueue<B, R>(decideAll: (batches: B[]) => Promise<R[]>): DecisionQueue<B, R> {
  let waiting: Array<Waiting<B, R>> = [];
  /** A call is running, or scheduled to take the batches waiting. */
  let busy = false;

  const run = async (): Promise<void> => {
    const taken = waiting;
    waiting = [];
    try {
      const results = await decideAll(taken.map((w) => w.batch));
      if (results.length !== taken.length)
        throw new Error(`decided ${results.length} results for ${taken.length} batches`);
      taken.forEach((w, i) => w.resolve(results[i]!));
    } catch (e) {
      for (const w of taken) w.reject(e);
    }
    if (waiting.length > 0) setImmediate(() => void run());
    else busy = false;
  };

  return {
    decide(batch) {
      return new Promise<R>((resolve, reject) => {
        waiting.push({ batch, resolve, reject });
        if (busy) return;
        busy = true;
        // Not synchronously: the batches kafkajs hands over in one go all ask before the first call.
        setImmediate(() => void run());
      });
    },
  };
}
