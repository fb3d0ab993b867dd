/** token-push: obtain vault tokens for the configured services and push them to their nodes. */
import { mainTokenPush } from '../internal/cli/main.js';

await mainTokenPush();
