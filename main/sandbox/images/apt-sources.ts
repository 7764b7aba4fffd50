// Which Debian mirror the local image builds use: the one apt uses on this machine (deb822
// .sources files or one-line sources.list), unless MOAT_DEBIAN_MIRROR says otherwise.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { DEBIAN_SUITE, MIRROR_ENV } from './recipe';

export interface AptSource {
  types: string[];
  uris: string[];
  suites: string[];
  components: string[];
  signedBy?: string;
  enabled: boolean;
}

/** Parses a deb822 `.sources` file. */
export function parseDeb822Sources(text: string): AptSource[] {
  const out: AptSource[] = [];
  const stanzas = text.split(/\n[ \t]*\n/);
  for (const stanza of stanzas) {
    const fields = new Map<string, string>();
    let last: string | null = null;
    for (const raw of stanza.split('\n')) {
      if (/^\s*#/.test(raw) || raw.trim() === '') continue;
      if (/^[ \t]/.test(raw) && last) {
        fields.set(last, `${fields.get(last) ?? ''}\n${raw.trim()}`);
        continue;
      }
      const m = /^([A-Za-z0-9-]+)\s*:\s*(.*)$/.exec(raw);
      if (!m) continue;
      last = m[1]!.toLowerCase();
      fields.set(last, m[2]!.trim());
    }
    const words = (k: string) => (fields.get(k) ?? '').split(/\s+/).filter(Boolean);
    if (!fields.has('uris')) continue;
    const enabled = !/^(no|false|0)$/i.test(fields.get('enabled') ?? 'yes');
    out.push({
      types: words('types'),
      uris: words('uris'),
      suites: words('suites'),
      components: words('components'),
      signedBy: fields.get('signed-by'),
      enabled,
    });
  }
  return out;
}

/** Parses a one-line-format `sources.list`. */
export function parseOneLineSources(text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    if (!line) continue;
    let rest = line;
    const typeM = /^(deb|deb-src)\s+/.exec(rest);
    if (!typeM) continue;
    rest = rest.slice(typeM[0].length);
    let signedBy: string | undefined;
    const optM = /^\[([^\]]*)\]\s*/.exec(rest);
    if (optM) {
      rest = rest.slice(optM[0].length);
      const sb = /(?:^|\s)signed-by=(\S+)/.exec(optM[1]!);
      if (sb) signedBy = sb[1];
    }
    const [uri, suite, ...components] = rest.split(/\s+/);
    if (!uri || !suite) continue;
    out.push({
      types: [typeM[1]!],
      uris: [uri],
      suites: [suite],
      components,
      signedBy,
      enabled: true,
    });
  }
  return out;
}

/**
 * The Debian mirror for `suite` in the apt configuration: the URI of a `deb` entry for exactly that
 * suite with the `main` component. When several match (third-party repositories sometimes reuse
 * the suite name), a URI whose path ends in /debian signed by the Debian archive keyring wins.
 */
export function mirrorFromAptSources(files: ReadonlyArray<{ name: string; text: string }>, suite: string = DEBIAN_SUITE): string | null {
  let best: { uri: string; score: number } | null = null;
  for (const f of files) {
    const entries = f.name.endsWith('.sources') ? parseDeb822Sources(f.text) : parseOneLineSources(f.text);
    for (const e of entries) {
      if (!e.enabled || !e.types.includes('deb') || !e.suites.includes(suite) || !e.components.includes('main')) continue;
      for (const uri of e.uris) {
        if (!/^(https?|ftp|file):/i.test(uri)) continue; // mirror+file:, cdrom:, tor+… are not for debootstrap
        let score = 0;
        if (/\/debian\/?$/.test(uri)) score += 2;
        if (!e.signedBy || /debian-archive/.test(e.signedBy)) score += 1;
        if (!best || score > best.score) best = { uri: uri.replace(/\/+$/, ''), score };
      }
    }
  }
  return best?.uri ?? null;
}

/** Reads /etc/apt/sources.list and sources.list.d/*.{list,sources} (in apt's order). */
export function readAptSourceFiles(aptDir = '/etc/apt'): Array<{ name: string; text: string }> {
  const files: string[] = [];
  const main = path.join(aptDir, 'sources.list');
  if (existsSync(main)) files.push(main);
  const dDir = path.join(aptDir, 'sources.list.d');
  try {
    for (const n of readdirSync(dDir).sort()) if (/\.(list|sources)$/.test(n)) files.push(path.join(dDir, n));
  } catch {
    /* no sources.list.d */
  }
  const out: Array<{ name: string; text: string }> = [];
  for (const f of files) {
    try {
      out.push({ name: f, text: readFileSync(f, 'utf8') });
    } catch {
      /* unreadable: skip */
    }
  }
  return out;
}

/** The mirror to debootstrap from: explicit value, then $MOAT_DEBIAN_MIRROR, then the apt config. */
export function debianMirror(
  opts: {
    mirror?: string;
    env?: NodeJS.ProcessEnv;
    aptDir?: string;
    suite?: string;
  } = {},
): string {
  const suite = opts.suite ?? DEBIAN_SUITE;
  const explicit = opts.mirror?.trim() || (opts.env ?? process.env)[MIRROR_ENV]?.trim();
  if (explicit) return explicit.replace(/\/+$/, '');
  const found = mirrorFromAptSources(readAptSourceFiles(opts.aptDir), suite);
  if (found) return found;
  throw new Error(
    `No Debian mirror for "${suite}" found in the apt configuration (${opts.aptDir ?? '/etc/apt'}/sources.list{,.d}). ` +
      `Set ${MIRROR_ENV} to a Debian mirror URL (the one apt uses on a Debian machine).`,
  );
}
