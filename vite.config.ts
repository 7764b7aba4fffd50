// Builds the renderer (React UI) into dist/renderer. Relative base so the same build loads from
// file:// in Electron and from the headless host's http://127.0.0.1:PORT/.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const rendererRoot = fileURLToPath(new URL('./renderer', import.meta.url));
const outDir = fileURLToPath(new URL('./dist/renderer', import.meta.url));

export default defineConfig({
  root: rendererRoot,
  base: './',
  // No @vitejs/plugin-react: esbuild's automatic JSX runtime is all the UI needs.
  esbuild: { jsx: 'automatic' },
  build: {
    outDir,
    emptyOutDir: true,
    target: 'es2022',
    // The polyfill would be an extra script; Chromium (Electron and the test browser) has
    // native modulepreload, and the CSP forbids anything but 'self' scripts anyway.
    modulePreload: { polyfill: false },
    sourcemap: false,
    chunkSizeWarningLimit: 1500,
    rollupOptions: {
      onwarn(warning, warn) {
        // zod ships comments Rollup cannot place; harmless, and not ours to fix.
        if (warning.code === 'INVALID_ANNOTATION' && warning.id?.includes('node_modules')) return;
        warn(warning);
      },
    },
  },
  server: { host: '127.0.0.1', strictPort: true },
});
