import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  appendSystemPath,
  buildChildEnv,
  lookupPrograms,
  resolveProgram,
  runCommand,
} from '../../../src/internal/exec/index.js';

const parent = {
  PATH: '/usr/bin:/bin',
  HOME: '/home/x',
  KRB5CCNAME: 'FILE:/tmp/operator',
  _condor_CREDD_HOST: 'parent-credd',
  _condor_COLLECTOR_HOST: 'parent-collector',
  HTGETTOKENOPTS: '--parent',
  _condor_SEC_CREDENTIAL_GETTOKEN_OPTS: '-a parent.vault',
  KRB5_CONFIG: '/etc/krb5-test.conf',
  _condor_OTHER: 'kept',
  UNDEF: undefined,
};

describe('buildChildEnv', () => {
  it('recipe K replaces only KRB5CCNAME', () => {
    const env = buildChildEnv(parent, 'K', { KRB5CCNAME: 'FILE:/tmp/svc' });
    expect(env['KRB5CCNAME']).toBe('FILE:/tmp/svc');
    expect(env['_condor_CREDD_HOST']).toBe('parent-credd');
    expect(env['KRB5_CONFIG']).toBe('/etc/krb5-test.conf');
    expect('UNDEF' in env).toBe(false);
  });

  it('recipe F drops all five managed variables and adds only the assigned settings', () => {
    const env = buildChildEnv(parent, 'F', {
      KRB5CCNAME: 'FILE:/c',
      _condor_COLLECTOR_HOST: '',
      HTGETTOKENOPTS: '--credkey=x',
    });
    expect(env).toEqual({
      PATH: '/usr/bin:/bin',
      HOME: '/home/x',
      KRB5_CONFIG: '/etc/krb5-test.conf',
      _condor_OTHER: 'kept',
      KRB5CCNAME: 'FILE:/c',
      _condor_COLLECTOR_HOST: '',
      HTGETTOKENOPTS: '--credkey=x',
    });
  });

  it('recipe I copies the parent unchanged and does not alias it', () => {
    const env = buildChildEnv(parent, 'I');
    expect(env['_condor_SEC_CREDENTIAL_GETTOKEN_OPTS']).toBe('-a parent.vault');
    expect(env).not.toBe(parent);
  });

  it('an empty setting reaches the child as NAME=', async () => {
    const env = buildChildEnv({ PATH: '/usr/bin:/bin' }, 'F', { _condor_COLLECTOR_HOST: '' });
    const res = await runCommand({ argv: ['/usr/bin/env'], env, capture: 'stdout' });
    expect(res.output.split('\n')).toContain('_condor_COLLECTOR_HOST=');
    expect(res.output).not.toContain('_condor_CREDD_HOST');
  });
});

describe('program lookup', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'lookup-'));
    mkdirSync(path.join(dir, 'a'));
    mkdirSync(path.join(dir, 'b'));
    for (const [sub, mode] of [
      ['a/tool', 0o644],
      ['b/tool', 0o755],
      ['b/kinit', 0o755],
    ] as const) {
      writeFileSync(path.join(dir, sub), '#!/bin/sh\n');
      chmodSync(path.join(dir, sub), mode);
    }
    mkdirSync(path.join(dir, 'a', 'dirtool'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('appends /usr/bin:/usr/sbin and never yields an empty entry', () => {
    expect(appendSystemPath('/opt/x')).toBe('/opt/x:/usr/bin:/usr/sbin');
    expect(appendSystemPath('')).toBe('/usr/bin:/usr/sbin');
    expect(appendSystemPath(undefined)).toBe('/usr/bin:/usr/sbin');
  });

  it('skips non-executable files, directories and relative entries', () => {
    const p = `relative:${dir}/a:${dir}/b`;
    expect(resolveProgram('tool', p)).toBe(path.join(dir, 'b', 'tool'));
    expect(resolveProgram('dirtool', p)).toBeUndefined();
    expect(resolveProgram('nope', p)).toBeUndefined();
  });

  it('reports missing programs with empty paths', () => {
    const res = lookupPrograms(['kinit', 'klist'] as const, `${dir}/b`);
    expect(res.paths.kinit).toBe(path.join(dir, 'b', 'kinit'));
    expect(res.paths.klist).toBe('');
    expect(res.missing).toEqual(['klist']);
  });
});
