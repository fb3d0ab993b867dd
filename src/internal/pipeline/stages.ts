/**
 * The token-push pipeline (token-push.md 3), stage by stage. Each stage finishes for every service
 * before the next starts; a service that fails a stage is reported as a failure and not given to
 * later stages; every other service carries on.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import pLimit from 'p-limit';
import type { ServiceSettings } from '../config/index.js';
import {
  createScheddDiscovery,
  vaultServerFromCondor,
  type ScheddDiscovery,
} from '../condor/index.js';
import { obtainTicket } from '../kerberos/index.js';
import { setupError, pushError } from '../notifications/types.js';
import { pingNodes, unpingableMessage } from '../ping/index.js';
import { pushFailureMessage, pushService, tokenDestinations } from '../push/index.js';
import {
  checkVaultToken,
  condorTokenPath,
  createPrivateTempFile,
  getToken,
  readIfExists,
  removeLocalTokens,
  scheddTokenPath,
  storeAndGetToken,
  storedTokenPath,
} from '../vaulttoken/index.js';
import { noopTracing, type SpanAttributes, type SpanHandle, type Tracing } from '../tracing/api.js';
import { deadlineSignal } from './command.js';
import type {
  AssembledService,
  Getter,
  PipelineInput,
  RunReport,
  ServicePushReport,
} from './types.js';

const KERBEROS_FAILED = 'Could not obtain and verify kerberos ticket';
const KERBEROS_TIMEOUT = 'Timeout error';
const NO_PUSH_SOURCE = 'Error retrieving one or more values from the configuration to push tokens';

/** Runs every stage; always cleans up and always returns the report. */
export async function runPipeline(input: PipelineInput): Promise<RunReport> {
  const run = new PipelineRun(input);
  try {
    await run.stages();
  } finally {
    await run.cleanup();
  }
  return run.report();
}

class PipelineRun {
  private readonly success = new Map<string, boolean>();
  private readonly pushes: ServicePushReport[] = [];
  private kerberosDir: string | undefined;
  private readonly cacheFiles: string[] = [];
  private nothingAssembled = false;
  private readonly log;
  private readonly tracing: Tracing;

  constructor(private readonly input: PipelineInput) {
    this.log = input.log;
    this.tracing = input.tracing ?? noopTracing;
    for (const s of input.services) this.success.set(s.name.configName, false);
    for (const s of input.skipped) this.success.set(s.configName, false);
  }

  async stages(): Promise<void> {
    const input = this.input;
    this.registerServicesInDb();
    await this.createKerberosDir();
    let services = await this.assembleServices();
    if (services.length === 0) {
      this.nothingAssembled = true;
      this.log.error('no serviceConfigs to operate on');
      return;
    }
    this.registerNodesInDb(services);
    input.metrics.stageDuration('setup', secondsSince(input.startedAt.getTime()));

    services = await this.timed(
      'getKerberosTickets',
      'worker.GetKerberosTicketsWorker',
      () => this.getKerberosTickets(services),
      (survivors) => survivors.length > 0, // as the original: not recorded when every kinit failed
    );
    if (services.length === 0) return;

    services = await this.timed('getTokens', 'worker.GetTokenWorker', () =>
      this.getTokens(services),
    );
    services = await this.timed('storeAndGetTokens', 'worker.StoreAndGetTokenWorker', () =>
      this.storeAndGetTokens(services),
    );
    await this.removeLocalTokens(services);

    if (input.mode.kind === 'test' || (input.mode.kind === 'onboarding' && !input.mode.push)) {
      for (const s of services) this.success.set(s.name.configName, true);
      this.log.info({ mode: input.mode.kind }, 'Stopping before ping and push');
      return;
    }
    if (services.length === 0) return;

    const unpingable = await this.timed('pingNodes', 'worker.PingAggregatorWorker', () =>
      this.pingNodes(services),
    );
    await this.timed('pushTokens', 'worker.PushTokensWorker', () =>
      this.pushTokens(services, unpingable),
    );
  }

  // ---- setup ----

  private registerServicesInDb(): void {
    const db = this.input.db;
    if (db === undefined) return;
    try {
      db.updateServices([...this.success.keys()]);
    } catch (err) {
      this.log.error(
        { err: (err as Error).message },
        'Could not update services in ManagedTokensDatabase',
      );
    }
  }

  private async createKerberosDir(): Promise<void> {
    try {
      this.kerberosDir = await fs.mkdtemp(path.join(this.input.tempDir, 'managed-tokens'));
      await fs.chmod(this.kerberosDir, 0o700);
    } catch (err) {
      this.log.error(
        { err: (err as Error).message },
        'Could not create per-run kerberos cache directory; using the temp directory',
      );
      this.kerberosDir = undefined;
    }
  }

  /** Per-service assembly (3.5), all services concurrently; collector answers are shared. */
  private async assembleServices(): Promise<AssembledService[]> {
    const discovery = createScheddDiscovery({
      run: this.input.run,
      env: this.input.env,
      signal: this.input.signal,
      programPath: this.input.programs.condor_status,
    });
    const assembled = await Promise.all(
      this.input.services.map((s) =>
        this.assembleService(s, discovery).catch((err: Error) => {
          this.log.error(
            { service: s.name.configName, err: err.message },
            'Could not set up service; skipping it',
          );
          return undefined;
        }),
      ),
    );
    return assembled.filter((s): s is AssembledService => s !== undefined);
  }

  private async assembleService(
    settings: ServiceSettings,
    discovery: ScheddDiscovery,
  ): Promise<AssembledService | undefined> {
    const name = settings.name;
    const log = this.log.child({ service: name.configName });
    const skip = (reason: string): undefined => {
      log.error({ err: reason }, 'Could not set up service; skipping it');
      return undefined;
    };
    let cache: string;
    try {
      cache = await createPrivateTempFile(
        this.kerberosDir ?? this.input.tempDir,
        `managed-tokens-krb5ccCache-${name.realName}`,
      );
      this.cacheFiles.push(cache);
    } catch (err) {
      return skip(`could not create kerberos cache file: ${(err as Error).message}`);
    }

    const uid = this.desiredUID(settings);
    if (!uid.ok) return skip(uid.error);
    if (settings.userPrincipal === '') return skip('Cannot have a blank userPrincipal');

    const vault = await this.vaultServer(settings);
    if (!vault.ok) return skip(vault.error);

    const getter = await this.tokenGetter(settings, discovery);
    if (!getter.ok) return skip(getter.error);
    if (getter.getter.kind === 'storeAndGetToken') {
      log.debug(
        { collector: getter.getter.collector, schedds: getter.getter.schedds },
        'Found schedds',
      );
    }
    return {
      settings,
      name,
      log,
      cache,
      desiredUID: uid.uid,
      vaultServer: vault.vaultServer,
      getter: getter.getter,
    };
  }

  /** 3.5 step 7 and 3.5.4: how the service gets its token, and from which credds. */
  private async tokenGetter(
    settings: ServiceSettings,
    discovery: ScheddDiscovery,
  ): Promise<{ ok: true; getter: Getter } | { ok: false; error: string }> {
    if (settings.tokenGetter === 'getToken') return { ok: true, getter: { kind: 'getToken' } };
    const [firstCollector] = settings.collectorHosts;
    if (firstCollector === undefined) return { ok: false, error: 'no collector hosts found' };
    if (settings.creddHost !== undefined) {
      return {
        ok: true,
        getter: {
          kind: 'storeAndGetToken',
          collector: firstCollector,
          schedds: [settings.creddHost],
        },
      };
    }
    const found = await discovery.discover(settings.collectorHosts, settings.scheddConstraint);
    if (!found.ok) return found;
    for (const r of found.refused) {
      this.log.warn(
        { service: settings.name.configName, collector: r.collector, schedd: r.name },
        `Skipping schedd ad from collector ${r.collector}: Name ${JSON.stringify(r.name)} ${r.reason}`,
      );
    }
    return {
      ok: true,
      getter: { kind: 'storeAndGetToken', collector: found.collector, schedds: found.schedds },
    };
  }

  private desiredUID(
    settings: ServiceSettings,
  ): { ok: true; uid: number } | { ok: false; error: string } {
    if (settings.desiredUIDOverride !== undefined)
      return { ok: true, uid: settings.desiredUIDOverride };
    if (this.input.db === undefined)
      return { ok: false, error: 'no valid database to read UID from' };
    try {
      return { ok: true, uid: this.input.db.getUidByUsername(settings.account) };
    } catch (err) {
      return { ok: false, error: `could not get UID by username: ${(err as Error).message}` };
    }
  }

  private async vaultServer(
    settings: ServiceSettings,
  ): Promise<{ ok: true; vaultServer: string } | { ok: false; error: string }> {
    const source = settings.vaultServer;
    if (source.kind !== 'askCondor') return { ok: true, vaultServer: source.value };
    return vaultServerFromCondor(
      this.input.run,
      this.input.env,
      this.input.signal,
      this.input.programs.condor_config_val,
    );
  }

  private registerNodesInDb(services: readonly AssembledService[]): void {
    const db = this.input.db;
    if (db === undefined) return;
    try {
      db.updateNodes(services.flatMap((s) => s.settings.nodes));
    } catch (err) {
      this.log.error(
        { err: (err as Error).message },
        'Could not update nodes in ManagedTokensDatabase',
      );
    }
  }

  // ---- [1] Kerberos ----

  private async getKerberosTickets(
    services: readonly AssembledService[],
  ): Promise<AssembledService[]> {
    const { input } = this;
    const limit = pLimit(input.concurrency.kerberos);
    const results = await Promise.all(
      services.map((s) =>
        limit(async () => {
          const ok = await this.span(
            'worker.GetKerberosTicketsWorker_anonFunc',
            { account: s.settings.account, service: s.name.configName },
            async (span) => {
              const result = await obtainTicket({
                kinitPath: input.programs.kinit,
                klistPath: input.programs.klist,
                keytab: s.settings.keytabPath,
                principal: s.settings.userPrincipal,
                cache: s.cache,
                env: input.env,
                deadline: deadlineSignal(input.signal, input.timeouts.kerberosMs),
                run: input.run,
              });
              if (result.ok) {
                input.metrics.kinitSucceeded(s.name.realName, result.durationMs / 1000);
                s.log.debug('Obtained and verified kerberos ticket');
                return true;
              }
              input.metrics.kinitFailed(s.name.realName);
              span.markError(result.error);
              const notification = result.timedOut ? KERBEROS_TIMEOUT : KERBEROS_FAILED;
              s.log.error(
                { err: result.error, notification },
                'Failed to obtain kerberos ticket.  Will not try to obtain or push vault token to service nodes',
              );
              input.notifications.send(setupError(s.name.configName, notification));
              return false;
            },
          );
          return ok ? s : undefined;
        }),
      ),
    );
    return results.filter((s): s is AssembledService => s !== undefined);
  }

  // ---- [2a] get-token and [2b] store-and-get-token ----

  /**
   * Runs `task` for every service; services with the same real name share token files, so they run
   * one after the other; different real names run side by side up to the configured bound.
   */
  private async perRealName(
    services: readonly AssembledService[],
    task: (s: AssembledService) => Promise<boolean>,
  ): Promise<AssembledService[]> {
    const groups = new Map<string, AssembledService[]>();
    for (const s of services)
      groups.set(s.name.realName, [...(groups.get(s.name.realName) ?? []), s]);
    const limit = pLimit(this.input.concurrency.tokenStores);
    const survivors = new Set<AssembledService>();
    await Promise.all(
      [...groups.values()].map((group) =>
        limit(async () => {
          for (const s of group) {
            const ok = await this.guarded(s, 'vault token retrieval', () =>
              this.span(
                'worker.StoreAndGetTokensForSchedd',
                {
                  service: s.name.configName,
                  tokenRootPath: s.settings.serviceCreddVaultTokenPathRoot,
                },
                (span) =>
                  task(s).then((result) => {
                    if (!result)
                      span.markError(`could not obtain vault token for ${s.name.configName}`);
                    return result;
                  }),
              ),
            );
            if (ok) survivors.add(s);
          }
        }),
      ),
    );
    return services.filter((s) => survivors.has(s));
  }

  private async getTokens(services: readonly AssembledService[]): Promise<AssembledService[]> {
    const { input } = this;
    const getters = services.filter((s) => s.getter.kind === 'getToken');
    const others = services.filter((s) => s.getter.kind !== 'getToken');
    const ok = await this.perRealName(getters, async (s) => {
      const result = await getToken({
        htgettokenPath: input.programs.htgettoken,
        vaultServer: s.vaultServer,
        issuer: s.name.experiment,
        role: s.name.role,
        realName: s.name.realName,
        runUID: input.runUID,
        tokenRoot: s.settings.serviceCreddVaultTokenPathRoot,
        tempDir: input.tempDir,
        cache: s.cache,
        htgettokenOpts: s.settings.htgettokenOpts,
        verbose: input.verbose,
        interactive: input.mode.kind === 'onboarding',
        env: input.env,
        deadline: deadlineSignal(input.signal, input.timeouts.vaultStorerMs),
        run: input.run,
      });
      logToolOutput(s, 'htgettoken', result.ok, result.outputExcerpt);
      if (result.ok) {
        for (const w of result.warnings) s.log.warn({ warning: w }, 'Bearer token check');
        input.metrics.tokenGetSucceeded(s.name.realName, result.durationMs / 1000);
        s.log.info({ storedAt: result.storedAt }, 'Obtained vault token');
        return true;
      }
      input.metrics.tokenGetFailed(s.name.realName);
      s.log.error({ err: result.error }, 'Could not get vault token');
      // Q20 fix: notifications carry the configName.
      input.notifications.send(setupError(s.name.configName, result.error));
      return false;
    });
    return services.filter((s) => others.includes(s) || ok.includes(s));
  }

  private async storeAndGetTokens(
    services: readonly AssembledService[],
  ): Promise<AssembledService[]> {
    const { input } = this;
    const storers = services.filter((s) => s.getter.kind === 'storeAndGetToken');
    const ok = await this.perRealName(storers, async (s) => {
      if (s.getter.kind !== 'storeAndGetToken') return true;
      const result = await storeAndGetToken({
        storerPath: input.programs.condor_vault_storer,
        realName: s.name.realName,
        schedds: s.getter.schedds,
        collector: s.getter.collector,
        vaultServer: s.vaultServer,
        runUID: input.runUID,
        tokenRoot: s.settings.serviceCreddVaultTokenPathRoot,
        tempDir: input.tempDir,
        cache: s.cache,
        htgettokenOpts: s.settings.htgettokenOpts,
        interactive: input.mode.kind === 'onboarding',
        env: input.env,
        signal: input.signal,
        perScheddMs: input.timeouts.vaultStorerMs,
        run: input.run,
        onSchedd: (r) => {
          logToolOutput(s, 'condor_vault_storer', r.ok, r.outputExcerpt, r.schedd);
          if (r.ok) {
            input.metrics.tokenStoreSucceeded(s.name.realName, r.schedd, r.durationMs / 1000);
            s.log.info({ schedd: r.schedd }, 'Stored vault token');
          } else {
            input.metrics.tokenStoreFailed(s.name.realName, r.schedd);
            const detail = r.failure.kind === 'failed' ? r.failure.error : r.failure.kind;
            s.log.error({ schedd: r.schedd, err: detail }, 'Could not store vault token');
          }
          for (const line of r.log) s.log.warn({ schedd: r.schedd }, line);
        },
      });
      if (!result.ok) {
        s.log.error(result.message);
        input.notifications.send(setupError(s.name.configName, result.message));
      }
      return result.ok;
    });
    return services.filter((s) => s.getter.kind !== 'storeAndGetToken' || ok.includes(s));
  }

  /** 3.10 with the Q21 fix (realName). */
  private async removeLocalTokens(services: readonly AssembledService[]): Promise<void> {
    for (const s of services) {
      const { removed, errors } = await removeLocalTokens({
        runUID: this.input.runUID,
        tempDir: this.input.tempDir,
        realName: s.name.realName,
      });
      if (removed.length > 0) s.log.debug({ removed }, 'Removed local vault tokens');
      for (const e of errors) s.log.error(e);
    }
  }

  // ---- [3] ping ----

  /** Unpingable nodes per service (configName): one service's failed ping never affects another's push. */
  private async pingNodes(
    services: readonly AssembledService[],
  ): Promise<Map<string, ReadonlySet<string>>> {
    const { input } = this;
    const unpingable = new Map<string, ReadonlySet<string>>();
    const limit = pLimit(input.concurrency.ping);
    await Promise.all(
      services.map(async (s) => {
        const deadline = deadlineSignal(input.signal, input.timeouts.pingMs);
        const results = await pingNodes({
          pingPath: input.programs.ping,
          nodes: s.settings.nodes,
          options: s.settings.pingOptions,
          env: input.env,
          deadline,
          run: (req) => limit(() => input.run(req)),
        });
        const failed: string[] = [];
        unpingable.set(s.name.configName, new Set(results.filter((r) => !r.ok).map((r) => r.node)));
        for (const r of results) {
          if (r.ok) {
            input.metrics.pingSucceeded(r.node, r.durationMs / 1000);
          } else {
            input.metrics.pingFailed(r.node);
            failed.push(r.node);
            s.log.error({ node: r.node, err: r.error }, 'Could not ping node');
          }
        }
        if (failed.length > 0) {
          s.log.error(unpingableMessage(failed));
          input.notifications.send(setupError(s.name.configName, unpingableMessage(failed)));
        }
      }),
    );
    return unpingable;
  }

  // ---- [4] push ----

  private async pushTokens(
    services: readonly AssembledService[],
    unpingable: ReadonlyMap<string, ReadonlySet<string>>,
  ): Promise<void> {
    const { input } = this;
    const limit = pLimit(input.concurrency.push);
    await Promise.all(
      services.map((s) =>
        this.guarded(s, 'push', () =>
          this.pushServiceTokens(s, unpingable.get(s.name.configName) ?? new Set(), limit),
        ),
      ),
    );
  }

  private async pushServiceTokens(
    s: AssembledService,
    unpingable: ReadonlySet<string>,
    limit: ReturnType<typeof pLimit>,
  ): Promise<boolean> {
    const { input } = this;
    const source = await this.pushSource(s);
    if (!source.ok) {
      s.log.error({ err: source.error }, NO_PUSH_SOURCE);
      input.notifications.send(setupError(s.name.configName, `${NO_PUSH_SOURCE}: ${source.error}`));
      this.pushes.push({
        configName: s.name.configName,
        realName: s.name.realName,
        account: s.settings.account,
        source: undefined,
        nodes: [],
      });
      return false;
    }
    if (s.settings.fileCopierOptions.length === 0) {
      // Q6: without rsync options the remote mode follows the local file and the remote umask.
      s.log.warn(
        'fileCopierOptions is empty: remote token file modes are not set; consider "--perms --chmod=u=r,go="',
      );
    }
    const roleFileDestination = this.roleFileDestination(s);
    const outcome = await pushService({
      rsyncPath: input.programs.rsync,
      sshPath: input.programs.ssh,
      source: source.path,
      account: s.settings.account,
      desiredUID: s.desiredUID,
      realName: s.name.realName,
      role: s.name.role,
      nodes: s.settings.nodes,
      unpingable,
      roleFileDestination,
      sshOptions: s.settings.sshOptions,
      fileCopierOptions: s.settings.fileCopierOptions,
      cache: s.cache,
      env: input.env,
      tempDir: input.tempDir,
      policy: input.pushRetry,
      signal: input.signal,
      perItemMs: input.timeouts.pushMs,
      run: input.run,
      limit,
      onItem: (item) => {
        if (item.result.ok)
          input.metrics.tokenPushItemSucceeded(s.name.realName, item.node, item.durationMs / 1000);
        else if (item.kind !== 'roleFile') {
          input.metrics.tokenPushItemFailed(s.name.realName, item.node);
          if (item.result.cause !== undefined)
            s.log.debug(
              { node: item.node, destination: item.destination, err: item.result.cause },
              'Push to a node that was not pingable failed',
            );
        } else s.log.warn({ node: item.node, err: item.result.error }, 'Could not push role file');
      },
    });
    for (const w of outcome.warnings) s.log.warn(w);
    const good = outcome.nodes.filter((n) => n.ok).map((n) => n.node);
    const bad = outcome.nodes.filter((n) => !n.ok);
    for (const n of bad) {
      const message = pushFailureMessage(n.node, n.error ?? 'unknown error');
      s.log.error({ node: n.node }, message);
      input.notifications.send(pushError(s.name.configName, n.node, message));
    }
    s.log.info(
      { successfulNodes: good.join(', '), failedNodes: bad.map((n) => n.node).join(', ') },
      'Push finished',
    );
    if (outcome.ok) {
      this.success.set(s.name.configName, true);
      input.metrics.servicePushedToNodes(s.name.realName, s.settings.nodes);
    }
    const dest = tokenDestinations(s.desiredUID, s.name.realName);
    this.pushes.push({
      configName: s.name.configName,
      realName: s.name.realName,
      account: s.settings.account,
      source: source.path,
      nodes: outcome.nodes.map((n) => ({
        node: n.node,
        ok: n.ok,
        destinations: [
          dest.token,
          dest.tokenForService,
          ...n.items.filter((i) => i.kind === 'roleFile' && i.result.ok).map((i) => i.destination),
        ],
        ...(n.error !== undefined ? { error: n.error } : {}),
      })),
    });
    return outcome.ok;
  }

  /** 3.13 step 1, plus the token check: a malformed token is never pushed. */
  private async pushSource(
    s: AssembledService,
  ): Promise<{ ok: true; path: string } | { ok: false; error: string }> {
    const { runUID, tempDir } = this.input;
    const root = s.settings.serviceCreddVaultTokenPathRoot;
    const candidates: string[] = [];
    if (s.getter.kind === 'storeAndGetToken') {
      for (const schedd of [...s.getter.schedds].sort())
        candidates.push(scheddTokenPath(root, runUID, schedd, s.name.realName));
    } else {
      candidates.push(storedTokenPath(root, runUID, s.name.realName));
    }
    candidates.push(condorTokenPath(tempDir, runUID, s.name.realName));
    for (const candidate of candidates) {
      const content = await readIfExists(candidate).catch(() => undefined);
      if (content === undefined) continue;
      const check = checkVaultToken(content);
      if (!check.ok)
        return {
          ok: false,
          error: `${candidate} does not hold a valid vault token (${check.reason}); not pushing it`,
        };
      const age = await fs
        .stat(candidate)
        .then((st) => (Date.now() - st.mtimeMs) / 1000)
        .catch(() => undefined);
      if (age !== undefined) this.input.metrics.pushedTokenAge(s.name.realName, age);
      return { ok: true, path: candidate };
    }
    return { ok: false, error: `no vault token found (looked at ${candidates.join(', ')})` };
  }

  /** Rendered role-file destination, or undefined (logged) when it cannot be rendered. */
  private roleFileDestination(s: AssembledService): string | undefined {
    try {
      return s.settings.roleFileDestination.render({
        Account: s.settings.account,
        DesiredUID: s.desiredUID,
        Experiment: s.name.configExperiment,
        Role: s.name.role,
        Name: s.name.realName,
        UserPrincipal: s.settings.userPrincipal,
        KeytabPath: s.settings.keytabPath,
        ServiceCreddVaultTokenPathRoot: s.settings.serviceCreddVaultTokenPathRoot,
        VaultServer: s.vaultServer,
      });
    } catch (err) {
      s.log.error(
        { err: (err as Error).message },
        'Could not render the default role file destination; not pushing the role file',
      );
      return undefined;
    }
  }

  // ---- cleanup (3.18) ----

  async cleanup(): Promise<void> {
    const started = Date.now();
    if (this.kerberosDir !== undefined) {
      try {
        await fs.rm(this.kerberosDir, { recursive: true, force: true });
        this.log.debug('Cleared kerberos cache directory');
      } catch (err) {
        this.log.error({ err: (err as Error).message }, 'Could not clear kerberos cache directory');
      }
    } else {
      // Q15 fix: caches created directly in the temp directory are removed one by one.
      for (const file of this.cacheFiles) await fs.rm(file, { force: true }).catch(() => undefined);
    }
    const { successes, failures } = this.report();
    this.log.info({ successes: successes.join(', ') }, `Successes: ${successes.join(', ')}`);
    this.log.info({ failures: failures.join(', ') }, `Failures: ${failures.join(', ')}`);
    this.input.metrics.failedServices(failures.length);
    this.input.metrics.stageDuration('cleanup', secondsSince(started));
  }

  report(): RunReport {
    const successes: string[] = [];
    const failures: string[] = [];
    for (const [name, ok] of [...this.success.entries()].sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    )) {
      (ok ? successes : failures).push(name);
    }
    return { successes, failures, pushes: this.pushes, nothingAssembled: this.nothingAssembled };
  }

  /** An unexpected error in one service's work fails that service only. */
  private async guarded(
    s: AssembledService,
    what: string,
    work: () => Promise<boolean>,
  ): Promise<boolean> {
    try {
      return await work();
    } catch (err) {
      s.log.error(
        { err: (err as Error).message },
        `Unexpected error during ${what}; the service failed`,
      );
      return false;
    }
  }

  private async timed<T>(
    stage: Parameters<PipelineInput['metrics']['stageDuration']>[0],
    spanName: string,
    work: () => Promise<T>,
    record: (result: T) => boolean = () => true,
  ): Promise<T> {
    const started = Date.now();
    const result = await this.tracing.withSpan(spanName, {}, () => work(), {
      scope: 'managed-tokens',
    });
    if (record(result)) this.input.metrics.stageDuration(stage, secondsSince(started));
    return result;
  }

  /** A span around one service's work in a stage; `work` returns true on success. */
  private span<T extends boolean>(
    name: string,
    attrs: SpanAttributes,
    work: (span: SpanHandle) => Promise<T>,
  ): Promise<T> {
    return this.tracing.withSpan(
      name,
      attrs,
      async (span) => {
        const ok = await work(span);
        if (ok) span.markOk();
        return ok;
      },
      { scope: 'managed-tokens' },
    );
  }
}

/**
 * A token tool's (already redacted) output: error level when the tool failed, debug when it
 * succeeded (external-tools.md 2.4). Nothing when it did not run or said nothing.
 */
function logToolOutput(
  s: AssembledService,
  tool: string,
  ok: boolean,
  excerpt: string | undefined,
  schedd?: string,
): void {
  if (excerpt === undefined || excerpt === '') return;
  const fields = { tool, output: excerpt, ...(schedd !== undefined ? { schedd } : {}) };
  if (ok) s.log.debug(fields, `${tool} output`);
  else s.log.error(fields, `${tool} failed; its output: ${excerpt}`);
}

function secondsSince(ms: number): number {
  return (Date.now() - ms) / 1000;
}
