/**
 * Tells when this process was frozen (SIGSTOP, a paused VM, a stall of its event loop) long enough to
 * have been dropped from its consumer group meanwhile.
 *
 * Why the worker needs it: kafkajs shares one heartbeat request among its callers, so the heartbeat the
 * worker sends before a commit can be one sent BEFORE a freeze, answered by the broker while the
 * member was still in the group, and read after the freeze, when another worker owns the partition.
 * That answer vouches for nothing, and a commit on its strength is a zombie commit (in one CI run of
 * test/faults/groupMembership.int.test.ts (c): 1,000 decisions twice). A tick every `tickMs` notes the
 * time; a gap longer than `freezeMs` between ticks, or since the last tick when asked, is a freeze.
 */
export interface FreezeWatch {
  /** True when the process was frozen at some point after `since` (epoch ms), or is just out of one. */
  frozeSince(since: number): boolean;
  /** When the last freeze was seen to end (epoch ms): now when just out of one, 0 before any. */
  lastFreezeEnd(): number;
  stop(): void;
}

export function startFreezeWatch(options: {
  freezeMs: number;
  tickMs?: number;
  now?: () => number;
}): FreezeWatch {
  const now = options.now ?? Date.now;
  let lastTick = now();
  /** When the last freeze was seen to end; 0 before any. */
  let lastFreezeEnd = 0;
  const timer = setInterval(() => {
    const t = now();
    if (t - lastTick > options.freezeMs) lastFreezeEnd = t;
    lastTick = t;
  }, options.tickMs ?? 100);
  timer.unref();
  return {
    frozeSince(since) {
      // Asked right after a freeze, before the tick has run: the gap is still open.
      return now() - lastTick > options.freezeMs || lastFreezeEnd > since;
    },
    lastFreezeEnd() {
      return now() - lastTick > options.freezeMs ? now() : lastFreezeEnd;
    },
    stop: () => clearInterval(timer),
  };
}
