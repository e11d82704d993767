// Test support shared by every layer's tests (no product code imports it). Contract:
// - `IN_CI` is true under CI (`CI=true`, as .ci/run is run), where every tool, root and the shared
//   corpora are present.
// - `skipOutsideCi(missing)` is the `skip` option of a test whose prerequisite may be missing on a
//   developer's machine: the reason outside CI; `false` in CI, so that the test runs there and its
//   own check of the prerequisite fails, instead of passing by being skipped.

export const IN_CI = process.env.CI === 'true' || process.env.CI === '1';

export function skipOutsideCi(missing: string | false): string | false {
  return missing !== false && !IN_CI ? missing : false;
}
