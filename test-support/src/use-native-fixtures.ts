import { afterAll, beforeAll } from 'vitest';
import { fixtureBuilder, GETPPID_LOOP, type FixtureBuilder } from './native-fixtures.ts';

// Kept apart from native-fixtures.ts, which the benchmarks import outside vitest.
/**
 * For a test file: the fixture builder and the paced getppid workload, made in beforeAll and
 * removed in afterAll. Fields are filled in once beforeAll has run.
 */
export function useNativeFixtures(): { fixtures: FixtureBuilder; workload: string } {
  const env = {} as { fixtures: FixtureBuilder; workload: string };
  beforeAll(() => {
    env.fixtures = fixtureBuilder();
    env.workload = env.fixtures.program('getppid-loop', GETPPID_LOOP);
  });
  afterAll(() => env.fixtures?.cleanup());
  return env;
}
