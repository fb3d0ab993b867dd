/** refresh-uids-from-ferry: refresh the UID table of the managed-tokens database from FERRY. */
import { mainRefresh } from '../internal/cli/main.js';

await mainRefresh();
