/**
 * token-push end to end through bin/token-push, run as mtuser against the test world: real KDC,
 * three kerberized sshd nodes with private /tmp, real kinit/klist/ping/rsync/ssh, doubles for the
 * HTCondor tools and htgettoken.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createWorld,
  decodeVaultToken,
  type World,
  SCHEDD,
  tokenPushArgv,
  writeTokenPushConfig,
  type TokenPushService,
  oneScheddAds,
  worldServices,
} from '../../src/testenv/index.js';

const SERVICES: TokenPushService[] = [
  { experiment: 'dune', role: 'production', account: 'dunepro', uid: 5001 },
  { experiment: 'mu2e', role: 'production', account: 'mu2epro', uid: 5002 },
  { experiment: 'nova', role: 'production', account: 'novapro', uid: 5003 },
];

let world: World;

beforeAll(async () => {
  world = await createWorld({
    nodes: 3,
    services: worldServices(SERVICES),
    doubles: oneScheddAds(),
    receivers: { smtp: true, pushgateway: true },
  });
}, 180_000);

afterAll(async () => {
  await world?.stop();
});

describe('token-push, 3 services x 3 nodes', () => {
  it('leaves both token files with the service token and the role file on every node, 0400', async () => {
    const cfg = writeTokenPushConfig(world, SERVICES, { name: 'all-good' });
    const result = await world.run(tokenPushArgv(cfg.file), { timeoutMs: 120_000 });
    expect(result.code, result.stderr).toBe(0);
    expect(world.doubles.violations()).toEqual([]);
    for (const node of world.nodes) {
      for (const s of SERVICES) {
        const realName = `${s.experiment}_${s.role}`;
        for (const file of [`vt_u${s.uid}`, `vt_u${s.uid}-${realName}`]) {
          const content = node.readTmp(file);
          expect(content, `${node.name}:/tmp/${file}`).toBeDefined();
          expect(decodeVaultToken(content ?? '')?.tag).toBe(`${realName}@${SCHEDD}`);
          expect(node.modeOf(file)).toBe(0o400);
        }
        expect(node.readTmp(`default_role_${s.experiment}_${s.uid}`)).toBe(`${s.role}\n`);
      }
    }
    const log = readFileSync(cfg.logFile, 'utf8');
    expect(log).toContain('Successes: dune_production, mu2e_production, nova_production');
    // the storer ran once per service, with the service's real name as its only argument
    expect(
      world.doubles
        .calls('condor_vault_storer')
        .map((c) => c.argv)
        .sort(),
    ).toEqual([['dune_production'], ['mu2e_production'], ['nova_production']]);
  });

  it('a node that is down fails only its own pushes, gets one notification per service, the others are served', async () => {
    const smtp = world.smtp;
    if (!smtp) throw new Error('world has no SMTP receiver');
    const uids = SERVICES.map((s) => ({ ...s, uid: s.uid + 100 }));
    const cfg = writeTokenPushConfig(world, uids, {
      name: 'node-down',
      top: {
        disableNotifications: false,
        email: { from: 'managed-tokens@example.com', smtpHost: smtp.host, smtpPort: smtp.port },
        notifications: { admin_email: 'admin@example.com' },
        errorCountToSendMessage: 0,
      },
    });
    const down = world.nodes[1];
    if (!down) throw new Error('world has fewer than 2 nodes');
    await down.down();
    try {
      const before = smtp.messages.length;
      const result = await world.run(tokenPushArgv(cfg.file), { timeoutMs: 120_000 });
      expect(result.code, result.stderr).toBe(0);
      for (const node of world.nodes) {
        for (const s of uids) {
          const landed = node.readTmp(`vt_u${s.uid}-${s.experiment}_${s.role}`);
          if (node === down) expect(landed).toBeUndefined();
          else
            expect(decodeVaultToken(landed ?? '')?.tag).toBe(`${s.experiment}_${s.role}@${SCHEDD}`);
        }
      }
      const log = readFileSync(cfg.logFile, 'utf8');
      expect(log).toContain('Failures: dune_production, mu2e_production, nova_production');
      // exactly one push notification per (service, down node), none for the healthy nodes
      const debug = readFileSync(cfg.logFile.replace('.log', '.debug.log'), 'utf8');
      for (const s of uids) {
        const lines = debug
          .split('\n')
          .filter(
            (l) =>
              l.includes(`Error pushing vault tokens to destination node ${down.name}`) &&
              l.includes(`${s.experiment}_${s.role}`),
          );
        expect(lines).toHaveLength(1);
      }
      expect(debug).not.toMatch(
        new RegExp(
          `Error pushing vault tokens to destination node (${world.nodes
            .filter((n) => n !== down)
            .map((n) => n.name.replace(/\./g, '\\.'))
            .join('|')})`,
        ),
      );
      const mails = await smtp.waitFor(before + 4, 30_000); // 3 stakeholder emails + 1 admin email
      const admin = mails.slice(before).find((m) => m.to.includes('admin@example.com'));
      expect(admin).toBeDefined();
      const adminText = admin?.text ?? '';
      const count = (needle: string): number => adminText.split(needle).length - 1;
      for (const s of uids) expect(adminText).toContain(`${s.experiment}_${s.role}\nSetup errors:`);
      expect(count(`Could not ping the following nodes: ${down.name}\n`)).toBe(3);
      // one push-error row per service, for the down node
      expect(count(`  ${down.name} | Error pushing vault`)).toBe(3);
      for (const healthy of world.nodes.filter((n) => n !== down))
        expect(adminText).not.toContain(healthy.name);
      // each service's stakeholder email names the down node only
      for (const s of uids) {
        const mail = mails.slice(before).find((m) => m.to.includes(`${s.experiment}@example.com`));
        expect(mail?.text).toContain(down.name);
        for (const healthy of world.nodes.filter((n) => n !== down))
          expect(mail?.text).not.toContain(healthy.name);
      }
    } finally {
      await down.heal();
    }
  });

  it('delivers notifications before pushing metrics, so the notification metrics reach the pushgateway (Q2 fix, check 60)', async () => {
    const smtp = world.smtp;
    const gateway = world.pushgateway;
    if (!smtp || !gateway) throw new Error('world lacks SMTP or pushgateway');
    world.doubles.setTool('condor_vault_storer', {
      rules: [{ service: 'mu2e_production', mode: 'authneeded' }],
    });
    try {
      const uids = SERVICES.map((s) => ({ ...s, uid: s.uid + 200 }));
      const cfg = writeTokenPushConfig(world, uids, {
        name: 'metrics',
        top: {
          disableNotifications: false,
          email: { from: 'managed-tokens@example.com', smtpHost: smtp.host, smtpPort: smtp.port },
          notifications: { admin_email: 'admin@example.com' },
          prometheus: { host: gateway.url },
        },
      });
      const result = await world.run(tokenPushArgv(cfg.file), { timeoutMs: 120_000 });
      expect(result.code, result.stderr).toBe(0);
      const samples = await gateway.samples('managed_tokens_');
      const byName = (name: string) => samples.filter((x) => x.name === name);
      const failed = byName('managed_tokens_failed_services_push_count');
      expect(failed.map((x) => [x.value, x.labels['job'], x.labels['executable']])).toEqual([
        [1, 'managed_tokens', 'token-push'],
      ]);
      const adminSent = byName('managed_tokens_admin_error_email_last_sent_timestamp');
      expect(adminSent.some((x) => x.labels['success'] === 'true')).toBe(true);
      expect(
        byName('managed_tokens_failed_vault_token_store_count').map((x) => x.labels['service']),
      ).toEqual(['mu2e_production']);
      expect(
        byName('managed_tokens_last_token_push_timestamp')
          .map((x) => x.labels['service'])
          .sort(),
      ).toEqual(expect.arrayContaining(['dune_production', 'nova_production']));
    } finally {
      world.doubles.reset();
      world.doubles.set(oneScheddAds());
    }
  });
});
