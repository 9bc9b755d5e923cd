// Builds the renderer into renderer/dist. `base: './'` makes every asset URL relative, so the same build
// loads from file:// in Electron and from the web console's origin. No dev-server-only features are relied
// on: the CSP (index.html) allows only same-origin scripts and styles, so nothing may be inlined.
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: './',
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('./dist', import.meta.url)),
    emptyOutDir: true,
    // Inlined assets would become data: URLs, which the CSP does not allow for scripts.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    target: 'es2022',
  },
  server: { host: '127.0.0.1', fs: { allow: [fileURLToPath(new URL('..', import.meta.url))] } },
});
