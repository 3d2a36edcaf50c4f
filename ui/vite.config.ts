import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The operator UI, built into `ui/dist` and served by the management listener. Everything is
 * bundled (no CDN, no web fonts): the deployment server may have no internet.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    // One small app; a single chunk loads in one round trip on the venue's laptop or phone.
    chunkSizeWarningLimit: 800,
  },
  server: {
    // `npm run ui:dev` proxies the API to a locally running `rpi-deploy serve`.
    proxy: { '/api': process.env.RPI_DEPLOY_UI_API ?? 'http://127.0.0.1:5000' },
  },
});
