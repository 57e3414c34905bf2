// Vitest global setup for integration tests: brings the real local services up (scripts/services.sh).
// `up` is idempotent and reuses services another checkout already runs, so this is cheap when warm.
import { spawnSync } from 'node:child_process';

export default function setup(): void {
  const result = spawnSync('bash', ['scripts/services.sh', 'up'], { stdio: 'inherit' });
  if (result.error !== undefined || result.status !== 0) {
    const why = result.error?.message ?? `exit status ${String(result.status ?? result.signal)}`;
    throw new Error(
      `Integration tests need Kafka, Redis and ClickHouse, but 'bash scripts/services.sh up' failed ` +
        `(${why}). Its output above names the log to read; 'npm run services -- status' shows what runs.`,
    );
  }
}
