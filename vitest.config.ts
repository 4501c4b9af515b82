import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['__test__/**/*.test.ts'],
    testTimeout: 20_000,
    // Multi-process and timing-sensitive suites share 2 cores: run files one at a time.
    fileParallelism: false,
  },
})
