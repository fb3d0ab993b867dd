import { chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorld, leftoverWorldProcesses, type World } from '../../src/testenv/index.js';

// The real environment end to end: MIT KDC, sshd nodes, rsync over GSSAPI, ping, faults.

let world: World;
let ccache: (service: string) => string;

async function kinit(service: string): Promise<void> {
  const svc = world.services[service]!;
  const r = await world.run(['kinit', '-k', '-t', svc.keytab, svc.principal], {
    env: { ...world.env, KRB5CCNAME: ccache(service) },
  });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
}

function rsyncArgv(node: string, dest: string, connectTimeout = 5): string[] {
  return [
    'rsync',
    '-e',
    `/usr/bin/ssh -o ConnectTimeout=${connectTimeout}`,
    '/tmp/payload',
    `dunepro@${node}:${dest}`,
  ];
}

beforeAll(async () => {
  world = await createWorld({
    nodes: 2,
    services: [
      { name: 'dune_production', account: 'dunepro' },
      { name: 'mu2e_production', account: 'mu2epro' },
    ],
  });
  const krbDir = path.join(world.tmpDir, 'krb');
  mkdirSync(krbDir, { mode: 0o700 });
  chownSync(krbDir, world.runUser.uid, world.runUser.gid);
  ccache = (service) => `FILE:/tmp/krb/${service}`;
  writeFileSync(path.join(world.tmpDir, 'payload'), 'hvs.payload\n', { mode: 0o644 });
});

afterAll(async () => {
  const dir = world.dir;
  const id = world.id;
  await world.stop();
  expect(existsSync(dir)).toBe(false);
  expect(readFileSync('/etc/hosts', 'utf8')).not.toContain(`# mtworld ${id}`);
  expect(leftoverWorldProcesses().filter((p) => p.cmdline.includes(id))).toEqual([]);
});

describe('Kerberos', () => {
  it('kinit with a generated keytab yields a ticket for the right principal', async () => {
    await kinit('dune_production');
    const r = await world.run(['klist'], {
      env: { ...world.env, KRB5CCNAME: ccache('dune_production') },
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Default principal: ${world.services.dune_production!.principal}\n`);
    expect(world.services.dune_production!.principal).toBe(
      `dunepro/managedtokens/mtworld.test@${world.realm}`,
    );
  });

  it('KDC down makes kinit fail fast; back up it works again', async () => {
    await world.kdc.stop();
    const svc = world.services.mu2e_production!;
    const env = { ...world.env, KRB5CCNAME: ccache('mu2e_production') };
    const down = await world.run(['kinit', '-k', '-t', svc.keytab, svc.principal], { env });
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('Cannot contact any KDC');
    await world.kdc.start();
    await kinit('mu2e_production');
  });

  it('a hung KDC accepts the connection but never answers: kinit runs into the caller deadline', async () => {
    const svc = world.services.mu2e_production!;
    world.kdc.hang();
    try {
      const r = await world.run(['kinit', '-k', '-t', svc.keytab, svc.principal], {
        env: { ...world.env, KRB5CCNAME: ccache('mu2e_production') },
        timeoutMs: 1500,
      });
      expect(r.signal).toBe('SIGKILL');
    } finally {
      await world.kdc.start();
    }
    await kinit('mu2e_production');
  });

  it('a stale keytab (key re-randomised) is refused, a re-exported one works', async () => {
    const svc = world.services.mu2e_production!;
    const env = { ...world.env, KRB5CCNAME: ccache('mu2e_production') };
    await world.kdc.invalidateKeys(svc.principal);
    const stale = await world.run(['kinit', '-k', '-t', svc.keytab, svc.principal], { env });
    expect(stale.code).toBe(1);
    await world.kdc.writeKeytab(svc.principal, svc.keytab, world.runUser);
    await kinit('mu2e_production');
  });
});

describe('nodes', () => {
  it('rsync over GSSAPI ssh as the unprivileged user lands on node 2 and not on node 1', async () => {
    await kinit('dune_production');
    const [n1, n2] = world.nodes;
    const r = await world.run(rsyncArgv(n2!.name, '/tmp/vt_u5000'), {
      env: { ...world.env, KRB5CCNAME: ccache('dune_production') },
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(n2!.readTmp('vt_u5000')).toBe('hvs.payload\n');
    expect(n1!.readTmp('vt_u5000')).toBeUndefined();
    expect(readFileSync('/etc/hosts', 'utf8')).toContain(`${n2!.address}\t${n2!.name}`);
  });

  it('the service ticket only authorises its own account', async () => {
    const r = await world.run(
      ['rsync', '-e', '/usr/bin/ssh', '/tmp/payload', `mu2epro@${world.nodes[0]!.name}:/tmp/x`],
      { env: { ...world.env, KRB5CCNAME: ccache('dune_production') } },
    );
    expect(r.code).toBe(255);
    expect(world.nodes[0]!.readTmp('x')).toBeUndefined();
  });

  it('ping succeeds to an up node and fails to a downed one; heal brings it back', async () => {
    const node = world.nodes[0]!;
    const up = await world.run(['ping', '-W', '1', '-c', '1', node.name]);
    expect(up.code).toBe(0);
    await node.down();
    try {
      const downPing = await world.run(['ping', '-W', '1', '-c', '1', node.name]);
      expect(downPing.code).not.toBe(0);
      const push = await world.run(rsyncArgv(node.name, '/tmp/down'), {
        env: { ...world.env, KRB5CCNAME: ccache('dune_production') },
      });
      expect(push.code).not.toBe(0);
    } finally {
      await node.heal();
    }
    expect((await world.run(['ping', '-W', '1', '-c', '1', node.name])).code).toBe(0);
    const again = await world.run(rsyncArgv(node.name, '/tmp/healed'), {
      env: { ...world.env, KRB5CCNAME: ccache('dune_production') },
    });
    expect(again.code).toBe(0);
    expect(node.readTmp('healed')).toBe('hvs.payload\n');
  });

  it('auth refused: rsync exits 255 and nothing lands', async () => {
    const node = world.nodes[1]!;
    node.refuseAuth();
    try {
      const r = await world.run(rsyncArgv(node.name, '/tmp/refused'), {
        env: { ...world.env, KRB5CCNAME: ccache('dune_production') },
      });
      expect(r.code).toBe(255);
      expect(r.stderr).toContain('Permission denied');
      expect(node.readTmp('refused')).toBeUndefined();
    } finally {
      await node.heal();
    }
  });

  it('read-only disk: rsync exits 23', async () => {
    const node = world.nodes[1]!;
    await node.readOnly();
    try {
      const r = await world.run(rsyncArgv(node.name, '/tmp/ro'), {
        env: { ...world.env, KRB5CCNAME: ccache('dune_production') },
      });
      expect(r.code).toBe(23);
    } finally {
      await node.heal();
    }
    expect(node.faults.readOnly).toBe(false);
  });

  it('sshd hanging after connect: ssh gives up at ConnectTimeout (banner exchange)', async () => {
    const node = world.nodes[1]!;
    node.hang();
    try {
      const r = await world.run(rsyncArgv(node.name, '/tmp/hung', 1), {
        env: { ...world.env, KRB5CCNAME: ccache('dune_production') },
      });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/banner exchange/);
    } finally {
      await node.heal();
    }
  });

  it('with --perms --chmod=u=r,go= the remote file is 0400 (external-tools.md §9.30)', async () => {
    const node = world.nodes[0]!;
    const r = await world.run(
      [
        'rsync',
        '-e',
        '/usr/bin/ssh',
        '--perms',
        '--chmod=u=r,go=',
        '/tmp/payload',
        `dunepro@${node.name}:/tmp/vt_u42`,
      ],
      { env: { ...world.env, KRB5CCNAME: ccache('dune_production') } },
    );
    expect(r.code).toBe(0);
    expect(node.modeOf('vt_u42')).toBe(0o400);
  });

  it('sshd stopped on a pingable node: connection refused, ping still answers', async () => {
    const node = world.nodes[0]!;
    await node.stopSshd();
    try {
      expect((await world.run(['ping', '-W', '1', '-c', '1', node.name])).code).toBe(0);
      const r = await world.run(rsyncArgv(node.name, '/tmp/nossh'), {
        env: { ...world.env, KRB5CCNAME: ccache('dune_production') },
      });
      expect(r.stderr).toContain('Connection refused');
      // rsync reports either its protocol error (12) or ssh's 255, depending on which it notices first.
      expect([12, 255]).toContain(r.code);
    } finally {
      await node.heal();
    }
  });

  it('host key mismatch: rsync exits 255 without prompting; heal restores the key', async () => {
    const node = world.nodes[0]!;
    await node.changeHostKey();
    try {
      const r = await world.run(rsyncArgv(node.name, '/tmp/mismatch'), {
        env: { ...world.env, KRB5CCNAME: ccache('dune_production') },
      });
      expect(r.code).toBe(255);
      expect(r.stderr).toContain('Host key verification failed.');
    } finally {
      await node.heal();
    }
    const ok = await world.run(rsyncArgv(node.name, '/tmp/afterheal'), {
      env: { ...world.env, KRB5CCNAME: ccache('dune_production') },
    });
    expect(ok.code).toBe(0);
  });

  it('known_hosts lists every node and the run user ssh config is world-specific', () => {
    const known = readFileSync(world.knownHostsFile, 'utf8');
    for (const n of world.nodes) expect(known).toContain(`[${n.name}]:${n.port} ssh-ed25519 `);
    expect(world.sshOptions).toContain(`UserKnownHostsFile=${world.knownHostsFile}`);
    expect(world.env.TMPDIR).toBeUndefined();
    expect(world.env.PATH!.startsWith(`${world.doubles.binDir}:`)).toBe(true);
  });
});
