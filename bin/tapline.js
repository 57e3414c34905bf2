#!/usr/bin/env node
// Runs the compiled CLI when built (`npm run build`), else the TypeScript sources through
// Node 24's type stripping. Either way the command runs in this process, so signals reach it.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  process.stderr.write(
    `tapline needs Node.js 24 or newer; this is ${process.version}.\n` +
      `Run it through npm (npm run demo, npx tapline), which uses the Node 24 that npm ci installs, ` +
      `or install Node 24.\n`,
  );
  process.exit(2);
}
const compiled = new URL('../dist/pipeline/cli.js', import.meta.url);
const entry = existsSync(fileURLToPath(compiled)) ? compiled : new URL('../pipeline/cli.ts', import.meta.url);
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
