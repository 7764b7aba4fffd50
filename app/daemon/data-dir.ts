// The data directory without loading main/services.ts (which loads every service, ~0.7 s): the
// `moat run` client path needs only this. Must agree with defaultDataDir() in main/services.ts
// (test/daemon.integration.test.ts checks that it does).
import { homedir } from 'node:os';
import { join } from 'node:path';

/** MOAT_DATA_DIR, else $XDG_DATA_HOME/moat, else ~/.local/share/moat. */
export function dataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MOAT_DATA_DIR) return env.MOAT_DATA_DIR;
  const xdg = env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
  return join(xdg, 'moat');
}
