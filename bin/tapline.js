#!/usr/bin/env node
// Runs the TypeScript sources through Node 24's type stripping when they are there (a checkout: what
// you edit is what runs, even beside a dist/ the tests or benchmarks built), else the compiled build
// (the Docker image ships dist/ without the sources). Either way the command runs in this process, so
// signals reach it.
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
const sources = new URL('../pipeline/cli.ts', import.meta.url);
const entry = existsSync(fileURLToPath(sources))
  ? sources
  : new URL('../dist/pipeline/cli.js', import.meta.url);
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
