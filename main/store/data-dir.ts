// Where Moat keeps its state, in a module of its own so that callers which need only the path
// (the `moat run` client, the templates file) do not load the services.
import { homedir } from 'node:os';
import { join } from 'node:path';

/** MOAT_DATA_DIR, else $XDG_DATA_HOME/moat, else ~/.local/share/moat. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MOAT_DATA_DIR) return env.MOAT_DATA_DIR;
  const xdg = env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
  return join(xdg, 'moat');
}
