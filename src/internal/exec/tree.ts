/**
 * Killing a child together with everything it started. The process-group kill misses descendants
 * that moved to a group or session of their own (setsid, a daemonising tool) while still holding our
 * pipes or doing work past the deadline, so those are found through /proc by parent PID.
 */
import { readdirSync, readFileSync } from 'node:fs';

interface ProcessEntry {
  readonly pid: number;
  readonly ppid: number;
  readonly pgid: number;
}

/** `/proc/<pid>/stat`: the command name is in parentheses and may itself contain ") ". */
function readEntry(pid: number): ProcessEntry | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // gone meanwhile, or no /proc
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ppid = Number(fields[1]);
  const pgid = Number(fields[2]);
  if (!Number.isInteger(ppid) || !Number.isInteger(pgid)) return undefined;
  return { pid, ppid, pgid };
}

function processTable(): ProcessEntry[] {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return [];
  }
  const entries: ProcessEntry[] = [];
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const entry = readEntry(Number(name));
    if (entry !== undefined) entries.push(entry);
  }
  return entries;
}

/** `root` and all its descendants still parented to it (recursively), from one /proc snapshot. */
export function processTree(root: number): ProcessEntry[] {
  const table = processTable();
  const children = new Map<number, ProcessEntry[]>();
  for (const entry of table) {
    const siblings = children.get(entry.ppid);
    if (siblings === undefined) children.set(entry.ppid, [entry]);
    else siblings.push(entry);
  }
  const rootEntry = table.find((entry) => entry.pid === root);
  const found: ProcessEntry[] = rootEntry === undefined ? [] : [rootEntry];
  const queue = [root];
  const seen = new Set(queue);
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    for (const child of children.get(next) ?? []) {
      if (seen.has(child.pid)) continue;
      seen.add(child.pid);
      found.push(child);
      queue.push(child.pid);
    }
  }
  return found;
}

function signal(target: number, sig: NodeJS.Signals): void {
  try {
    process.kill(target, sig);
  } catch {
    // already gone
  }
}

const ownGroup = ((): number | undefined => readEntry(process.pid)?.pgid)();
const MAX_SCANS = 4;

/**
 * SIGKILLs `pid`'s process group (`pid` leads it: children are spawned detached) and every
 * descendant with its group. The tree is collected before anything is killed: a killed parent's
 * children are re-parented and could no longer be found. Members are stopped while collecting, so
 * none can fork a new one unseen between the scans.
 */
export function killProcessTree(pid: number): void {
  const members = new Map<number, ProcessEntry>();
  for (let scan = 0; scan < MAX_SCANS; scan++) {
    const fresh = processTree(pid).filter((entry) => !members.has(entry.pid));
    if (fresh.length === 0 && scan > 0) break;
    for (const entry of fresh) {
      members.set(entry.pid, entry);
      signal(entry.pid, 'SIGSTOP');
    }
  }
  const groups = new Set<number>([pid]);
  for (const entry of members.values()) groups.add(entry.pgid);
  for (const group of groups) if (group > 1 && group !== ownGroup) signal(-group, 'SIGKILL');
  for (const entry of members.values()) signal(entry.pid, 'SIGKILL');
}
