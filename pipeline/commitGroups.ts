/**
 * Group commit for the worker: the batches kafkajs hands over from one fetch (one per partition, all at
 * once) are decided together, in the order they arrived (pipeline/decisionQueue.ts), and then committed
 * together in ONE Kafka transaction (every batch's outputs and offsets). A record no longer waits for a
 * transaction per partition ahead of it, only for one per fetch, and a crash still commits all of a
 * group or none.
 *
 * A group closes when no batch that entered is still being decided: the last one to join starts the
 * commit. Batches that enter while a group commits form the next group; commits run one at a time, in
 * order. A batch that fails before joining leaves, and the others commit without it.
 */

export interface CommitGroups<M> {
  /** A batch is about to be decided: groups stay open until it joins or leaves. */
  enter(): void;
  /** The batch's outputs join the open group; resolves when the group is committed, rejects if it is not. */
  join(member: M): Promise<void>;
  /** The batch gives up (error, stop, lost partition) without joining. */
  leave(): void;
  /** Batches entered and not yet committed or gone. */
  readonly inFlight: number;
}

/** `commit` gets the members of a group in the order they joined; it is never called concurrently. */
export function createCommitGroups<M>(commit: (members: M[]) => Promise<void>): CommitGroups<M> {
  /** Entered and neither joined nor left. */
  let deciding = 0;
  /** Entered and not yet committed or left. */
  let inFlight = 0;
  let open: {
    members: M[];
    settled: Promise<void>;
    resolve: () => void;
    reject: (e: unknown) => void;
  } | null = null;
  /** Tail of the commits in order; never rejects. */
  let commits: Promise<void> = Promise.resolve();

  const closeIfComplete = () => {
    if (deciding > 0 || !open) return;
    const group = open;
    open = null;
    // In flight until settled, so a member resuming after its commit already sees itself gone.
    const done = () => {
      inFlight -= group.members.length;
    };
    commits = commits
      .then(() => commit(group.members))
      .then(
        () => {
          done();
          group.resolve();
        },
        (e: unknown) => {
          done();
          group.reject(e);
        },
      );
  };

  return {
    enter() {
      deciding++;
      inFlight++;
    },
    join(member) {
      if (!open) {
        let resolve!: () => void;
        let reject!: (e: unknown) => void;
        const settled = new Promise<void>((res, rej) => {
          resolve = res;
          reject = rej;
        });
        open = { members: [], settled, resolve, reject };
      }
      open.members.push(member);
      const settled = open.settled;
      deciding--;
      closeIfComplete();
      return settled;
    },
    leave() {
      deciding--;
      inFlight--;
      closeIfComplete();
    },
    get inFlight() {
      return inFlight;
    },
  };
}
