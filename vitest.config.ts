import { defineConfig } from 'vitest/config';

// Unit tests touch no server. Integration tests (*.int.test.ts) talk to the real Kafka, Redis and
// ClickHouse that test/setup/services.ts brings up. Forks, one file per process: chDB binds one data
// directory per process, so each test file that opens it uses a path of its own.
export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 240_000,
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: ['test/**/*.int.test.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.int.test.ts'],
          globalSetup: ['test/setup/services.ts'],
          setupFiles: ['test/setup/dropTestData.ts'],
          fileParallelism: false,
        },
      },
    ],
  },
});
