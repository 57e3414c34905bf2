import { describe, expect, it } from 'vitest';
import { createCommitGroups } from '../../pipeline/commitGroups.ts';
import { deferred } from '../support/deferred.ts';

/** Lets every queued promise callback run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('createCommitGroups', () => {
  it('commits the batches of one fetch once, in the order they joined, after the last has joined', async () => {
    const commits: string[][] = [];
    const groups = createCommitGroups<string>(async (members) => {
      commits.push(members);
    });
    groups.enter();
    groups.enter();
    groups.enter();
    const a = groups.join('a');
    const b = groups.join('b');
    await settle();
    expect(commits).toEqual([]);
    expect(groups.inFlight).toBe(3);
    const c = groups.join('c');
    await Promise.all([a, b, c]);
    expect(commits).toEqual([['a', 'b', 'c']]);
    expect(groups.inFlight).toBe(0);
  });

  it('commits the others when a batch leaves without joining', async () => {
    const commits: string[][] = [];
    const groups = createCommitGroups<string>(async (members) => {
      commits.push(members);
    });
    groups.enter();
    groups.enter();
    const a = groups.join('a');
    await settle();
    expect(commits).toEqual([]);
    groups.leave();
    await a;
    expect(commits).toEqual([['a']]);
    expect(groups.inFlight).toBe(0);
  });

  it('rejects every member of a group whose commit fails, and commits the next group', async () => {
    let calls = 0;
    const groups = createCommitGroups<string>(async () => {
      calls++;
      if (calls === 1) throw new Error('commit refused');
    });
    groups.enter();
    groups.enter();
    const a = groups.join('a');
    const b = groups.join('b');
    await expect(a).rejects.toThrow('commit refused');
    await expect(b).rejects.toThrow('commit refused');
    groups.enter();
    await expect(groups.join('c')).resolves.toBeUndefined();
    expect(calls).toBe(2);
  });

  it('runs commits one at a time: a batch joining during a commit waits for the next transaction', async () => {
    const commits: string[][] = [];
    const first = deferred();
    let running = 0;
    let overlapped = false;
    const groups = createCommitGroups<string>(async (members) => {
      running++;
      if (running > 1) overlapped = true;
      commits.push(members);
      if (members[0] === 'a') await first.promise;
      running--;
    });
    groups.enter();
    const a = groups.join('a');
    await settle();
    expect(commits).toEqual([['a']]);
    groups.enter();
    const b = groups.join('b');
    await settle();
    expect(commits).toEqual([['a']]);
    first.resolve();
    await Promise.all([a, b]);
    expect(commits).toEqual([['a'], ['b']]);
    expect(overlapped).toBe(false);
  });
});
