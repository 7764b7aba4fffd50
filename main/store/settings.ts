// User settings (never secrets), validated on read; a corrupt or outdated file falls back to the
// defaults field by field and is kept aside rather than lost.
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { AddressDetectUrls, DEFAULT_SETTINGS, Limits, ProviderApiUrls, Retention, Settings } from '../../shared/types';
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
    const merged = {
      ...DEFAULT_SETTINGS,
      defaultLimits: validFields(Limits, raw.defaultLimits, DEFAULT_SETTINGS.defaultLimits),
      retention: validFields(Retention, raw.retention, DEFAULT_SETTINGS.retention),
      providerApiUrls: validFields(ProviderApiUrls, raw.providerApiUrls, DEFAULT_SETTINGS.providerApiUrls),
      addressDetectUrls: validFields(AddressDetectUrls, raw.addressDetectUrls, DEFAULT_SETTINGS.addressDetectUrls),
    };
    for (const key of [
      'warmPoolSize',
      'maxWarmPool',
      'preferOfficialImages',
      'maxConcurrentRuns',
      'egressPolicy',
      'templateAllowNet',
    ] as const) {
      const one = Settings.shape[key].safeParse(raw[key]);
      if (one.success) (merged as Record<string, unknown>)[key] = one.data;
    }
    return Settings.parse(merged);
  }
}

/** The fields of a settings group that are still valid, the defaults for the others. */
function validFields<T extends object>(
  schema: typeof Limits | typeof Retention | typeof ProviderApiUrls | typeof AddressDetectUrls,
  raw: unknown,
  defaults: T,
): T {
  const given = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const out = { ...defaults } as Record<string, unknown>;
  for (const [key, field] of Object.entries(schema.shape)) {
    const one = field.safeParse(given[key]);
    if (one.success) out[key] = one.data;
  }
  return out as T;
}
