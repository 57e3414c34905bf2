/**
 * Writes simulated traffic as JSON Lines (schemas/jsonLines.ts) and its labels to a side file,
 * streaming: lines are gathered into chunks of about 64 KiB and each write waits for the stream to
 * drain when it asks to, so memory stays flat however many taps are written.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { formatInputLine } from '../schemas/jsonLines.ts';
import type { SimulatedRecord } from './records.ts';

export interface TrafficCounts {
  taps: number;
  adjustments: number;
  fraudTaps: number;
}

class ChunkedWriter {
  private readonly stream: WriteStream;
  private chunk = '';

  constructor(path: string) {
    this.stream = createWriteStream(path, { encoding: 'utf8' });
  }

  async line(text: string): Promise<void> {
    this.chunk += text + '\n';
    if (this.chunk.length >= 65_536) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.chunk.length === 0) return;
    const ok = this.stream.write(this.chunk);
    this.chunk = '';
    if (!ok) await once(this.stream, 'drain');
  }

  async close(): Promise<void> {
    await this.flush();
    this.stream.end();
    await once(this.stream, 'finish');
  }
}

export async function writeTrafficFiles(
  records: Iterable<SimulatedRecord> | AsyncIterable<SimulatedRecord>,
  outputPath: string,
  labelsPath?: string,
  onProgress?: (counts: TrafficCounts) => void,
): Promise<TrafficCounts> {
  const out = new ChunkedWriter(outputPath);
  const labels = labelsPath ? new ChunkedWriter(labelsPath) : null;
  const counts: TrafficCounts = { taps: 0, adjustments: 0, fraudTaps: 0 };
  try {
    for await (const { record, label } of records) {
      await out.line(formatInputLine(record));
      if (record.type === 'tap') counts.taps++;
      else counts.adjustments++;
      if (label) {
        counts.fraudTaps++;
        await labels?.line(
          JSON.stringify({ tap_id: label.tap_id, scenario: label.scenario, instance_id: label.instance_id }),
        );
      }
      if (onProgress && counts.taps % 10_000 === 0 && record.type === 'tap') onProgress(counts);
    }
  } finally {
    await out.close();
    await labels?.close();
  }
  return counts;
}
