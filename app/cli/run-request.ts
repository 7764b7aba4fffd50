// The checked half of `moat run`'s request: the flags that need a schema (files in, environment,
// allowlist, policies) and the whole request against the API's RunRequest. Kept apart from run.ts
// so that a plain run sent to a running Moat loads no schema library (buildRequest there).
import { readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { ALLOW_PRESETS, EgressPolicy, EnvName, parseAllowEntry, type EnvVar } from '../../shared/egress';
import { OutputPolicy, RunRequest, WorkPath } from '../../shared/types';

export function parseOutputPolicy(text: string): OutputPolicy {
  return OutputPolicy.parse(text);
}

export function parseEgressPolicy(text: string): EgressPolicy {
  return EgressPolicy.parse(text);
}

export function isWorkPath(p: string): boolean {
  return WorkPath.safeParse(p).success;
}

/** The whole request against the API's schema; throws with every problem, each with its field. */
export function checkRequest(req: unknown): RunRequest {
  const parsed = RunRequest.safeParse(req);
  if (!parsed.success) throw new Error(parsed.error.issues.map((i) => `${i.path.join('.') || 'request'}: ${i.message}`).join('; '));
  return parsed.data;
}

/** `--file-in LOCAL[:DEST]`: the file's bytes, base64, under DEST (default: its name); its executable bit kept. */
export function parseFileIn(spec: string): NonNullable<RunRequest['files']>[number] {
  const colon = spec.lastIndexOf(':');
  const local = colon > 0 ? spec.slice(0, colon) : spec;
  const dest = colon > 0 ? spec.slice(colon + 1) : basename(spec);
  const ok = WorkPath.safeParse(dest);
  if (!ok.success) throw new Error(`--file-in ${spec}: ${JSON.stringify(dest)} is not a path under /work (${ok.error.issues[0]?.message})`);
  let data: Buffer;
  let mode: number;
  try {
    data = readFileSync(local);
    mode = statSync(local).mode;
  } catch (err) {
    throw new Error(`--file-in ${spec}: ${(err as Error).message}`);
  }
  return { path: dest, data: data.toString('base64'), ...(mode & 0o111 ? { executable: true } : {}) };
}

/** `--env K=V` / `--secret-env K=V` (or `K`, the value taken from Moat's own environment). */
export function parseEnvFlags(plain: string[], secret: string[], from: NodeJS.ProcessEnv = process.env): EnvVar[] {
  const out: EnvVar[] = [];
  const one = (text: string, isSecret: boolean): EnvVar => {
    const eq = text.indexOf('=');
    const name = eq === -1 ? text : text.slice(0, eq);
    const flag = isSecret ? '--secret-env' : '--env';
    if (!EnvName.safeParse(name).success)
      throw new Error(`${flag} ${JSON.stringify(name)}: a name is letters, digits and _ (not first), then =VALUE`);
    if (eq === -1) {
      if (!isSecret) throw new Error(`--env ${name}: give NAME=VALUE`);
      const v = from[name];
      if (v === undefined)
        throw new Error(`--secret-env ${name}: ${name} is not set in this environment (give ${name}=VALUE, or export it)`);
      return { name, value: v, secret: true };
    }
    return { name, value: text.slice(eq + 1), ...(isSecret ? { secret: true } : {}) };
  };
  for (const t of plain) out.push(one(t, false));
  for (const t of secret) out.push(one(t, true));
  const seen = new Set<string>();
  for (const v of out) {
    if (seen.has(v.name)) throw new Error(`${v.name} is given twice (--env/--secret-env)`);
    seen.add(v.name);
  }
  return out;
}

/** `--allow-net` entries, presets (`@package-indexes`) expanded; each checked with the reason when bad. */
export function parseAllowNet(entries: string[]): string[] {
  const out: string[] = [];
  for (const e of entries
    .flatMap((x) => x.split(','))
    .map((x) => x.trim())
    .filter(Boolean)) {
    if (e.startsWith('@')) {
      const preset = ALLOW_PRESETS[e.slice(1)];
      if (!preset)
        throw new Error(
          `--allow-net ${e}: no such preset (presets: ${Object.keys(ALLOW_PRESETS)
            .map((k) => '@' + k)
            .join(', ')})`,
        );
      out.push(...preset.entries);
    } else if (parseAllowEntry(e) === null) {
      throw new Error(
        `--allow-net ${e}: not a destination; give DOMAIN[:PORT] (*.example.com for subdomains), an IPv4 CIDR like 10.0.0.0/8[:PORT], or [IPv6]/bits[:PORT]`,
      );
    } else out.push(e);
  }
  return [...new Set(out)];
}
