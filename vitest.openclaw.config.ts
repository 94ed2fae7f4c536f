/**
 * Vitest config of the real-OpenClaw suite (`npm run test:openclaw`): real gateways take ~7 s
 * to boot and some failure states ~40 s to show, so timeouts are long and files run one by one.
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/openclaw/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 240_000,
    // One gateway at a time: each boots at 600-800 MB RSS and they share /tmp/openclaw/*.log.
    fileParallelism: false,
    pool: 'forks',
    reporters: ['default'],
  },
});
