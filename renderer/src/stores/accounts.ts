// Provider accounts and the keychain that holds their keys. A key passes through here only as an
// argument on its way to main: nothing in this store ever holds one.
import { create } from 'zustand';
import type { ErrorPayload } from '../../../shared/errors';
import type { Account, KeychainStatus, ProviderKind } from '../../../shared/providers';
import { toDisplayError } from '../lib/errors';
import { api } from '../transport/client';

/** What the last add, rotate or remove did, for the line that confirms it. */
export type AccountNotice =
  { kind: 'added'; account: Account } | { kind: 'rotated'; account: Account } | { kind: 'removed'; label: string; sshKeyRemoved: boolean };

interface AccountsStore {
  keychain: KeychainStatus | null;
  keychainError: ErrorPayload | null;
  accounts: Account[];
  loaded: boolean;
  listError: ErrorPayload | null;
  adding: boolean;
  addError: ErrorPayload | null;
  /** Label of the account being rotated or removed. */
  busy: { label: string; action: 'rotate' | 'remove' } | null;
  rowError: { label: string; action: 'rotate' | 'remove'; error: ErrorPayload } | null;
  notice: AccountNotice | null;
  /** Follows 'accounts.updated' (changes made in another window); returns the unsubscribe. */
  init(): () => void;
  refresh(): Promise<void>;
  /** Resolves true when the account was added. */
  add(provider: ProviderKind, label: string, key: string): Promise<boolean>;
  rotate(label: string, key: string): Promise<boolean>;
  remove(label: string): Promise<boolean>;
  clearRowError(): void;
}

function upsert(accounts: readonly Account[], account: Account): Account[] {
  const rest = accounts.filter((a) => a.label !== account.label);
  return [...rest, account].sort((a, b) => a.label.localeCompare(b.label));
}

export const useAccountsStore = create<AccountsStore>()((set) => ({
  keychain: null,
  keychainError: null,
  accounts: [],
  loaded: false,
  listError: null,
  adding: false,
  addError: null,
  busy: null,
  rowError: null,
  notice: null,

  init() {
    return api().on('accounts.updated', (list) =>
      set({ accounts: [...list].sort((a, b) => a.label.localeCompare(b.label)), loaded: true, listError: null }),
    );
  },

  async refresh() {
    // Independent: a keychain that cannot be probed must not hide the accounts, or the reverse.
    const keychain = async () => {
      try {
        set({ keychain: await api()['keychain.status'](), keychainError: null });
      } catch (err) {
        set({ keychainError: toDisplayError(err) });
      }
    };
    const accounts = async () => {
      try {
        const list = await api()['accounts.list']();
        set({ accounts: [...list].sort((a, b) => a.label.localeCompare(b.label)), loaded: true, listError: null });
      } catch (err) {
        set({ listError: toDisplayError(err) });
      }
    };
    await Promise.all([keychain(), accounts()]);
  },

  async add(provider, label, key) {
    set({ adding: true, addError: null, notice: null });
    try {
      const account = await api()['accounts.add']({ provider, label, key });
      set((s) => ({ adding: false, accounts: upsert(s.accounts, account), loaded: true, notice: { kind: 'added', account } }));
      return true;
    } catch (err) {
      set({ adding: false, addError: toDisplayError(err) });
      return false;
    }
  },

  async rotate(label, key) {
    set({ busy: { label, action: 'rotate' }, rowError: null, notice: null });
    try {
      const account = await api()['accounts.rotate']({ label, key });
      set((s) => ({ busy: null, accounts: upsert(s.accounts, account), notice: { kind: 'rotated', account } }));
      return true;
    } catch (err) {
      set({ busy: null, rowError: { label, action: 'rotate', error: toDisplayError(err) } });
      return false;
    }
  },

  async remove(label) {
    set({ busy: { label, action: 'remove' }, rowError: null, notice: null });
    try {
      const { sshKeyRemoved } = await api()['accounts.remove']({ label });
      set((s) => ({
        busy: null,
        accounts: s.accounts.filter((a) => a.label !== label),
        notice: { kind: 'removed', label, sshKeyRemoved },
      }));
      return true;
    } catch (err) {
      set({ busy: null, rowError: { label, action: 'remove', error: toDisplayError(err) } });
      return false;
    }
  },

  clearRowError() {
    set({ rowError: null });
  },
}));
