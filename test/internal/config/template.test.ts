import { describe, expect, it } from 'vitest';
import {
  compileTemplate,
  ROLE_FILE_TEMPLATE_FIELDS,
  PRINCIPAL_TEMPLATE_FIELDS,
  TemplateError,
} from '../../../src/internal/config/index.js';

const ctx = {
  Account: 'dunepro',
  DesiredUID: 12345,
  Experiment: 'testservice',
  Role: 'production',
  Name: 'dune_production',
};

describe('compileTemplate (config.md 4.3)', () => {
  it('renders placeholders like Go (original test case)', () => {
    expect(
      compileTemplate(
        '/tmp/thisisagoodcase_{{.DesiredUID}}_{{.Experiment}}',
        ROLE_FILE_TEMPLATE_FIELDS,
      ).render(ctx),
    ).toBe('/tmp/thisisagoodcase_12345_testservice');
  });
  it('passes literal text through', () => {
    expect(compileTemplate('/tmp/plain/path', ROLE_FILE_TEMPLATE_FIELDS).render(ctx)).toBe(
      '/tmp/plain/path',
    );
  });
  it('accepts spaces and trim markers with Go semantics (check 27)', () => {
    expect(
      compileTemplate('{{ .Account }}_{{- .Role }}', ROLE_FILE_TEMPLATE_FIELDS).render(ctx),
    ).toBe('dunepro_production');
    expect(compileTemplate('a  {{- .Role -}}  \n b', ROLE_FILE_TEMPLATE_FIELDS).render(ctx)).toBe(
      'aproductionb',
    );
  });
  it('lists used fields', () => {
    expect(compileTemplate('{{.Account}}x{{.Role}}', ROLE_FILE_TEMPLATE_FIELDS).fields).toEqual([
      'Account',
      'Role',
    ]);
  });
  it.each([
    ['/tmp/{{.DesiredUID', 'unclosed template action'],
    [
      '{{printf "%d" .DesiredUID}}',
      'unsupported template action "{{printf \\"%d\\" .DesiredUID}}"',
    ],
    ['{{if .Role}}x{{end}}', 'unsupported template action'],
    ['{{/* c */}}', 'unsupported template action'],
    ['{{.Role | printf}}', 'unsupported template action'],
    ['{{.Doesntexist}}', 'unknown template field ".Doesntexist"'],
  ])('rejects %j', (source, message) => {
    expect(() => compileTemplate(source, ROLE_FILE_TEMPLATE_FIELDS)).toThrow(TemplateError);
    expect(() => compileTemplate(source, ROLE_FILE_TEMPLATE_FIELDS)).toThrow(message);
  });
  it('limits the principal pattern to {Account} and does not HTML-escape', () => {
    expect(() => compileTemplate('foobar{{.DifferentField}}', PRINCIPAL_TEMPLATE_FIELDS)).toThrow(
      'unknown template field',
    );
    expect(
      compileTemplate('{{.Account}}@R', PRINCIPAL_TEMPLATE_FIELDS).render({ Account: "a&b'<c>+" }),
    ).toBe("a&b'<c>+@R");
  });
});

describe('compileTemplate with an origin', () => {
  it('names file, line, column and key in the error', () => {
    const origin = {
      pos: { file: 'managedTokens.yml', line: 42, col: 5 },
      keyPath: 'experiments.dune.roles.production.defaultRoleFileDestinationTemplateOverride',
    };
    expect(() =>
      compileTemplate('{{printf "%d" .DesiredUID}}', ROLE_FILE_TEMPLATE_FIELDS, origin),
    ).toThrow(
      'managedTokens.yml:42:5: experiments.dune.roles.production.defaultRoleFileDestinationTemplateOverride: unsupported template action "{{printf \\"%d\\" .DesiredUID}}"; only {{.Field}} placeholders are allowed (Account, DesiredUID, Experiment, Role, Name, UserPrincipal, KeytabPath, ServiceCreddVaultTokenPathRoot, VaultServer)',
    );
  });
});
