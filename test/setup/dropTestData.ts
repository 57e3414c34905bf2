// Setup file of the integration tests: when a test file ends, what its envs (uniqueEnv) left on the
// shared Redis and Kafka, and their chDB directories, is removed (test/support/testData.ts). Registered
// before the file's own hooks, so it runs after them, once its workers are stopped. A failure here
// is reported, never a test failure: the data is garbage either way.
import { afterAll } from 'vitest';
import { dropTestData, takeTestData } from '../support/testData.ts';

afterAll(async () => {
  const envs = takeTestData();
  try {
    await dropTestData(envs);
  } catch (e) {
    console.warn(
      `could not remove the test data of ${envs.map((e) => e.id).join(', ')}: ${(e as Error).message}`,
    );
  }
});
