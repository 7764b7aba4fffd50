// User settings (never secrets), validated on read; a corrupt or outdated file falls back to the
// defaults field by field and is kept aside rather than lost.
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_SETTINGS, Limits, Settings } from '../../shared/types';
import { readFileOrNull, writeFileAtomic } from './durable';

export class SettingsStore {
  private value: Settings;
  private readonly path: string;

  constructor(dataDir: string) {
    this.path = join(dataDir, 'settings.json');
    this.value = this.load();
  }

  get(): Settings {
    return structuredClone(this.value);
  }

  update(patch: Partial<Settings>): Settings {
    const next = Settings.parse({ ...this.value, ...patch });
    writeFileAtomic(this.path, JSON.stringify(next, null, 2) + '\n');
    this.value = next;
    return this.get();
  }

  private load(): Settings {
    const text = readFileOrNull(this.path);
    if (text === null) return structuredClone(DEFAULT_SETTINGS);
    let raw: Record<string, unknown> = {};
    try {
      raw = JSON.parse(text) as Record<string, unknown>;
    } catch {
      copyFileSync(this.path, `${this.path}.corrupt-${Date.now()}`);
    }
    const full = Settings.safeParse(raw);
    if (full.success) return full.data;
    // Keep every field that is still valid, default the rest.
    const rawLimits = (typeof raw.defaultLimits === 'object' && raw.defaultLimits !== null ? raw.defaultLimits : {}) as Record<
      string,
      unknown
    >;
    const limits: Record<string, unknown> = { ...DEFAULT_SETTINGS.defaultLimits };
    for (const [key, schema] of Object.entries(Limits.shape)) {
      const one = schema.safeParse(rawLimits[key]);
      if (one.success) limits[key] = one.data;
    }
    const merged = { ...DEFAULT_SETTINGS, defaultLimits: limits };
    for (const key of ['warmPoolSize', 'preferOfficialImages', 'maxConcurrentRuns'] as const) {
      const one = Settings.shape[key].safeParse(raw[key]);
      if (one.success) (merged as Record<string, unknown>)[key] = one.data;
    }
    return Settings.parse(merged);
  }
}
