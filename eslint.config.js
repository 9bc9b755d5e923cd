// Lint rules also enforce the layering of docs/architecture: the engine never sees Electron, and each
// native module has exactly one importer (better-sqlite3 → electron/store/sqlite.ts, serialport →
// electron/link/serial, usb → electron/link/usb, fast-xml-parser → shared/protocol/xml.ts; bench/protocol.ts also
// imports it, as the raw reference Dockhand's parse is measured against).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const only = (name, file) => ({ name, message: `import ${name} only in ${file}` });

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'out/**', '.test-output/**', 'renderer/dist/**', '.cache/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': ['error', {
        paths: [
          only('electron', 'electron/main'),
          only('better-sqlite3', 'electron/store/sqlite.ts'),
          only('serialport', 'electron/link/serial'),
          only('usb', 'electron/link/usb'),
          only('fast-xml-parser', 'shared/protocol/xml.ts (and bench/protocol.ts, as its reference)'),
        ],
      }],
    },
  },
  // The preload is the other side of the bridge: it must import electron's contextBridge and ipcRenderer.
  { files: ['electron/main/**', 'electron/preload/index.ts'], rules: { 'no-restricted-imports': 'off' } },
  { files: ['electron/store/sqlite.ts', 'electron/link/serial*', 'electron/link/usb*', 'shared/protocol/xml.ts', 'bench/protocol.ts'],
    rules: { 'no-restricted-imports': 'off' } },
  { files: ['shared/**'], rules: { 'no-restricted-imports': ['error', { patterns: [
    { group: ['node:*', 'electron', 'better-sqlite3', 'serialport', 'usb', 'react', 'react-dom'],
      message: 'shared/ is pure TypeScript usable in every process' }] }] } },
  { files: ['shared/protocol/xml.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [
    { group: ['node:*', 'electron'], message: 'shared/ is pure TypeScript usable in every process' }] }] } },
);
