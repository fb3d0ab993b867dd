/**
 * Subjects and bodies of every notification (spec notifications-observability.md 2.3-2.6).
 * The byte layout reproduces the original templates so that operators' mail filters and
 * habits keep working; services and nodes are sorted (the original's order was random).
 */
import { compareBytes, renderPushTable } from './table.js';

export const TEST_SUCCESS_SLACK_TEXT = 'Test run completed successfully';

const CLOSING_LINE = 'Please look at the logs for more details.';

/** What the admins are told about one service (or executable) in one run. */
export interface AdminServiceErrors {
  /** Arrival order, duplicates kept. */
  readonly setupErrors: readonly string[];
  /** node → message; last write wins. */
  readonly pushErrors: ReadonlyMap<string, string>;
}

export type AdminErrors = ReadonlyMap<string, AdminServiceErrors>;

export function adminSubject(timestamp: string): string {
  return `Managed Tokens Errors ${timestamp}`;
}

export function stakeholderSubject(configName: string, timestamp: string): string {
  return `Managed Tokens Push Errors for ${configName} - ${timestamp}`;
}

function adminHeader(timestamp: string, operation: string): string {
  return `The following errors were reported by the Managed Tokens service at ${timestamp} while performing operation ${operation}:\n\n\n`;
}

function sortedServices(errors: AdminErrors): [string, AdminServiceErrors][] {
  return [...errors.entries()].sort(([a], [b]) => compareBytes(a, b));
}

/** The admin email ("full" form): one section per service in ascending name order. */
export function renderAdminEmailBody(
  errors: AdminErrors,
  timestamp: string,
  operation: string,
): string {
  let body = adminHeader(timestamp, operation);
  for (const [service, data] of sortedServices(errors)) {
    body += `\n${service}\n`;
    if (data.setupErrors.length > 0) {
      body += 'Setup errors:\n';
      for (const message of data.setupErrors) body += `\n${message}\n`;
      body += '\n';
    }
    body += '\n';
    const table = renderPushTable(data.pushErrors);
    if (table !== '') body += `\n\nProcessing errors:\n${table}\n`;
    body += '\n';
  }
  return `${body}\n\n\n${CLOSING_LINE}\n\n\n`;
}

/** The admin Slack text ("abridged" form): flat bullet lists. */
export function renderAdminSlackText(
  errors: AdminErrors,
  timestamp: string,
  operation: string,
): string {
  const setupItems: string[] = [];
  const pushItems: string[] = [];
  for (const [service, data] of sortedServices(errors)) {
    for (const message of data.setupErrors) setupItems.push(`${service}: ${message}`);
    const nodes = [...data.pushErrors.entries()].sort(([a], [b]) => compareBytes(a, b));
    for (const [node, message] of nodes) pushItems.push(`${service}@${node}: ${message}`);
  }
  let text = adminHeader(timestamp, operation);
  if (setupItems.length > 0) {
    text += 'Setup errors:\n';
    for (const item of setupItems) text += `\n    \u2022 ${item}\n`;
    text += '\n';
  }
  text += '\n';
  if (pushItems.length > 0) {
    text += '\n\nProcessing errors:\n';
    for (const item of pushItems) text += `\n    \u2022 ${item}\n`;
    text += '\n';
  }
  return `${text}\n\n\n${CLOSING_LINE}\n\n\n`;
}

/** The stakeholder email; only sent when the table has rows. */
export function renderStakeholderBody(
  pushErrors: ReadonlyMap<string, string>,
  timestamp: string,
): string {
  return (
    "In the most recent push of your experiment's managed vault tokens to the destination nodes, " +
    `dated ${timestamp}, there were some errors.  Please review them below and take any action if necessary.\n\n` +
    'In the table at the end of the messages, there are generally two courses of action we recommend:\n\n' +
    "    1)  If the error mentions that a node was not pingable, please try to log in to that node.  If you can't, " +
    'open a ServiceNow ticket to Scientific Server Support.\n' +
    '    2)  For any other error, if you have any questions, please open a ticket to the Distributed Computing Support group.\n\n' +
    `${renderPushTable(pushErrors)}\n\n` +
    'If you have any other questions, please open a Service Desk ticket to the Distributed Computing Support group.\n\n' +
    'Thank you very much,\nThe FIFE group\n\n\n'
  );
}
