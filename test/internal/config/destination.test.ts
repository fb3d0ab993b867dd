import { describe, expect, it } from 'vitest';
import {
  renderRoleFileDestination,
  roleFileTemplateContext,
} from '../../../src/internal/config/index.js';
import { BASE, experiments, load, service } from './helpers.js';

const ROLE = 'account: dunepro\n        destinationNodes: [node1]';
const withTemplate = (template: string) => {
  const config = load(
    BASE +
      experiments(
        `${ROLE}\n        defaultRoleFileDestinationTemplateOverride: '${template}'`,
        'dune-2',
      ).replace('    roles:', '    experimentOverride: dune\n    roles:'),
  );
  return service(config, 'dune-2_production');
};

describe('role-file destination at run time (config.md 4.3 item 4)', () => {
  it('builds the template context with the config experiment and the real name', () => {
    const svc = withTemplate(
      '/tmp/{{.Experiment}}/{{.Name}}/{{.Role}}/{{.DesiredUID}}/{{.VaultServer}}',
    );
    expect(roleFileTemplateContext(svc, 42, 'vault1')).toMatchObject({
      Account: 'dunepro',
      DesiredUID: 42,
      Experiment: 'dune-2',
      Name: 'dune_production',
      Role: 'production',
      VaultServer: 'vault1',
    });
    expect(renderRoleFileDestination(svc, roleFileTemplateContext(svc, 42, 'vault1'))).toEqual({
      ok: true,
      path: '/tmp/dune-2/dune_production/production/42/vault1',
    });
  });

  it.each([
    ['{{.VaultServer}}', ''],
    ['/tmp/a b_{{.DesiredUID}}', 'whitespace'],
    ['/tmp/../etc/{{.DesiredUID}}', '".." segment'],
    ['/tmp/{{.VaultServer}}', 'whitespace'],
  ])('refuses %j', (template, why) => {
    const svc = withTemplate(template);
    const vault = template === '/tmp/{{.VaultServer}}' ? 'a"b c' : '';
    const result = renderRoleFileDestination(svc, roleFileTemplateContext(svc, 1, vault));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toContain(why === '' ? 'empty' : why);
  });

  it('warns about a relative path', () => {
    const svc = withTemplate('role_{{.DesiredUID}}');
    expect(renderRoleFileDestination(svc, roleFileTemplateContext(svc, 7, ''))).toMatchObject({
      ok: true,
      path: 'role_7',
      warning: expect.stringContaining('relative'),
    });
  });
});
