/** managed-tokens: operator helpers (check-config). */
import { runManagedTokens } from '../internal/cli/managed-tokens.js';
import { realProcessFacts } from '../internal/cli/main.js';

process.exit(await runManagedTokens(realProcessFacts()));
