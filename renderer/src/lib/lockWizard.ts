// The lock wizard's choices turned into plan requests, checked first so each mistake is named
// where it was made: the user's own address, each item's sources, the custom ports.
import type { PlanRequest, PlanView } from '../../../shared/firewall';
import { addressProblem, parseSourceList } from './addresses';

export const PRESET_IDS = ['ssh', 'chat-ui', 'api', 'http', 'https', 'jupyter'] as const;
export type PresetId = (typeof PRESET_IDS)[number];
export type AllowItemId = PresetId | 'custom';

/** The presets as main defines them (main/firewall/validate.ts): port and what usually runs there. */
export const PRESETS: Record<PresetId, { port: number; label: string; description: string }> = {
  ssh: { port: 22, label: 'SSH', description: 'SSH; Moat connects this way too' },
  'chat-ui': { port: 3000, label: 'Chat UI', description: 'a chat UI such as Open WebUI; usually no login' },
  api: { port: 8000, label: 'API', description: 'an OpenAI-compatible API such as vLLM; usually no key' },
  http: { port: 80, label: 'HTTP', description: 'a web server (HTTP)' },
  https: { port: 443, label: 'HTTPS', description: 'a web server (HTTPS)' },
  jupyter: { port: 8888, label: 'Jupyter', description: 'Jupyter; a token at best' },
};

export interface SourceChoice {
  fromMe: boolean;
  /** Extra addresses and networks, comma-separated as typed. */
  cidrs: string;
}

export interface AllowChoices {
  presets: Record<PresetId, SourceChoice & { on: boolean }>;
  /** "9000, 8000-8100, udp:60000"; empty for none. */
  custom: SourceChoice & { text: string };
}

export function defaultChoices(): AllowChoices {
  const off = (on: boolean) => ({ on, fromMe: true, cidrs: '' });
  return {
    presets: { ssh: off(true), 'chat-ui': off(false), api: off(false), http: off(false), https: off(false), jupyter: off(false) },
    custom: { text: '', fromMe: true, cidrs: '' },
  };
}

export interface MyAddress {
  ipv4: string;
  ipv6: string;
}

/** Problems with the user's addresses, by field. */
export function myAddressProblems(me: MyAddress): { ipv4: string | null; ipv6: string | null } {
  return { ipv4: addressProblem(me.ipv4, 4), ipv6: addressProblem(me.ipv6, 6) };
}

export function hasMyAddress(me: MyAddress): boolean {
  const p = myAddressProblems(me);
  return (me.ipv4.trim() !== '' && !p.ipv4) || (me.ipv6.trim() !== '' && !p.ipv6);
}

const PORT = '([1-9][0-9]{0,4})';
const CUSTOM_RE = new RegExp(`^(?:(?:tcp|udp):)?${PORT}(?:-${PORT})?$`);

/** The custom items: "9000", "8000-8100", "udp:60000", "tcp:9000", "icmp". */
export function parseCustom(text: string): { items: string[]; errors: string[] } {
  const items: string[] = [];
  const errors: string[] = [];
  for (const raw of text.split(',')) {
    const t = raw.trim().toLowerCase();
    if (!t) continue;
    const m = CUSTOM_RE.exec(t);
    if (t === 'icmp') items.push(t);
    else if (!m) errors.push(`"${raw.trim()}" is not a port; write 9000, a range 8000-8100, udp:60000 or icmp.`);
    else {
      const from = Number(m[1]);
      const to = m[2] === undefined ? from : Number(m[2]);
      if (from > 65535 || to > 65535) errors.push(`"${raw.trim()}": ports run from 1 to 65535.`);
      else if (from > to) errors.push(`"${raw.trim()}" runs backwards; write the lower port first.`);
      else items.push(t.startsWith('tcp:') ? t.slice(4) : t);
    }
  }
  return { items, errors };
}

export interface ItemProblem {
  /** The item the problem is about, or null for the wizard as a whole. */
  item: AllowItemId | null;
  message: string;
}

/**
 * The request for each instance, or every problem found. An item allowed from "my address" needs
 * a valid address of the user's; one with neither "my address" nor a network is a mistake.
 */
export function buildPlanRequests(
  instanceIds: readonly string[],
  me: MyAddress,
  choices: AllowChoices,
): { ok: true; requests: PlanRequest[] } | { ok: false; problems: ItemProblem[] } {
  const problems: ItemProblem[] = [];
  const allow: PlanRequest['allow'] = [];
  const usableMe = hasMyAddress(me);
  const sources = (item: AllowItemId, choice: SourceChoice, name: string): string[] | null => {
    const list = parseSourceList(choice.cidrs);
    for (const e of list.errors) problems.push({ item, message: `${name}: ${e}` });
    if (choice.fromMe && !usableMe) {
      problems.push({ item, message: `${name}: "My address" needs your IPv4 or IPv6 address (step 2), or untick it and give networks.` });
    }
    const from = [...(choice.fromMe ? ['me'] : []), ...list.items];
    if (from.length === 0 && list.errors.length === 0) {
      problems.push({ item, message: `${name}: say where from: tick "My address" or give addresses or networks.` });
    }
    return list.errors.length === 0 && from.length > 0 ? from : null;
  };

  for (const id of PRESET_IDS) {
    const c = choices.presets[id];
    if (!c.on) continue;
    const from = sources(id, c, `${PRESETS[id].label} (${PRESETS[id].port})`);
    if (from) allow.push({ what: id, from });
  }
  if (choices.custom.text.trim()) {
    const custom = parseCustom(choices.custom.text);
    for (const e of custom.errors) problems.push({ item: 'custom', message: `Other ports: ${e}` });
    const from = sources('custom', choices.custom, 'Other ports');
    if (from) for (const what of custom.items) allow.push({ what, from });
  }
  if (instanceIds.length === 0) problems.push({ item: null, message: 'No instance is chosen (step 1).' });
  if (problems.length === 0 && allow.length === 0) {
    problems.push({
      item: null,
      message: 'Nothing is allowed in: choose at least one item. (Without SSH, Moat cannot reach the instance.)',
    });
  }
  if (allow.length > 32) problems.push({ item: null, message: `At most 32 items can be allowed at once; there are ${allow.length}.` });
  if (problems.length > 0) return { ok: false, problems };

  const myself: PlanRequest['me'] = {};
  if (me.ipv4.trim()) myself.ipv4 = me.ipv4.trim();
  if (me.ipv6.trim()) myself.ipv6 = me.ipv6.trim();
  return { ok: true, requests: instanceIds.map((ref) => ({ ref, allow, me: myself })) };
}

/** Warnings that could cut the user (or Moat, or other instances) off: applying them needs an "I understand". */
export const CONFIRM_WARNINGS: ReadonlySet<string> = new Set(['ssh-lockout', 'moat-lockout', 'affects-others']);

export function needsConfirmation(plans: readonly Pick<PlanView, 'warnings'>[]): boolean {
  return plans.some((p) => p.warnings.some((w) => CONFIRM_WARNINGS.has(w.id)));
}
