import { describe, expect, it } from 'vitest';
import { fetchLimits, produceChunks, retryDelayMs } from '../../pipeline/worker.ts';

const msg = (bytes: number) => ({ key: 'k', value: Buffer.alloc(bytes) });

describe('produceChunks', () => {
  it('keeps every record, in order, in chunks of at most 1000 records', () => {
    const messages = Array.from({ length: 2500 }, (_, i) => ({ key: String(i), value: Buffer.alloc(10) }));
    const chunks = produceChunks(messages);
    expect(chunks.map((c) => c.length)).toEqual([1000, 1000, 500]);
    expect(chunks.flat()).toEqual(messages);
  });

  it('splits by bytes so no request passes the broker limit', () => {
    const chunks = produceChunks(Array.from({ length: 40 }, () => msg(60_000)));
    expect(chunks.length).toBeGreaterThan(4);
    for (const c of chunks) expect(c.reduce((n, m) => n + m.value.length, 0)).toBeLessThanOrEqual(512 * 1024);
    expect(chunks.flat()).toHaveLength(40);
  });

  it('sends an oversized record alone rather than dropping it', () => {
    const chunks = produceChunks([msg(10), msg(900_000), msg(10)]);
    expect(chunks.map((c) => c.length)).toEqual([1, 1, 1]);
  });
});

describe('retryDelayMs', () => {
  it('doubles from 100 ms and stays at 5 s however long the outage', () => {
    expect([0, 1, 2, 3, 4, 5, 6].map(retryDelayMs)).toEqual([100, 200, 400, 800, 1600, 3200, 5000]);
    expect(retryDelayMs(10_000)).toBe(5000);
  });
});

describe('fetchLimits', () => {
  it('keeps the measured default: 256 KiB per fetch', () => {
    expect(fetchLimits().maxBytes).toBe(262_144);
  });

  it('lets any one partition fill the whole fetch', () => {
    expect(fetchLimits(524_288)).toEqual({ maxBytes: 524_288, maxBytesPerPartition: 524_288 });
    expect(fetchLimits(100_001)).toEqual({ maxBytes: 100_001, maxBytesPerPartition: 100_001 });
  });
});
