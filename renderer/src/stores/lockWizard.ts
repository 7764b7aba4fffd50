// The lock wizard: which instances, the user's address, what to allow, then a plan per instance
// to preview and apply. Plans and applies run one instance at a time, in the order chosen, so the
// results line up with the instances and a provider never sees two changes to one account at once.
import { create } from 'zustand';
import type { ErrorPayload } from '../../../shared/errors';
import type { ApplyOutcome, PlanView } from '../../../shared/firewall';
import { toDisplayError } from '../lib/errors';
import { buildPlanRequests, defaultChoices, type AllowChoices, type ItemProblem, type MyAddress } from '../lib/lockWizard';
import { api } from '../transport/client';
import { useFirewallStore } from './firewall';

export const WIZARD_STEPS = ['instances', 'address', 'allow', 'preview', 'apply'] as const;
export type WizardStep = (typeof WIZARD_STEPS)[number];

export interface PlanResult {
  ref: string;
  plan: PlanView | null;
  error: ErrorPayload | null;
}

export interface ApplyResult {
  ref: string;
  plan: PlanView;
  outcome: ApplyOutcome | null;
  error: ErrorPayload | null;
}

interface LockWizardStore {
  open: boolean;
  step: WizardStep;
  instanceIds: string[];
  me: MyAddress;
  /** The address fields were filled from a detection (not again once the user typed). */
  meTouched: boolean;
  choices: AllowChoices;
  /** What stopped the preview before anything was sent. */
  problems: ItemProblem[];
  previewing: boolean;
  plans: PlanResult[];
  confirmed: boolean;
  applying: boolean;
  results: ApplyResult[];
  start(instanceId: string | null): void;
  close(): void;
  goTo(step: WizardStep): void;
  toggleInstance(id: string, on: boolean): void;
  setMe(patch: Partial<MyAddress>): void;
  /** Detects the user's addresses and fills the fields, unless the user edited them (or `overwrite`). */
  detect(overwrite?: boolean): Promise<void>;
  setChoices(update: (c: AllowChoices) => AllowChoices): void;
  setConfirmed(on: boolean): void;
  preview(): Promise<void>;
  apply(): Promise<void>;
}

const fresh = () => ({
  step: 'instances' as WizardStep,
  me: { ipv4: '', ipv6: '' },
  meTouched: false,
  choices: defaultChoices(),
  problems: [],
  previewing: false,
  plans: [],
  confirmed: false,
  applying: false,
  results: [],
});

export const useLockWizardStore = create<LockWizardStore>()((set, get) => ({
  open: false,
  instanceIds: [],
  ...fresh(),

  start(instanceId) {
    set({ open: true, instanceIds: instanceId ? [instanceId] : [], ...fresh() });
  },

  close() {
    set({ open: false });
  },

  goTo(step) {
    set({ step });
  },

  toggleInstance(id, on) {
    set((s) => ({
      instanceIds: on ? (s.instanceIds.includes(id) ? s.instanceIds : [...s.instanceIds, id]) : s.instanceIds.filter((x) => x !== id),
    }));
  },

  setMe(patch) {
    set((s) => ({ me: { ...s.me, ...patch }, meTouched: true }));
  },

  async detect(overwrite = false) {
    const detected = await useFirewallStore.getState().detect();
    if (!detected || (get().meTouched && !overwrite)) return;
    // An address not found keeps what the user typed.
    set((s) => ({
      me: { ipv4: detected.ipv4.address ?? s.me.ipv4, ipv6: detected.ipv6.address ?? s.me.ipv6 },
      meTouched: false,
    }));
  },

  setChoices(update) {
    set((s) => ({ choices: update(s.choices), problems: [] }));
  },

  setConfirmed(on) {
    set({ confirmed: on });
  },

  async preview() {
    const { instanceIds, me, choices } = get();
    const built = buildPlanRequests(instanceIds, me, choices);
    if (!built.ok) {
      set({ problems: built.problems });
      return;
    }
    set({ problems: [], step: 'preview', previewing: true, plans: [], confirmed: false, results: [] });
    const plans: PlanResult[] = [];
    for (const request of built.requests) {
      try {
        plans.push({ ref: request.ref, plan: await api()['firewall.plan'](request), error: null });
      } catch (err) {
        plans.push({ ref: request.ref, plan: null, error: toDisplayError(err) });
      }
      set({ plans: [...plans] });
    }
    set({ previewing: false });
  },

  async apply() {
    const plans = get().plans.flatMap((p) => (p.plan ? [{ ref: p.ref, plan: p.plan }] : []));
    set({ step: 'apply', applying: true, results: [] });
    const results: ApplyResult[] = [];
    for (const { ref, plan } of plans) {
      try {
        results.push({ ref, plan, outcome: await api()['firewall.apply']({ planId: plan.planId }), error: null });
      } catch (err) {
        results.push({ ref, plan, outcome: null, error: toDisplayError(err) });
      }
      set({ results: [...results] });
    }
    set({ applying: false });
    void useFirewallStore.getState().load();
  },
}));
