/**
 * The Redis protocol (RESP2) for the store's hot path: commands encoded into one string per pipeline,
 * and replies read from the socket's chunks as they arrive. Only what the store's commands answer:
 * simple strings, errors, integers, bulk strings (UTF-8) and arrays of them.
 */

export type Reply = string | number | null | ReplyError | Reply[];

/** An error reply (`-ERR …`, `-NOSCRIPT …`), kept in its place among the pipeline's answers. */
export class ReplyError extends Error {
  override name = 'ReplyError';
}

/** One command as RESP: `*n`, then each argument as a bulk string. */
export function encodeCommand(args: ReadonlyArray<string | number>): string {
  let out = `*${args.length}\r\n`;
  for (const a of args) {
    if (typeof a === 'number') {
      const s = String(a);
      out += `$${s.length}\r\n${s}\r\n`;
    } else out += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
  }
  return out;
}

const CR = 13;
/** Marks a reply that has not fully arrived yet. */
const INCOMPLETE = Symbol('incomplete');
type Parsed = Reply | typeof INCOMPLETE;

/**
 * Reads replies from a byte stream cut anywhere. A reply split across chunks is read again from its
 * start when the rest arrives (replies here are small: an entity's window, a tap index entry).
 */
export class ReplyReader {
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;

  /** Adds a chunk and hands over every reply now complete, in order. */
  push(chunk: Buffer, onReply: (reply: Reply) => void): void {
    this.buf = this.pos < this.buf.length ? Buffer.concat([this.buf.subarray(this.pos), chunk]) : chunk;
    this.pos = 0;
    while (this.pos < this.buf.length) {
      const start = this.pos;
      const reply = this.read();
      if (reply === INCOMPLETE) {
        this.pos = start;
        return;
      }
      onReply(reply);
    }
  }

  reset(): void {
    this.buf = Buffer.alloc(0);
    this.pos = 0;
  }

  /** The integer ending at the next CRLF, from `from`; moves past the CRLF. */
  private int(from: number): number | typeof INCOMPLETE {
    const end = this.buf.indexOf(CR, from);
    if (end < 0 || end + 1 >= this.buf.length) return INCOMPLETE;
    let n = 0;
    let i = from;
    const negative = this.buf[i] === 45; // '-'
    if (negative) i++;
    for (; i < end; i++) n = n * 10 + (this.buf[i]! - 48);
    this.pos = end + 2;
    return negative ? -n : n;
  }

  private line(from: number): string | typeof INCOMPLETE {
    const end = this.buf.indexOf(CR, from);
    if (end < 0 || end + 1 >= this.buf.length) return INCOMPLETE;
    this.pos = end + 2;
    return this.buf.toString('utf8', from, end);
  }

  private read(): Parsed {
    const type = this.buf[this.pos]!;
    const from = this.pos + 1;
    switch (type) {
      case 36: {
        // '$' bulk string
        const len = this.int(from);
        if (len === INCOMPLETE) return INCOMPLETE;
        if (len < 0) return null;
        const start = this.pos;
        if (start + len + 2 > this.buf.length) return INCOMPLETE;
        this.pos = start + len + 2;
        return this.buf.toString('utf8', start, start + len);
      }
      case 42: {
        // '*' array
        const count = this.int(from);
        if (count === INCOMPLETE) return INCOMPLETE;
        if (count < 0) return null;
        const items: Reply[] = new Array<Reply>(count);
        for (let i = 0; i < count; i++) {
          if (this.pos >= this.buf.length) return INCOMPLETE;
          const item = this.read();
          if (item === INCOMPLETE) return INCOMPLETE;
          items[i] = item;
        }
        return items;
      }
      case 58: // ':' integer
        return this.int(from);
      case 43: // '+' simple string
        return this.line(from);
      case 45: {
        // '-' error
        const text = this.line(from);
        return text === INCOMPLETE ? INCOMPLETE : new ReplyError(text);
      }
      default:
        throw new ReplyError(`unexpected reply type ${JSON.stringify(String.fromCharCode(type))} from Redis`);
    }
  }
}
