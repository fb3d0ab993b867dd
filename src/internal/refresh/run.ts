/** Placeholder until the refresh engineer lands the real run sequence (ferry-and-db.md 1.4). */
import type { RefreshStartup } from '../cli/context.js';

export async function runRefresh(ctx: RefreshStartup): Promise<number> {
  ctx.log.error('refresh-uids-from-ferry: run sequence not implemented yet');
  return 1;
}
