// TLS settings of the Kafka clients: files named by the environment, checked at start-up, turned into
// Node TLS options that always verify the broker (the real handshake: test/services/kafkaTls.int.test.ts).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../pipeline/config.ts';
import { kafkaTls, kafkaUnavailable } from '../../pipeline/kafka.ts';

const dir = mkdtempSync(join(tmpdir(), 'tapline-tls-config-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const ca = file('ca.pem', '-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n');
const cert = file('client.pem', 'CERT');
const key = file('client.key', 'KEY');
const keyPassword = file('key-password', 'key-secret\n');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Kafka TLS configuration', () => {
  it('is off by default, and KAFKA_SSL alone trusts the system CAs', () => {
    expect(kafkaTls(loadConfig({}).config.kafka)).toBe(false);
    expect(kafkaTls(loadConfig({ KAFKA_SSL: 'true' }).config.kafka)).toBe(true);
  });

  it('reads the CA, client certificate, key and key password from files and always verifies', () => {
    const { config } = loadConfig({
      KAFKA_SSL: 'true',
      KAFKA_SSL_CA_FILE: ca,
      KAFKA_SSL_CERT_FILE: cert,
      KAFKA_SSL_KEY_FILE: key,
      KAFKA_SSL_KEY_PASSWORD_FILE: keyPassword,
    });
    const tls = kafkaTls(config.kafka);
    expect(typeof tls).toBe('object');
    const o = tls as Exclude<typeof tls, boolean>;
    expect(o.rejectUnauthorized).toBe(true);
    expect((o.ca as Buffer[])[0]!.toString()).toContain('BEGIN CERTIFICATE');
    expect(String(o.cert)).toBe('CERT');
    expect(String(o.key)).toBe('KEY');
    expect(o.passphrase).toBe('key-secret');
  });

  it('refuses TLS files without KAFKA_SSL=true, a certificate without its key, and unreadable files', () => {
    expect(() => loadConfig({ KAFKA_SSL_CA_FILE: ca })).toThrow(
      /KAFKA_SSL_CA_FILE set but KAFKA_SSL is not true/,
    );
    expect(() => loadConfig({ KAFKA_SSL: 'true', KAFKA_SSL_CERT_FILE: cert })).toThrow(
      /KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE go together/,
    );
    expect(() => loadConfig({ KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: join(dir, 'missing.pem') })).toThrow(
      /KAFKA_SSL_CA_FILE: cannot read .*missing\.pem/,
    );
  });

  it('names KAFKA_SSL_CA_FILE when the broker certificate is not trusted, and does not call that retriable', () => {
    const { config } = loadConfig({ KAFKA_SSL: 'true' });
    const cause = Object.assign(new Error('self-signed certificate in certificate chain'), {
      code: 'SELF_SIGNED_CERT_IN_CHAIN',
    });
    const e = kafkaUnavailable(config, new Error('Connection error', { cause }));
    expect(e.code).toBe('KAFKA_UNAVAILABLE');
    expect(e.message).toContain('set KAFKA_SSL_CA_FILE');
    expect(e.canRetry).toBe(false);
    const plain = kafkaUnavailable(loadConfig({}).config, new Error('connect ECONNREFUSED 127.0.0.1:9092'));
    expect(plain.message).toContain('npm run services -- up kafka');
    expect(plain.canRetry).toBe(true);
  });
});
