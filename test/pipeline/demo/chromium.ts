// Headless Chromium (Debian's chromium package) for the report tests: installs it when missing and
// dumps a page's DOM after its scripts ran.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const chromium = '/usr/bin/chromium';

export function ensureChromium(): void {
  if (existsSync(chromium)) return;
  execFileSync(
    'bash',
    ['-c', 'apt-get install -y -qq chromium || (apt-get update -qq && apt-get install -y -qq chromium)'],
    {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    },
  );
}

export function chromiumArgs(dir: string): string[] {
  return [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    `--user-data-dir=${join(dir, 'profile')}`,
  ];
}

/** The DOM of an HTML file once its scripts ran. */
export function renderedDom(file: string): string {
  return execFileSync(chromium, [...chromiumArgs(dirname(file)), '--dump-dom', `file://${file}`], {
    encoding: 'utf8',
    timeout: 60_000,
    // Chromium complains about the missing D-Bus on stderr; only the DOM matters.
    stdio: ['ignore', 'pipe', 'ignore'],
  });
}

/** The markup of one chart, from its host element to the end of its SVG. */
export function chartSection(dom: string, id: string): string {
  return dom.slice(dom.indexOf(`id="${id}"`)).split('</svg>')[0]!;
}
