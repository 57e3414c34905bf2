// The README's configuration table stays true: every variable pipeline/config.ts reads is documented
// there with its default, and the table names no variable that does not exist.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configVariables, loadConfig } from '../../pipeline/config.ts';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const tableRows = readme
  .split('\n')
  .map((line) => /^\|\s*`([A-Z][A-Z0-9_]+)`\s*\|\s*([^|]+?)\s*\|/.exec(line))
  .filter((m): m is RegExpExecArray => m !== null);
const documented = new Map(tableRows.map((m) => [m[1]!, m[2]!.trim()]));

describe('README configuration table', () => {
  it('documents exactly the variables the config reads', () => {
    expect([...documented.keys()].sort()).toEqual([...configVariables].sort());
  });

  it('shows the defaults the config applies', () => {
    const { config } = loadConfig({});
    expect(documented.get('KAFKA_BROKERS')).toBe(`\`${config.kafka.brokers.join(',')}\``);
    expect(documented.get('REDIS_URL')).toBe(`\`${config.redis.url}\``);
    expect(documented.get('TOPIC_TAPS')).toBe(`\`${config.kafka.topics.taps}\``);
    expect(documented.get('CHDB_PATH')).toBe(`\`${config.clickhouse.chdbPath}\``);
    expect(documented.get('KAFKA_VERSION')).toBe(`\`${config.kafka.version}\``);
    expect(documented.get('TAPLINE_METRICS_PORT')).toBe(`\`${String(config.worker.metricsPort)}\``);
  });
});
