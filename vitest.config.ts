import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    // Two cores: end-to-end files start KDCs and sshd nodes; keep file-level parallelism modest.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // After the whole suite: no test-world process, directory, hosts line or route may be left behind.
    globalSetup: ['test/testenv/global-setup.ts'],
  },
});
