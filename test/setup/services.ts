// Vitest global setup for integration tests: brings the real local services up (scripts/services.sh).
import { execFileSync } from 'node:child_process';

export default function setup(): void {
  execFileSync('bash', ['scripts/services.sh', 'up'], { stdio: 'inherit' });
}
