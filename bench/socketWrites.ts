/**
 * What one socket `write()` costs the writer on this machine, to a peer that is busy and to one that
 * is asleep: the worker's Redis and Kafka requests are such writes, and on a VM whose idle vCPUs halt
 * at once, waking the peer's CPU is paid inside the writer's call (docs/BENCHMARKS.md, 2026-11-25).
 *
 *   npx node bench/socketWrites.ts [writes=2000]        REDIS_URL (default redis://127.0.0.1:6379)
 *
 * Writes `SET` commands of 100 B and 10 KB to Redis, back to back and then 1 ms apart, and prints the
 * mean time spent in `socket.write()`. The key is deleted at the end.
 */
import net from 'node:net';

const writes = Number(process.argv[2] ?? 2000);
const url = new URL(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379');
const key = `bench:socketWrites:${process.pid}`;

const resp = (...args: string[]) =>
  `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;

async function measure(size: number, gapMs: number): Promise<number> {
  const socket = net.connect(Number(url.port || 6379), url.hostname);
  socket.setNoDelay(true);
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let replies = 0;
  socket.on('data', (d: Buffer) => {
    for (const b of d) if (b === 0x0a) replies++;
  });
  const command = resp('SET', key, 'x'.repeat(size));
  let spent = 0n;
  for (let i = 0; i < writes; i++) {
    const t = process.hrtime.bigint();
    socket.write(command);
    spent += process.hrtime.bigint() - t;
    if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
    else if (i % 10 === 9) await new Promise((r) => setImmediate(r));
  }
  while (replies < writes) await new Promise((r) => setTimeout(r, 5));
  socket.write(resp('DEL', key));
  socket.end();
  return Number(spent) / writes / 1000;
}

for (const gapMs of [0, 1])
  for (const size of [100, 10_000]) {
    const us = await measure(size, gapMs);
    const peer = gapMs === 0 ? 'back to back (Redis busy)' : `${gapMs} ms apart (Redis asleep)`;
    console.log(`${size} B, ${peer}: ${us.toFixed(1)} µs per write()`);
  }
