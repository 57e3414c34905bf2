// Kafka over TLS for real: a PRIVATE broker (test/support/privateKafka.ts) with a SASL_SSL listener
// (SCRAM-SHA-512, client certificates required), its CA, broker and client certificates made with
// openssl and keytool in the test's temp dir. A worker configured only through the environment
// (KAFKA_SSL, KAFKA_SSL_CA_FILE, KAFKA_SSL_CERT_FILE, KAFKA_SSL_KEY_FILE, KAFKA_SASL_*) decides taps
// over it; without the CA, with another CA, or without the client certificate it cannot connect and
// says what to set. The shared broker has no TLS listener and is not touched.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../pipeline/config.ts';
import { isTaplineError } from '../../pipeline/errors.ts';
import { createKafka } from '../../pipeline/kafka.ts';
import { silentLogger } from '../../pipeline/logger.ts';
import { startWorkerFromConfig } from '../../pipeline/wiring.ts';
import { codec, createTopics, decodeAll, readAll, sendAll, simulatedTaps } from '../faults/harness.ts';
import { createPrivateKafka, type PrivateKafka } from '../support/privateKafka.ts';
import { uniqueEnv } from '../support/pipelineEnv.ts';

const storePassword = 'tls-test-store';
const scram = { user: 'tapline-tls', password: 'tls-scram-secret' };
let dir = '';
let broker: PrivateKafka | null = null;
const pem = (name: string) => join(dir, name);

function run(cmd: string, args: string[]): void {
  execFileSync(cmd, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A CA, a broker certificate for 127.0.0.1 in a PKCS12 keystore, a truststore and a client certificate. */
function makeCertificates(): void {
  const days = ['-days', '2'];
  for (const ca of ['ca', 'other-ca'])
    run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${ca}.key`,
      '-out',
      `${ca}.pem`,
      ...days,
      '-subj',
      `/CN=tapline-test-${ca}`,
    ]);
  writeFileSync(
    pem('broker.ext'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n',
  );
  writeFileSync(pem('client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const [name, cn] of [
    ['broker', '127.0.0.1'],
    ['client', 'tapline-worker'],
  ] as const) {
    run('openssl', [
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${cn}`,
    ]);
    run('openssl', [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.pem`,
      ...days,
      '-extfile',
      `${name}.ext`,
    ]);
  }
  run('openssl', [
    'pkcs12',
    '-export',
    '-in',
    'broker.pem',
    '-inkey',
    'broker.key',
    '-certfile',
    'ca.pem',
    '-name',
    'broker',
    '-out',
    'broker.p12',
    '-passout',
    `pass:${storePassword}`,
  ]);
  run('keytool', [
    '-importcert',
    '-noprompt',
    '-alias',
    'ca',
    '-file',
    'ca.pem',
    '-keystore',
    'trust.p12',
    '-storetype',
    'PKCS12',
    '-storepass',
    storePassword,
  ]);
  writeFileSync(pem('scram-password'), `${scram.password}\n`);
}

function tlsEnv(overrides: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string | undefined> = {
    ...uniqueEnv('tls'),
    KAFKA_BROKERS: broker!.tlsBroker!,
    KAFKA_SSL: 'true',
    KAFKA_SSL_CA_FILE: pem('ca.pem'),
    KAFKA_SSL_CERT_FILE: pem('client.pem'),
    KAFKA_SSL_KEY_FILE: pem('client.key'),
    KAFKA_SASL_MECHANISM: 'scram-sha-512',
    KAFKA_SASL_USERNAME: scram.user,
    KAFKA_SASL_PASSWORD_FILE: pem('scram-password'),
    ...overrides,
  };
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tapline-tls-'));
  makeCertificates();
  broker = await createPrivateKafka({
    name: 'tls',
    scram,
    tls: {
      keystore: pem('broker.p12'),
      truststore: pem('trust.p12'),
      password: storePassword,
      clientAuth: 'required',
    },
  });
  await broker.start();
}, 180_000);

afterAll(async () => {
  await broker?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('Kafka over TLS (SASL_SSL, SCRAM, client certificates)', () => {
  it('a worker decides taps with the CA file, a client certificate and the SCRAM password from files', async () => {
    const env = tlsEnv();
    const { config } = loadConfig(env);
    const client = createKafka(config, silentLogger, 'tls-test');
    await createTopics(env, 1, client);
    const taps = simulatedTaps(50, 41);
    const worker = await startWorkerFromConfig(config, silentLogger);
    try {
      await worker.started;
      await sendAll(
        env['TOPIC_TAPS']!,
        taps.map((t) => ({ key: t.account_id, value: codec.encode('tap', t) })),
        client,
      );
      const decisions = decodeAll(
        'decision',
        await readAll(env['TOPIC_DECISIONS']!, taps.length, 1500, 60_000, client),
      );
      expect(new Set(decisions.map((d) => d.tap_id))).toEqual(new Set(taps.map((t) => t.tap_id)));
      expect(decisions.length).toBe(taps.length);
    } finally {
      await worker.stop();
    }
  }, 120_000);

  it('refuses to connect without the CA, with another CA, or without the client certificate, saying what to set', async () => {
    const failure = async (what: string, env: Record<string, string>) => {
      const started = startWorkerFromConfig(loadConfig(env).config, silentLogger).then(async (w) => {
        await w.stop();
        return new Error(`the worker connected ${what}`);
      });
      const e: unknown = await started.catch((err: unknown) => err);
      if (!isTaplineError(e)) throw e;
      return { code: e.code, message: e.message, canRetry: e.canRetry };
    };
    // kafkajs retries a failed connection (about 20 s): the three cases run side by side.
    const [noCa, otherCa, noClientCert] = await Promise.all([
      failure('without the CA', tlsEnv({ KAFKA_SSL_CA_FILE: undefined })),
      failure('with another CA', tlsEnv({ KAFKA_SSL_CA_FILE: pem('other-ca.pem') })),
      failure(
        'without a client certificate',
        tlsEnv({ KAFKA_SSL_CERT_FILE: undefined, KAFKA_SSL_KEY_FILE: undefined }),
      ),
    ]);
    for (const f of [noCa, otherCa]) {
      expect(f.code).toBe('KAFKA_UNAVAILABLE');
      expect(f.message).toMatch(/certificate/i);
      expect(f.message).toContain('not trusted: set KAFKA_SSL_CA_FILE');
      expect(f.canRetry).toBe(false);
    }
    expect(noClientCert.code).toBe('KAFKA_UNAVAILABLE');
    expect(noClientCert.message).toContain('KAFKA_SSL_CERT_FILE');
    // No secret in any message a person sees.
    for (const f of [noCa, otherCa, noClientCert]) expect(f.message).not.toContain(scram.password);
  }, 120_000);
});
