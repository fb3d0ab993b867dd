/**
 * Stage 4 (token-push.md 3.13): copy a service's vault token to every destination node as
 * `/tmp/vt_u<DesiredUID>` and `/tmp/vt_u<DesiredUID>-<realName>` (must succeed), plus the default role
 * file (best effort), with the system rsync over ssh authenticated by the service's Kerberos ticket.
 */
import { promises as fs } from 'node:fs';
import pLimit from 'p-limit';
import type { CommandRunner, Env } from '../pipeline/command.js';
import { deadlineSignal, kerberosEnv } from '../pipeline/command.js';
import { createPrivateTempFile, removeIfExists } from '../vaulttoken/files.js';
import { rsyncArgv, unsafeDestination } from './options.js';
import type { ItemResult, RetryPolicy } from './retry.js';
import { withRetries } from './retry.js';

export { mergeSshOptions, remoteShell, rsyncArgv, unsafeDestination } from './options.js';
export { withRetries, abortableSleep, PUSH_FAILED_PREFIX, unpingableNodeError } from './retry.js';
export type { RetryPolicy, ItemResult, AttemptResult } from './retry.js';

export type ItemKind = 'token' | 'tokenForService' | 'roleFile';

export interface PushItemOutcome {
  readonly node: string;
  readonly kind: ItemKind;
  readonly destination: string;
  readonly result: ItemResult;
  readonly durationMs: number;
}

export interface NodeOutcome {
  readonly node: string;
  /** Both token files arrived. */
  readonly ok: boolean;
  /** Text of the first failed token item (notification N7), when !ok. */
  readonly error?: string;
  readonly items: readonly PushItemOutcome[];
}

export interface PushRequest {
  readonly rsyncPath: string;
  readonly sshPath: string;
  readonly source: string;
  readonly account: string;
  readonly desiredUID: number;
  readonly realName: string;
  readonly role: string;
  readonly nodes: readonly string[];
  readonly unpingable: ReadonlySet<string>;
  /** Rendered role-file destination; undefined = do not push a role file. */
  readonly roleFileDestination: string | undefined;
  readonly sshOptions: readonly string[];
  readonly fileCopierOptions: readonly string[];
  readonly cache: string;
  readonly env: Env;
  readonly tempDir: string;
  readonly policy: RetryPolicy;
  /** Global deadline; each item gets `perItemMs` below it. */
  readonly signal: AbortSignal;
  readonly perItemMs: number;
  readonly run: CommandRunner;
  /** Shared limiter for all rsync processes of the stage. */
  readonly limit: ReturnType<typeof pLimit>;
  readonly onItem?: (item: PushItemOutcome) => void;
}

export interface PushOutcome {
  readonly ok: boolean;
  readonly nodes: readonly NodeOutcome[];
  /** Problems that did not fail the service (role file). */
  readonly warnings: readonly string[];
}

export function tokenDestinations(
  desiredUID: number,
  realName: string,
): { token: string; tokenForService: string } {
  return { token: `/tmp/vt_u${desiredUID}`, tokenForService: `/tmp/vt_u${desiredUID}-${realName}` };
}

export async function pushService(req: PushRequest): Promise<PushOutcome> {
  const warnings: string[] = [];
  let roleFile: string | undefined;
  try {
    if (req.roleFileDestination !== undefined && req.nodes.length > 0) {
      try {
        roleFile = await createPrivateTempFile(req.tempDir, 'managed_tokens_default_role_file_');
        await fs.writeFile(roleFile, `${req.role}\n`);
      } catch (err) {
        warnings.push(`could not create the role file, not pushing it: ${(err as Error).message}`);
        roleFile = undefined;
      }
    }
    const nodes = await Promise.all(req.nodes.map((node) => pushToNode(req, node, roleFile)));
    return { ok: nodes.every((n) => n.ok), nodes, warnings };
  } finally {
    if (roleFile !== undefined) await removeIfExists(roleFile).catch(() => undefined);
  }
}

async function pushToNode(
  req: PushRequest,
  node: string,
  roleFile: string | undefined,
): Promise<NodeOutcome> {
  const dest = tokenDestinations(req.desiredUID, req.realName);
  const items: Promise<PushItemOutcome>[] = [
    pushItem(req, node, 'token', req.source, dest.token),
    pushItem(req, node, 'tokenForService', req.source, dest.tokenForService),
  ];
  if (roleFile !== undefined && req.roleFileDestination !== undefined) {
    items.push(pushItem(req, node, 'roleFile', roleFile, req.roleFileDestination));
  }
  const outcomes = await Promise.all(items);
  const firstTokenFailure = outcomes.find((o) => o.kind !== 'roleFile' && !o.result.ok);
  if (firstTokenFailure === undefined || firstTokenFailure.result.ok)
    return { node, ok: true, items: outcomes };
  const failure = firstTokenFailure.result;
  return {
    node,
    ok: false,
    error: failure.timedOut ? '(timeout error)' : failure.error,
    items: outcomes,
  };
}

async function pushItem(
  req: PushRequest,
  node: string,
  kind: ItemKind,
  source: string,
  destination: string,
): Promise<PushItemOutcome> {
  const started = Date.now();
  const finish = (result: ItemResult): PushItemOutcome => {
    const outcome = { node, kind, destination, result, durationMs: Date.now() - started };
    req.onItem?.(outcome);
    return outcome;
  };
  const unsafe = unsafeDestination(req.account, node, destination);
  if (unsafe !== undefined)
    return finish({
      ok: false,
      attempts: 0,
      timedOut: false,
      error: `refusing to push: ${unsafe}`,
    });

  const deadline = deadlineSignal(req.signal, req.perItemMs);
  const argv = rsyncArgv({ ...req, source, node, destination });
  const env = kerberosEnv(req.env, req.cache);
  const policy = kind === 'roleFile' ? { numRetries: 0, retrySleepMs: 0 } : req.policy;
  const result = await withRetries({
    policy,
    deadline,
    node,
    nodeWasPingable: !req.unpingable.has(node),
    attempt: async () => {
      const outcome = await req.limit(() =>
        req.run({ argv, env, signal: deadline, capture: 'none' }),
      );
      return outcome.ok
        ? { ok: true }
        : { ok: false, error: `rsync command failed: ${outcome.message}` };
    },
  });
  return finish(result);
}

/** N7 text. */
export function pushFailureMessage(node: string, error: string): string {
  return `Error pushing vault tokens to destination node ${node}: ${error}`;
}
