import { chmodSync, mkdirSync } from 'node:fs';
import {
  identify,
  killProcess,
  mountNamespaceOf,
  runTool,
  sleep,
  startDaemon,
  SYSTEM_PATH,
  type ProcessId,
} from './proc.js';

/**
 * A private mount namespace whose /tmp is bind-mounted to a directory of the host, kept alive by a
 * sleeping holder process. Processes are put into it with `nsenter` (argv prefix), so no shell is
 * needed; mounts inside it vanish with the namespace, leaving nothing behind on the host.
 */
export interface PrivateTmpNamespace {
  readonly holder: ProcessId;
  /** /proc/<pid>/ns/mnt link text identifying the namespace */
  readonly nsLink: string;
  /** host directory that is /tmp inside */
  readonly tmpDir: string;
  /** argv prefix that runs a program inside the namespace (needs root) */
  enter(argv: readonly string[]): string[];
  /** remounts the private /tmp read-only (true) or read-write (false) */
  setReadOnly(readOnly: boolean): Promise<void>;
}

export async function createPrivateTmpNamespace(
  tmpDir: string,
  opts: { logFile: string; env?: Record<string, string>; onProcess?: (id: ProcessId) => void },
): Promise<PrivateTmpNamespace> {
  mkdirSync(tmpDir, { recursive: true });
  chmodSync(tmpDir, 0o1777);
  const ownNs = mountNamespaceOf(process.pid);
  const { id } = startDaemon(
    ['unshare', '--mount', '--propagation', 'private', '--', 'sleep', 'infinity'],
    {
      env: { PATH: SYSTEM_PATH, ...(opts.env ?? {}) },
      logFile: opts.logFile,
    },
  );
  opts.onProcess?.(id);
  let nsLink = ownNs;
  for (let i = 0; i < 200 && nsLink === ownNs; i++) {
    await sleep(5);
    try {
      nsLink = mountNamespaceOf(id.pid);
    } catch {
      break;
    }
  }
  if (nsLink === ownNs) {
    killProcess(id);
    throw new Error(`unshare --mount did not create a mount namespace (see ${opts.logFile})`);
  }
  // The holder exec'd sleep: re-identify to record the start time it keeps.
  const holder = identify(id.pid);
  const enter = (argv: readonly string[]): string[] => [
    '/usr/bin/nsenter',
    `--target=${holder.pid}`,
    '--mount',
    '--',
    ...argv,
  ];
  await runTool(enter(['mount', '--bind', tmpDir, '/tmp']));
  return {
    holder,
    nsLink,
    tmpDir,
    enter,
    async setReadOnly(readOnly) {
      await runTool(enter(['mount', '-o', `remount,bind,${readOnly ? 'ro' : 'rw'}`, '/tmp']));
    },
  };
}
