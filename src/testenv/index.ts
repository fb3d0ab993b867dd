/**
 * # The test world (`src/testenv`)
 *
 * One reusable module for tests, `npm run demo` and `npm run bench`: real MIT Kerberos, real OpenSSH,
 * real rsync and ping on loopback, and faithful doubles for the HTCondor/htgettoken programs Debian
 * does not ship (spec: external-tools.md §5-6).
 *
 * ```ts
 * const world = await createWorld({ nodes: 3, services: [{ name: 'dune_production', account: 'dunepro' }] });
 * afterAll(world.stop);
 * await world.run(['bin/token-push', '-c', cfg]);        // as mtuser, with world.env, private /tmp
 * world.nodes[1].readTmp('vt_u5000');                    // what rsync landed on node 2
 * world.doubles.calls('condor_vault_storer');            // invocation log
 * ```
 *
 * ## Pieces (each usable alone)
 * - `provision()` runs `scripts/provision.sh` (Debian packages when missing, /run/sshd, cap_net_raw on
 *   ping, the `mtuser` account; quiet when all is present, throws loudly otherwise). Needs root.
 * - `startKdc()`: krb5kdc in its own directory with its own krb5.conf/kdc.conf and realm (default
 *   MT.TEST), on a free port of the world's own loopback address. `writeKeytab()` per principal,
 *   `stop()`/`start()` (KDC down: kinit fails in ms), `hang()` (SIGSTOP: connects, never answers),
 *   `invalidateKeys()` (stale keytab; or `writeKeytab(otherPrincipal, svc.keytab)` for a wrong one).
 * - `startNodes()`: one real sshd per node, each on its own 127.A.B.(11+i) address with a host name
 *   `node<i>.<world>.mtworld.test` in /etc/hosts, its own ed25519 host key (known_hosts line provided),
 *   GSSAPI with `host/<name>@REALM` in its own keytab, and `k5login_directory` in its own krb5.conf
 *   authorising the services' principals for the destination accounts (nothing is written to the
 *   accounts' homes, so parallel worlds cannot disturb each other). Each sshd runs in a private mount
 *   namespace whose /tmp is bind-mounted to `node.tmpDir`. Faults: `down()` (sshd killed, address
 *   blackholed in the local routing table: ping exits 2, connects fail), `hang()` (SIGSTOP: TCP
 *   connects, no banner), `refuseAuth()` (empty k5login: GSSAPI ok, login refused, rsync 255),
 *   `readOnly()` (/tmp remounted read-only: rsync 23), `stopSshd()` (pingable, connection refused:
 *   rsync 12 or 255), `changeHostKey()` (host key mismatch: rsync 255, no prompt); `heal()` undoes all.
 * - `installDoubles()`: condor_status, condor_config_val, condor_vault_storer, condor_store_cred,
 *   htgettoken as one Node script (`doubles/mtfake.mjs`, absolute node in the shebang) symlinked into a
 *   bin dir. Knobs are in `mtfake.json` beside them (found from the script's own path, never from the
 *   environment, which is the contract under test); the call log is `state/calls.jsonl`. Strict
 *   contract checks exit 97 (`mtfake-contract: …`). The storer's default `flow` mode re-enacts the real
 *   script's file choreography (/tmp/vt_u<uid>, /tmp/vt_u<uid>-<service>, bt_u files, credd store)
 *   by calling the other doubles. Vault tokens are `hvs.`+base64url("mtfake:<exp>:<rand>:<service>@<schedd>")
 *   (`decodeVaultToken()` recovers the tag, so a token in the wrong service's file is detectable);
 *   bearer tokens are unsigned-but-well-formed WLCG JWTs (`decodeJwtClaims()`).
 * - `writeTokenPushConfig(world, services, opts)` writes a token-push configuration for the world
 *   (own token root, uid.db and logs under `world.workDir/<name>`); `tokenPushArgv()` runs the build.
 * - `createWorld()` composes all of it (plus, on request, the SMTP, pushgateway, HTTP and fake FERRY
 *   receivers other engineers own) and returns a `World` (see world.ts).
 *
 * ## Decisions
 * - Tests run as root; executables run as `mtuser`. `world.run()` (or `world.wrap(argv)` for callers
 *   that spawn themselves) starts them via
 *   `nsenter` into the world's *controller* mount namespace (private /tmp = `world.tmpDir`) and
 *   `setpriv` to mtuser. TMPDIR is deliberately NOT in `world.env`: the real condor_vault_storer
 *   hard-codes /tmp while token-push stages at $TMPDIR (external-tools.md §3.5, §6.5); a private /tmp
 *   per world gives the same isolation without splitting the two. Plain `runAs(argv, {env: world.env})`
 *   also works but shares the host /tmp with parallel worlds.
 * - Everything lives under /var/tmp/mtworld/<id> (NOT /tmp, which is replaced inside the namespaces).
 *   Each world owns 127.A.B.0/24 (chosen under a lock against /etc/hosts and live worlds), so daemons
 *   of parallel test files never collide; ports are free ports on those addresses.
 * - ssh reads ~/.ssh/config from the passwd home, not $HOME (observed; it expands relative Includes
 *   with $HOME, hence an absolute Include line): each world adds ~mtuser/.ssh/mtworld/<id>.conf
 *   (Port, known_hosts, StrictHostKeyChecking yes, GSSAPI) matching only its own host names, so plain
 *   `rsync file dunepro@node2…:/tmp/x` works; `world.sshOptions` carries the same settings for
 *   token-push's `sshOptions`.
 * - Teardown (`stop()`, the process-exit safety net, and reaping of worlds whose owner process died)
 *   kills every recorded process (pid + start time, never a reused pid), every process left in the
 *   world's mount namespaces (sshd sessions, held grandchildren of doubles), removes blackhole routes,
 *   /etc/hosts lines, the ssh include file and the world directory. `leftoverWorldProcesses()` lists
 *   anything still referencing a world; `worldLeftovers()` adds dirs, hosts lines and routes (for a
 *   suite-level leak check, e.g. in a vitest globalSetup teardown).
 * - Cost: `createWorld({ nodes: 3 })` takes ≈0.3-0.5 s on this 2-core host under load (accounts
 *   already present), `stop()` ≈40 ms. Nothing is shared between worlds, so test files run in parallel.
 */
export { provision, ensureAccount, repoRoot } from './provision.js';
export { startKdc, type Kdc, type KdcOptions } from './kdc.js';
export {
  startNodes,
  type Node,
  type NodeFaults,
  type NodeSpec,
  type StartNodesOptions,
} from './nodes.js';
export {
  installDoubles,
  decodeVaultToken,
  decodeJwtClaims,
  DOUBLE_TOOLS,
  DEFAULT_KNOBS,
  type Doubles,
  type DoubleKnobs,
  type DoubleCall,
  type DoubleTool,
  type ToolKnob,
  type ScheddAd,
} from './doubles.js';
export {
  createWorld,
  type World,
  type WorldOptions,
  type WorldService,
  type ServiceSpec,
} from './world.js';
export {
  writeTokenPushConfig,
  tokenPushArgv,
  COLLECTOR,
  SCHEDD,
  VAULT,
  FILE_COPIER_OPTIONS,
  oneScheddAds,
  worldServices,
  landedOnNodes,
  nothingOnNodes,
  type TokenPushService,
  type TokenPushConfigOptions,
  type TokenPushConfigFiles,
} from './token-push-config.js';
export { leftoverWorldProcesses, reapDeadWorlds, worldLeftovers, WORLDS_ROOT } from './registry.js';
export {
  ensureUser,
  runAs,
  TEST_USER,
  type UnixUser,
  type RunResult,
  type RunAsOptions,
} from './user.js';
