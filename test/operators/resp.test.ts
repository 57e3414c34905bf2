import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeCommand, ReplyError, ReplyReader, type Reply } from '../../operators/redis/resp.ts';

/** RESP2 written by hand from the protocol's definition, independently of the reader under test. */
function wire(reply: Reply): string {
  if (reply === null) return '$-1\r\n';
  if (typeof reply === 'number') return `:${reply}\r\n`;
  if (reply instanceof ReplyError) return `-${reply.message}\r\n`;
  if (Array.isArray(reply)) return `*${reply.length}\r\n${reply.map(wire).join('')}`;
  return `$${Buffer.byteLength(reply)}\r\n${reply}\r\n`;
}

/** Feeds the bytes in the given cuts and collects every reply handed over. */
function readAll(bytes: Buffer, cuts: number[]): Reply[] {
  const reader = new ReplyReader();
  const out: Reply[] = [];
  let from = 0;
  for (const cut of [...cuts.filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b), bytes.length]) {
    reader.push(bytes.subarray(from, cut), (r) => out.push(r));
    from = cut;
  }
  return out;
}

const reply: fc.Arbitrary<Reply> = fc.letrec<{ reply: Reply }>((tie) => ({
  reply: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.string({ unit: 'binary' }),
    fc.integer({ min: -1e12, max: 1e12 }),
    fc.constant(null),
    fc.array(tie('reply'), { maxLength: 4 }),
  ),
})).reply;
/** Errors stand alone (a script's error is the whole reply), and their text is one line. */
const topLevel = fc.oneof(
  reply,
  fc.string().map((s) => new ReplyError(`ERR ${s.replace(/[\r\n]/g, ' ')}`)),
);

describe('RESP replies read from a stream', () => {
  it('reads the usual answers: nil, integers, UTF-8 bulk strings, simple strings, errors, nested arrays', () => {
    const bytes = Buffer.from(
      '$-1\r\n:42\r\n:-7\r\n$6\r\n원원\r\n+OK\r\n-NOSCRIPT No matching script\r\n*3\r\n:1\r\n$2\r\n\r\n\r\n*0\r\n*-1\r\n',
    );
    const replies = readAll(bytes, []);
    expect(replies.slice(0, 5)).toEqual([null, 42, -7, '원원', 'OK']);
    expect(replies[5]).toBeInstanceOf(ReplyError);
    expect((replies[5] as ReplyError).message).toBe('NOSCRIPT No matching script');
    expect(replies.slice(6)).toEqual([[1, '\r\n', []], null]);
  });

  it('gives the same replies however the bytes are cut into chunks, even inside a UTF-8 character', () => {
    fc.assert(
      fc.property(
        fc.array(topLevel, { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(400)),
        (replies, cuts) => {
          const bytes = Buffer.from(replies.map(wire).join(''));
          const read = readAll(bytes, cuts);
          expect(read.map((r) => (r instanceof ReplyError ? wire(r) : r))).toEqual(
            replies.map((r) => (r instanceof ReplyError ? wire(r) : r)),
          );
        },
      ),
      { numRuns: 500 },
    );
  });

  it('refuses a reply type it does not know instead of guessing', () => {
    const reader = new ReplyReader();
    expect(() => reader.push(Buffer.from('%1\r\n'), () => {})).toThrow(/unexpected reply type "%"/);
  });
});

describe('RESP commands', () => {
  it('counts bulk string lengths in bytes, not characters', () => {
    expect(encodeCommand(['SET', 'k', '원', 12])).toBe(
      '*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\n원\r\n$2\r\n12\r\n',
    );
  });
});
