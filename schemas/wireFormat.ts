/**
 * The Confluent wire format that Kafka tools expect: magic byte 0, the schema id as a 4-byte
 * big-endian unsigned integer, then the Avro binary body.
 */

export const MAGIC_BYTE = 0;
export const HEADER_LENGTH = 5;

export type Unframed =
  | { ok: true; schemaId: number; body: Buffer }
  | { ok: false; code: 'DECODE_FAILED'; problem: 'short-buffer' | 'bad-magic'; reason: string };

/** Prefixes an Avro body with the magic byte and schema id. */
export function frame(schemaId: number, body: Buffer): Buffer {
  if (!Number.isInteger(schemaId) || schemaId < 0 || schemaId > 0xffffffff) {
    throw new RangeError(`schema id must be an unsigned 32-bit integer, got ${schemaId}`);
  }
  const out = Buffer.allocUnsafe(HEADER_LENGTH + body.length);
  out.writeUInt8(MAGIC_BYTE, 0);
  out.writeUInt32BE(schemaId, 1);
  body.copy(out, HEADER_LENGTH);
  return out;
}

/** Splits a framed message into schema id and body, or says why it is not one. Never throws. */
export function unframe(buf: Buffer): Unframed {
  if (!Buffer.isBuffer(buf) || buf.length < HEADER_LENGTH) {
    return {
      ok: false,
      code: 'DECODE_FAILED',
      problem: 'short-buffer',
      reason: `message is ${Buffer.isBuffer(buf) ? buf.length : 0} bytes; a framed Avro record needs at least ${HEADER_LENGTH} (magic byte and schema id)`,
    };
  }
  if (buf[0] !== MAGIC_BYTE) {
    return {
      ok: false,
      code: 'DECODE_FAILED',
      problem: 'bad-magic',
      reason: `first byte is 0x${buf[0]!.toString(16).padStart(2, '0')}, not the magic byte 0x00 of the Confluent wire format (was it written as JSON or without a schema id?)`,
    };
  }
  return { ok: true, schemaId: buf.readUInt32BE(1), body: buf.subarray(HEADER_LENGTH) };
}
