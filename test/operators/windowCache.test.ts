// The Redis store's parsed-window cache against parseEntity: for any sequence of entity strings, the
// state it gives is parseEntity's, and the usual insert (new header, dead prefix dropped, one event
// appended) reuses the events already parsed instead of parsing the window again.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AccountEvent, MsisdnEvent } from '../../operators/entityState.ts';
import { packEvent, parseEntity, US } from '../../operators/redis/layout.ts';
import { WindowCache } from '../../operators/redis/windowCache.ts';

const RETENTION = 100;

/** An account's string as the insert script leaves it: header, then the events in the order applied. */
interface Model {
  m: number;
  cut: number;
  events: AccountEvent[];
}

const accountEvent = (id: number, t: number): AccountEvent => [
  `tap-${id}`,
  t,
  id % 2,
  `dev-${id % 3}`,
  id % 5 === 0 ? null : 'KR',
  id % 4 === 0 ? null : 37.5,
  id % 4 === 0 ? null : 127.25,
];

const text = (s: Model) => `${s.m}${US}${s.cut}${s.events.map((e) => packEvent('a', e)).join('')}`;

/** What insertEvent does to the string for a new tap at `t` (operators/redisScripts.ts). */
function insert(s: Model, id: number, t: number): Model {
  const m = Math.max(s.m, t);
  const cut = m - RETENTION;
  let first = 0;
  while (first < s.events.length && s.events[first]![1] <= cut) first++;
  const events = s.events.slice(first);
  if (t > cut) events.push(accountEvent(id, t));
  return { m, cut, events };
}

type Step =
  | { kind: 'insert'; dt: number }
  | { kind: 'remove'; at: number }
  | { kind: 'retentionGrew'; by: number }
  | { kind: 'twoInserts'; dt: number }
  | { kind: 'unchanged' };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({ kind: fc.constant('insert' as const), dt: fc.integer({ min: -30, max: 40 }) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('remove' as const), at: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('retentionGrew' as const),
      by: fc.integer({ min: 1, max: 50 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('twoInserts' as const), dt: fc.integer({ min: 1, max: 20 }) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('unchanged' as const) }) },
);

describe('WindowCache', () => {
  it('gives parseEntity’s state for any sequence of strings, and reuses the parsed events on inserts', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 60 }), (steps) => {
        const cache = new WindowCache({ minChars: 0 });
        let s: Model = { m: 1_000, cut: 1_000 - RETENTION, events: [] };
        let id = 0;
        let cached = false;
        for (const st of steps) {
          let reusable = false;
          switch (st.kind) {
            case 'insert':
              // A plain insert into the string the cache last saw is the case it must not parse again.
              reusable = cached;
              s = insert(s, id++, s.m + st.dt);
              break;
            case 'remove':
              // removeEvent: one record out of the middle, the header as it was.
              if (s.events.length > 0)
                s = { ...s, events: s.events.filter((_, i) => i !== st.at % s.events.length) };
              break;
            case 'retentionGrew':
              // The cut moves back: dead events behind it would be live again (a whole parse).
              s = { ...s, cut: s.cut - st.by };
              break;
            case 'twoInserts':
              // Another writer inserted in between: two records appended at once.
              s = insert(insert(s, id++, s.m + st.dt), id++, s.m + st.dt + 1);
              break;
            case 'unchanged':
              reusable = cached;
              break;
          }
          const raw = text(s);
          const reusedBefore = cache.reused;
          expect(cache.state('a:x', 'a', raw)).toEqual(parseEntity('a', raw));
          if (reusable) expect(cache.reused).toBe(reusedBefore + 1);
          cached = true;
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps a phone’s header fields and month taps, which are read again every time', () => {
    const cache = new WindowCache({ minChars: 0 });
    const ev = (i: number): MsisdnEvent => [`tap-${i}`, 1_000 + i, `acct-${i % 2}`, 1_000, 'KRW'];
    const head = (mo: number) => `1010${US}900${US}\x1d2026-11|KRW\x1c${mo}${US}${US}`;
    const first = `${head(10_000)}${[1, 2, 3].map((i) => packEvent('m', ev(i))).join('')}`;
    const second = `${head(11_000)}${[1, 2, 3, 4].map((i) => packEvent('m', ev(i))).join('')}`;
    const later = ['tap-9', `2026-11|KRW${US}1009${US}500`];
    expect(cache.state('m:p', 'm', first)).toEqual(parseEntity('m', first));
    expect(cache.state('m:p', 'm', second, later)).toEqual(parseEntity('m', second, later));
    expect(cache.reused).toBe(1);
  });

  it('parses a string it does not know whole, and forgets the oldest windows past its size', () => {
    // Windows of 2 events are 64 characters, of 3 events 98: room for two of the first, not three.
    const cache = new WindowCache({ minChars: 0, maxChars: 170 });
    const window = (n: number) =>
      `${1_000 + n}${US}900${Array.from({ length: n }, (_, i) => packEvent('a', accountEvent(i, 1_000 + i))).join('')}`;
    cache.state('a:1', 'a', window(2));
    cache.state('a:2', 'a', window(2));
    cache.state('a:3', 'a', window(2));
    // a:1 was dropped for room: its next answer is parsed whole, a:3's reuses.
    cache.state('a:1', 'a', window(3));
    cache.state('a:3', 'a', window(3));
    expect([cache.reused, cache.parsed]).toEqual([1, 4]);
  });
});
