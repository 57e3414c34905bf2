// scripts/services.sh: `up` on running services changes nothing, `status` reports all three, and bad
// arguments are refused with a usage message. The global setup has already run `up` once.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

function services(...args: string[]) {
  const r = spawnSync('bash', ['scripts/services.sh', ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function statusLines(): string[] {
  const r = services('status');
  expect(r.status).toBe(0);
  return r.stdout.trim().split('\n');
}

describe('scripts/services.sh', () => {
  it('reports kafka, redis and clickhouse as up', () => {
    const lines = statusLines();
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^kafka\s+up .*127\.0\.0\.1:9092/);
    expect(lines[1]).toMatch(/^redis\s+up .*127\.0\.0\.1:6379/);
    expect(lines[2]).toMatch(/^clickhouse\s+up .*127\.0\.0\.1:8123/);
  });

  it('leaves running services alone on a second up', () => {
    const before = statusLines();
    const r = services('up');
    expect(r.status).toBe(0);
    expect(r.stderr).not.toMatch(/kafka .*: up on|redis: up on|clickhouse: up on/);
    expect(r.stderr).toMatch(/kafka: (already up|reusing)/);
    expect(r.stderr).toMatch(/redis: (already up|reusing)/);
    expect(r.stderr).toMatch(/clickhouse: (already up|reusing)/);
    // Same pids: nothing was restarted.
    expect(statusLines()).toEqual(before);
  });

  it('refuses an unknown action or service', () => {
    const badAction = services('restart');
    expect(badAction.status).toBe(2);
    expect(badAction.stderr).toMatch(/usage: bash scripts\/services\.sh up\|down\|status/);
    const badService = services('up', 'zookeeper');
    expect(badService.status).toBe(1);
    expect(badService.stderr).toMatch(/unknown service 'zookeeper'/);
  });
});
