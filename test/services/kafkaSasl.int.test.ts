// The SASL_PLAINTEXT listener on 9094 accepts the development SCRAM user and refuses a wrong password:
// the security work builds on this listener.
import { Kafka, logLevel, type SASLOptions } from 'kafkajs';
import { describe, expect, it } from 'vitest';

function admin(sasl: SASLOptions) {
  return new Kafka({
    clientId: 'test-services',
    brokers: ['127.0.0.1:9094'],
    sasl,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  }).admin();
}

describe('Kafka SASL listener', () => {
  for (const mechanism of ['scram-sha-256', 'scram-sha-512'] as const) {
    it(`accepts the tapline user with ${mechanism}`, async () => {
      const client = admin({ mechanism, username: 'tapline', password: 'tapline-secret' });
      await client.connect();
      try {
        expect(Array.isArray(await client.listTopics())).toBe(true);
      } finally {
        await client.disconnect();
      }
    });
  }

  it('refuses a wrong password', async () => {
    const client = admin({ mechanism: 'scram-sha-256', username: 'tapline', password: 'wrong' });
    await expect(client.connect()).rejects.toThrow(/SASL SCRAM SHA256 authentication failed/i);
    await client.disconnect();
  });
});
