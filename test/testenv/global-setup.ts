/**
 * vitest globalSetup (wire with `globalSetup: ['test/testenv/global-setup.ts']` in vitest.config.ts):
 * after the whole suite, no test world may have left a process, directory, /etc/hosts line or
 * blackhole route behind. Worlds of crashed workers are reaped first (that is a teardown, not a leak).
 */
import { reapDeadWorlds, worldLeftovers } from '../../src/testenv/index.js';

export default function setup(): () => void {
  return function teardown(): void {
    reapDeadWorlds();
    const left = worldLeftovers();
    const problems = [
      ...left.dirs.map((d) => `world directory ${d}`),
      ...left.hostsLines.map((l) => `/etc/hosts line ${l}`),
      ...left.routes.map((r) => `route ${r}`),
      ...left.processes.map((p) => `process ${p.pid}: ${p.cmdline}`),
    ];
    if (problems.length)
      throw new Error(`the test suite left test-world resources behind:\n${problems.join('\n')}`);
  };
}
