/**
 * Loaded with `node --import` into a benchmarked child process: when the process exits, its own
 * resource usage (peak RSS in KiB, user and system CPU in µs, worker threads included) is written as
 * JSON to the file named by TAPLINE_BENCH_USAGE_FILE. The parent cannot read a child's rusage from
 * Node, and sampling /proc misses a peak between samples.
 */
import { writeFileSync } from 'node:fs';

const file = process.env['TAPLINE_BENCH_USAGE_FILE'];
if (file) {
  process.on('exit', () => {
    const u = process.resourceUsage();
    writeFileSync(
      file,
      JSON.stringify({ maxRSS: u.maxRSS, userCPUTime: u.userCPUTime, systemCPUTime: u.systemCPUTime }),
    );
  });
}
