import { describe, expect, it } from 'vitest';
import {
  adminSubject,
  renderAdminEmailBody,
  renderAdminSlackText,
  renderStakeholderBody,
  stakeholderSubject,
  type AdminErrors,
} from '../../../src/internal/notifications/messages.js';
import { renderPushTable } from '../../../src/internal/notifications/table.js';
import { formatRfc822 } from '../../../src/internal/notifications/timestamp.js';

const TS = '26 Nov 24 04:16 CST';
const H = `The following errors were reported by the Managed Tokens service at ${TS} while performing operation token-push:`;
const C = 'Please look at the logs for more details.';

const pushMessage =
  'Error pushing vault tokens to destination node dunegpvm01.fnal.gov: (timeout error)';
const errors: AdminErrors = new Map([
  ['mu2e_production', { setupErrors: ['Timeout error'], pushErrors: new Map() }],
  [
    'dune_production',
    {
      setupErrors: ['Could not ping the following nodes: dunegpvm01.fnal.gov'],
      pushErrors: new Map([['dunegpvm01.fnal.gov', pushMessage]]),
    },
  ],
]);

describe('RFC822 timestamps', () => {
  it('formats like Go in the process zone abbreviation', () => {
    expect(formatRfc822(new Date('2024-11-26T10:16:00Z'), 'America/Chicago')).toBe(
      '26 Nov 24 04:16 CST',
    );
    expect(formatRfc822(new Date('2024-07-04T05:07:00Z'), 'America/Chicago')).toBe(
      '04 Jul 24 00:07 CDT',
    );
    expect(formatRfc822(new Date('2025-01-02T23:59:00Z'), 'UTC')).toBe('02 Jan 25 23:59 UTC');
  });

  it('uses the tz database abbreviation like Go, whatever ICU calls the zone', () => {
    expect(formatRfc822(new Date('2024-11-26T10:16:00Z'), 'Europe/Paris')).toBe(
      '26 Nov 24 11:16 CET',
    );
    expect(formatRfc822(new Date('2024-07-01T10:16:00Z'), 'Europe/Paris')).toBe(
      '01 Jul 24 12:16 CEST',
    );
    expect(formatRfc822(new Date('2024-11-26T10:16:00Z'), 'Europe/Istanbul')).toBe(
      '26 Nov 24 13:16 +03',
    );
    expect(formatRfc822(new Date('2024-11-26T10:16:00Z'), 'Asia/Kathmandu')).toBe(
      '26 Nov 24 16:01 +0545',
    );
  });
});

describe('subjects', () => {
  it('match the original', () => {
    expect(adminSubject(TS)).toBe('Managed Tokens Errors 26 Nov 24 04:16 CST');
    expect(stakeholderSubject('dune-2_production', TS)).toBe(
      'Managed Tokens Push Errors for dune-2_production - 26 Nov 24 04:16 CST',
    );
  });
});

describe('admin email body (full form)', () => {
  it('has the spec layout with services in ascending order', () => {
    const body = renderAdminEmailBody(errors, TS, 'token-push');
    const expected =
      `${H}\n\n\n` +
      '\ndune_production\nSetup errors:\n\nCould not ping the following nodes: dunegpvm01.fnal.gov\n\n' +
      '\n' +
      `\n\nProcessing errors:\n${renderPushTable(errors.get('dune_production')!.pushErrors)}\n` +
      '\n' +
      '\nmu2e_production\nSetup errors:\n\nTimeout error\n\n' +
      '\n' +
      '\n' +
      `\n\n\n${C}\n\n\n`;
    expect(body).toBe(expected);
    // The line structure of the spec example.
    const lines = body.split('\n');
    expect(lines.slice(0, 5)).toEqual([H, '', '', '', 'dune_production']);
    const mu2e = lines.indexOf('mu2e_production');
    expect(lines.slice(mu2e - 4, mu2e)).toEqual([expect.stringContaining('error)'), '', '', '']);
    const timeout = lines.indexOf('Timeout error');
    expect(lines.slice(timeout + 1, timeout + 8)).toEqual(['', '', '', '', '', '', C]);
    expect(body.endsWith(`${C}\n\n\n`)).toBe(true);
  });
});

describe('admin Slack text (abridged form)', () => {
  it('lists setup and push errors as bullets', () => {
    const text = renderAdminSlackText(errors, TS, 'token-push');
    expect(text).toBe(
      `${H}\n\n\n` +
        'Setup errors:\n' +
        '\n    \u2022 dune_production: Could not ping the following nodes: dunegpvm01.fnal.gov\n' +
        '\n    \u2022 mu2e_production: Timeout error\n' +
        '\n' +
        '\n' +
        '\n\nProcessing errors:\n' +
        `\n    \u2022 dune_production@dunegpvm01.fnal.gov: ${pushMessage}\n` +
        '\n' +
        `\n\n\n${C}\n\n\n`,
    );
  });

  it('omits empty sections', () => {
    const text = renderAdminSlackText(
      new Map([['x', { setupErrors: ['boom'], pushErrors: new Map() }]]),
      TS,
      'op',
    );
    expect(text).not.toContain('Processing errors:');
    expect(text).toContain('    \u2022 x: boom');
  });
});

describe('stakeholder body', () => {
  it('contains the table and the fixed wording, ending with three newlines', () => {
    const table = new Map([
      ['node1', 'Error pushing vault tokens to destination node node1: exit status 12'],
    ]);
    const body = renderStakeholderBody(table, TS);
    expect(
      body.startsWith(
        `In the most recent push of your experiment's managed vault tokens to the destination nodes, dated ${TS}, there were some errors.`,
      ),
    ).toBe(true);
    expect(body).toContain(`\n\n${renderPushTable(table)}\n\nIf you have any other questions`);
    expect(body).toContain('    1)  If the error mentions that a node was not pingable');
    expect(body).toContain('    2)  For any other error');
    expect(body.endsWith('Thank you very much,\nThe FIFE group\n\n\n')).toBe(true);
  });
});
