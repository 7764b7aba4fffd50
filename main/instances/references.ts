// One kind of reference to an instance everywhere (CLI, UI, later the remote sandboxes): the
// provider's ID, a unique prefix of it (at least 4 characters), or ACCOUNT/NAME where that name is
// unique in the account. Anything that matches more than one instance is refused with the
// candidates, never guessed.
import { InstanceError } from './errors';

export interface Referable {
  account: string;
  id: string;
  name: string;
}

export const MIN_PREFIX = 4;

export function describeRef(i: Referable): string {
  return `${i.account}/${i.name || '(no name)'} (${i.id})`;
}

export function resolveReference<T extends Referable>(ref: string, list: T[]): T {
  const r = ref.trim();
  if (!r) throw new InstanceError('INVALID_REQUEST', 'No instance given.', 'Give an instance ID, a prefix of it, or ACCOUNT/NAME.');
  const exact = list.filter((i) => i.id === r);
  if (exact.length === 1) return exact[0]!;
  let hits: T[] = exact;
  if (hits.length === 0) {
    const slash = r.indexOf('/');
    // Account labels cannot contain '/', so the first one separates the account from the name.
    if (slash > 0) hits = list.filter((i) => i.account === r.slice(0, slash) && i.name === r.slice(slash + 1));
  }
  if (hits.length === 0 && r.length >= MIN_PREFIX) hits = list.filter((i) => i.id.startsWith(r));
  if (hits.length === 1) return hits[0]!;
  if (hits.length > 1) {
    const candidates = hits.map(describeRef);
    throw new InstanceError(
      'INVALID_REQUEST',
      `"${r.slice(0, 80)}" matches ${hits.length} instances: ${candidates.join(', ')}.`,
      'Use the full ID, a longer prefix of it, or ACCOUNT/NAME.',
      candidates,
    );
  }
  const short = r.length < MIN_PREFIX && !r.includes('/') && list.some((i) => i.id.startsWith(r));
  throw new InstanceError(
    'NOT_FOUND',
    short ? `"${r}" is too short: an ID prefix needs at least ${MIN_PREFIX} characters.` : `No instance "${r.slice(0, 80)}".`,
    'See `moat instances list` for IDs and ACCOUNT/NAME references.',
  );
}
