// What a local image is made of (Debian suite, packages, image config) and the hash of that
// recipe, stored as a label so that an unchanged recipe is not rebuilt.
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import type { TemplateDef } from '../templates';

export type ImageSource = 'official' | 'local-build' | 'missing';
export interface ResolvedImage {
  image: string | null;
  source: ImageSource;
}

/** Debian release the local images are built from. */
export const DEBIAN_SUITE = 'bookworm';
/** Bump when the build steps below change in a way that changes the image. */
export const RECIPE_VERSION = 1;
/** Image label holding the recipe hash; a build is skipped when it matches. */
export const RECIPE_LABEL = 'moat.image.recipe';
/** Env var that overrides the Debian mirror read from the apt configuration. */
export const MIRROR_ENV = 'MOAT_DEBIAN_MIRROR';

/** Image config set on import (same shape as the official images, plus the sandbox user). */
export const IMAGE_CHANGES: readonly string[] = [
  'WORKDIR /work',
  'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  'ENV PYTHONDONTWRITEBYTECODE=1',
  'ENV HOME=/work',
  'ENV LANG=C.UTF-8',
  'USER 65534:65534',
  'CMD ["/bin/sh"]',
];

export function uniqSorted(xs: readonly string[]): string[] {
  return [...new Set(xs.map((x) => x.trim()).filter(Boolean))].sort();
}

/** sha256 of everything that decides a local image's content: suite, packages, build steps. */
export function recipeHash(template: Pick<TemplateDef, 'debianPackages'>, suite: string = DEBIAN_SUITE): string {
  const recipe = {
    v: RECIPE_VERSION,
    suite,
    variant: 'minbase',
    packages: uniqSorted(template.debianPackages),
    changes: IMAGE_CHANGES,
  };
  return createHash('sha256').update(JSON.stringify(recipe)).digest('hex');
}

/** The `changes` given to the import: the image config plus the recipe label. */
export function importChanges(recipe: string): string[] {
  return [...IMAGE_CHANGES, `LABEL ${RECIPE_LABEL}=${recipe}`];
}

/** "repo/name:tag" → { repo, tag } (a ":" in a registry host:port is not a tag). */
export function splitImageRef(ref: string): { repo: string; tag: string } {
  const at = ref.lastIndexOf(':');
  if (at > ref.lastIndexOf('/')) return { repo: ref.slice(0, at), tag: ref.slice(at + 1) };
  return { repo: ref, tag: 'latest' };
}

/** /var/cache/moat for root, else $XDG_CACHE_HOME/moat or ~/.cache/moat. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (process.getuid?.() === 0) return '/var/cache/moat';
  return path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'moat');
}
