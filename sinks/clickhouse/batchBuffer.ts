/**
 * Rows waiting for the next insert, per table, with the Kafka positions they came from. A flush
 * writes one insert per table whose dedup token names exactly the offset ranges inside it, so a
 * retried insert is dropped by ClickHouse, and returns the offsets to commit once all are acked.
 */
import type { TableName } from './rows.ts';

export interface SourceRange {
  topic: string;
  partition: number;
  first: string;
  last: string;
}

export interface TableBatch {
  table: TableName;
  rows: object[];
  /** insert_deduplication_token: table + sorted topic/partition/offset ranges. */
  token: string;
}

export interface FlushPlan {
  batches: TableBatch[];
  /** Offsets to commit after every batch is acknowledged (next offset to read, kafkajs style). */
  commits: Array<{ topic: string; partition: number; offset: string }>;
  rows: number;
}

interface TableState {
  rows: object[];
  ranges: Map<string, SourceRange>;
}

export class BatchBuffer {
  #tables = new Map<TableName, TableState>();
  /** Next offset to commit per topic/partition, including records that produced no row. */
  #positions = new Map<string, { topic: string; partition: number; offset: bigint }>();
  #rows = 0;
  #firstAt: number | undefined;

  get rows(): number {
    return this.#rows;
  }

  /** Epoch ms when the oldest buffered row arrived (undefined when empty). */
  get firstAt(): number | undefined {
    return this.#firstAt;
  }

  get hasPositions(): boolean {
    return this.#positions.size > 0;
  }

  add(
    table: TableName | null,
    row: object | null,
    topic: string,
    partition: number,
    offset: string,
    now: number,
  ): void {
    const key = `${topic}\u0000${partition}`;
    const next = BigInt(offset) + 1n;
    const pos = this.#positions.get(key);
    if (!pos || pos.offset < next) this.#positions.set(key, { topic, partition, offset: next });
    if (table === null || row === null) return;
    let state = this.#tables.get(table);
    if (!state) {
      state = { rows: [], ranges: new Map() };
      this.#tables.set(table, state);
    }
    state.rows.push(row);
    const range = state.ranges.get(key);
    if (!range) state.ranges.set(key, { topic, partition, first: offset, last: offset });
    else range.last = offset;
    this.#rows += 1;
    this.#firstAt ??= now;
  }

  /** Takes everything buffered as a flush plan and empties the buffer. */
  take(): FlushPlan {
    const batches: TableBatch[] = [];
    for (const [table, state] of this.#tables) {
      const ranges = [...state.ranges.values()]
        .map((r) => `${r.topic}/${r.partition}/${r.first}-${r.last}`)
        .sort();
      batches.push({ table, rows: state.rows, token: `${table}:${ranges.join(',')}` });
    }
    const commits = [...this.#positions.values()].map((p) => ({
      topic: p.topic,
      partition: p.partition,
      offset: p.offset.toString(),
    }));
    const plan = { batches, commits, rows: this.#rows };
    this.#tables = new Map();
    this.#positions = new Map();
    this.#rows = 0;
    this.#firstAt = undefined;
    return plan;
  }
}
