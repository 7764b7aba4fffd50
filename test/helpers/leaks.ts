// Looking for secrets where they must not be: every file a session wrote.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Every file under dir whose bytes contain needle. */
export function filesContaining(dir: string, needle: string): string[] {
  const hits: string[] = [];
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const p = join(dir, name);
    try {
      if (statSync(p).isFile() && readFileSync(p).includes(needle)) hits.push(p);
    } catch {
      // Sockets, and files that vanished with the daemon.
    }
  }
  return hits;
}
