import { describe, expect, it } from 'vitest';
import {
  mergePingOptions,
  pingArgv,
  pingNodes,
  unpingableMessage,
} from '../../../src/internal/ping/index.js';
import { execRunner } from '../../../src/internal/pipeline/exec-adapter.js';

describe('ping option merging (token-push.md 3.12, Q28)', () => {
  it.each<[string[], string[]]>([
    [[], ['-W', '5', '-c', '1']],
    [
      ['-W', '2'],
      ['-W', '2', '-c', '1'],
    ],
    [['-c3'], ['-W', '5', '-c', '3']],
    [['-4'], ['-W', '5', '-c', '1', '-4']],
    [
      ['-i', '0.2', '-4'],
      ['-W', '5', '-c', '1', '-i', '0.2', '-4'],
    ],
    [
      ['-i', '0.2'],
      ['-W', '5', '-c', '1', '-i'],
    ],
    [
      ['foo', 'bar'],
      ['-W', '5', '-c', '1'],
    ],
    [
      ['--arg1', '--arg2', 'value2'],
      ['-W', '5', '-c', '1', '--arg1', '--arg2'],
    ],
    [
      ['-W', '2', '-4'],
      ['-W', '2', '-c', '1', '-4'],
    ],
  ])('%j → %j', (options, expected) => {
    expect(mergePingOptions(options)).toEqual(expected);
  });

  it('puts the node last after the absolute ping path', () => {
    expect(pingArgv('/usr/bin/ping', 'n1', ['-4'])).toEqual([
      '/usr/bin/ping',
      '-W',
      '5',
      '-c',
      '1',
      '-4',
      'n1',
    ]);
  });

  it('names unpingable nodes comma-separated', () => {
    expect(unpingableMessage(['n1', 'n2'])).toBe('Could not ping the following nodes: n1, n2');
  });
});

describe('pingNodes with the real ping', () => {
  it('answers for loopback, fails a bad option, and reports a missing ping as exec: no command', async () => {
    const deadline = AbortSignal.timeout(10_000);
    const env = { PATH: '/usr/bin:/bin' };
    const good = await pingNodes({
      pingPath: '/usr/bin/ping',
      nodes: ['127.0.0.1'],
      options: [],
      env,
      deadline,
      run: execRunner,
    });
    expect(good[0]?.ok).toBe(true);
    const bad = await pingNodes({
      pingPath: '/usr/bin/ping',
      nodes: ['127.0.0.1'],
      options: ['--arg1', '--arg2', 'value2'],
      env,
      deadline,
      run: execRunner,
    });
    expect(bad[0]).toMatchObject({ node: '127.0.0.1', ok: false });
    expect(!bad[0]?.ok && bad[0]?.error).toMatch(/exit status 2$/);
    const missing = await pingNodes({
      pingPath: '',
      nodes: ['127.0.0.1'],
      options: [],
      env,
      deadline,
      run: execRunner,
    });
    expect(missing[0]).toEqual({ node: '127.0.0.1', ok: false, error: 'exec: no command' });
  });
});
