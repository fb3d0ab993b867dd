/**
 * Stage 3 (token-push.md 3.12, external-tools.md 3.8): is each destination node answering ping?
 * An unpingable node is still pushed to, but its failed pushes are not retried.
 */
import type { CommandRunner, Env } from '../pipeline/command.js';

const DEFAULT_WAIT = '5';
const DEFAULT_COUNT = '1';

/**
 * `-W <w> -c <c> [extra flags…]` from the operator's pingOptions, merged as the original does (Q28):
 * `-W`/`-c` values replace the defaults (also attached, `-W2`, `-c3`); other flags are appended in
 * order with the word after them kept only when it is not a flag and not the last word; bare words
 * are dropped.
 */
export function mergePingOptions(options: readonly string[]): string[] {
  let wait = DEFAULT_WAIT;
  let count = DEFAULT_COUNT;
  const extra: string[] = [];
  for (let i = 0; i < options.length; i++) {
    const word = options[i] ?? '';
    if (!word.startsWith('-') || word === '-') continue;
    const next = options[i + 1];
    const nextIsValue = next !== undefined && !next.startsWith('-');
    if (word === '-W' || word === '-c') {
      if (nextIsValue) {
        if (word === '-W') wait = next;
        else count = next;
        i++;
      }
      continue;
    }
    if (/^-W./.test(word)) {
      wait = word.slice(2);
      continue;
    }
    if (/^-c./.test(word)) {
      count = word.slice(2);
      continue;
    }
    extra.push(word);
    if (nextIsValue && i + 1 < options.length - 1) {
      extra.push(next);
      i++;
    }
  }
  return ['-W', wait, '-c', count, ...extra];
}

export function pingArgv(pingPath: string, node: string, options: readonly string[]): string[] {
  return [pingPath, ...mergePingOptions(options), node];
}

export type PingResult =
  | { readonly node: string; readonly ok: true; readonly durationMs: number }
  | { readonly node: string; readonly ok: false; readonly error: string };

export interface PingRequest {
  /** Resolved at startup; `""` when ping was not found (every node is then unpingable). */
  readonly pingPath: string;
  readonly nodes: readonly string[];
  readonly options: readonly string[];
  readonly env: Env;
  /** One deadline for all of a service's pings. */
  readonly deadline: AbortSignal;
  readonly run: CommandRunner;
}

/** Pings every node concurrently; results in node order. */
export async function pingNodes(req: PingRequest): Promise<PingResult[]> {
  return Promise.all(req.nodes.map((node) => pingNode(req, node)));
}

async function pingNode(req: PingRequest, node: string): Promise<PingResult> {
  if (req.pingPath === '') return { node, ok: false, error: 'exec: no command' };
  const outcome = await req.run({
    argv: pingArgv(req.pingPath, node, req.options),
    env: req.env,
    signal: req.deadline,
    capture: 'combined',
  });
  if (outcome.ok) return { node, ok: true, durationMs: outcome.durationMs };
  const reason = req.deadline.aborted ? 'context deadline exceeded' : outcome.message;
  const output = outcome.excerpt.trim();
  return { node, ok: false, error: output === '' ? reason : `${output} ${reason}` };
}

/** N5 text. */
export function unpingableMessage(nodes: readonly string[]): string {
  return `Could not ping the following nodes: ${nodes.join(', ')}`;
}
