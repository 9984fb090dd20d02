import { defineConfig } from 'vitest/config';

// One process at a time: integration and end-to-end tests run real Xvfb, mediasoup workers,
// the native encoder and Chromium, and this project targets 2-core machines.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 180_000,
    sequence: { concurrent: false },
  },
});
