import { describe, expect, it } from 'vitest';
import { loadConfig, DEV_PII_KEY } from '../../pipeline/config.ts';
import { TaplineError } from '../../pipeline/errors.ts';

describe('loadConfig', () => {
  it('gives the defaults of DESIGN.md with an empty environment', () => {
    const { config, warnings } = loadConfig({});
    expect(config.kafka.brokers).toEqual(['127.0.0.1:9092']);
    expect(config.redis.url).toBe('redis://127.0.0.1:6379');
    expect(config.clickhouse.url).toBeUndefined();
    expect(config.secrets.piiKey).toBe(DEV_PII_KEY);
    expect(warnings.join(' ')).toMatch(/TAPLINE_PII_KEY/);
  });

  it('reads variables and splits broker lists', () => {
    const { config } = loadConfig({ KAFKA_BROKERS: 'a:1, b:2', TOPIC_TAPS: 't', TAPLINE_METRICS_PORT: '0' });
    expect(config.kafka.brokers).toEqual(['a:1', 'b:2']);
    expect(config.kafka.topics.taps).toBe('t');
    expect(config.worker.metricsPort).toBe(0);
  });

  it('names the variable that is wrong', () => {
    expect(() => loadConfig({ KAFKA_BROKERS: 'localhost' })).toThrow(/KAFKA_BROKERS: expected host:port/);
    expect(() => loadConfig({ REDIS_URL: 'http://x' })).toThrow(/REDIS_URL/);
    expect(() => loadConfig({ TAPLINE_DATA_KEY: 'short' })).toThrow(/TAPLINE_DATA_KEY: expected 64 hex/);
  });

  it('takes a worker session timeout within what the broker accepts', () => {
    expect(loadConfig({}).config.worker.sessionTimeoutMs).toBe(30_000);
    expect(loadConfig({ TAPLINE_SESSION_TIMEOUT_MS: '6000' }).config.worker.sessionTimeoutMs).toBe(6000);
    // Under the broker's group.min.session.timeout.ms (6 s) every join would be refused.
    expect(() => loadConfig({ TAPLINE_SESSION_TIMEOUT_MS: '5999' })).toThrow(/TAPLINE_SESSION_TIMEOUT_MS/);
  });

  it('takes the fetch size a worker decides and commits at a time, within bounds', () => {
    expect(loadConfig({}).config.worker.fetchMaxBytes).toBe(262_144);
    expect(loadConfig({ TAPLINE_FETCH_MAX_BYTES: '524288' }).config.worker.fetchMaxBytes).toBe(524_288);
    expect(() => loadConfig({ TAPLINE_FETCH_MAX_BYTES: '1000' })).toThrow(/TAPLINE_FETCH_MAX_BYTES/);
    expect(() => loadConfig({ TAPLINE_FETCH_MAX_BYTES: '64MiB' })).toThrow(/TAPLINE_FETCH_MAX_BYTES/);
  });

  it('refuses development secrets in production, without echoing secrets', () => {
    let error: unknown;
    try {
      loadConfig({ TAPLINE_ENV: 'production' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TaplineError);
    expect((error as TaplineError).code).toBe('SECRET_MISSING');
    expect((error as TaplineError).exitCode).toBe(2);
    expect(() => loadConfig({ TAPLINE_PII_KEY: 'hunter2' })).toThrow(/TAPLINE_PII_KEY: must be at least 16/);
    expect(() => loadConfig({ TAPLINE_PII_KEY: 'hunter2' })).not.toThrow(/hunter2/);
  });
});
