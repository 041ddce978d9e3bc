import { defineConfig } from 'vitest/config';

// No @vitejs/plugin-react: esbuild's automatic JSX runtime is all this app needs, and it keeps
// the toolchain to vite + vitest. The dev server proxies the API to a locally running wanllmdb.
export default defineConfig({
  esbuild: { jsx: 'automatic' },
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, target: 'es2022' },
  server: {
    proxy: {
      '/api': { target: process.env.WANLLMDB_URL ?? 'http://127.0.0.1:8080', ws: true },
    },
  },
  test: { include: ['src/**/*.test.ts'], environment: 'node' },
});
