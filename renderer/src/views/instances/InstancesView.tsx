// The Instances view: burn rate per account, every instance with its cost so far, launching and
// terminating. Main only keeps polling the providers for a few minutes after a list call, so the
// view asks again every minute while it is open.
import { useEffect, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { Instance } from '../../../../shared/providers';
import { ErrorNotice } from '../../components/ErrorNotice';
import { formatStarted } from '../../lib/format';
import { useAccountsStore } from '../../stores/accounts';
import { useInstancesStore } from '../../stores/instances';
import { useLaunchStore } from '../../stores/launch';
import { useNavStore } from '../../stores/nav';
import { targetForInstance } from '../../lib/targets';
import { useTargetsStore } from '../../stores/targets';
import { InstanceTrust } from '../hosts/InstanceTrust';
import { BurnRates } from './BurnRates';
import { InstancesTable } from './InstancesTable';
import { LaunchForm } from './LaunchForm';
import { LaunchProgress } from './LaunchProgress';
import { TerminateConfirm } from './TerminateConfirm';

const RELIST_MS = 60_000;

export function InstancesView() {
  const { list, listError, refreshing, terminating, terminateError, load, terminate, clearTerminateError } = useInstancesStore(
    useShallow((s) => ({
      list: s.list,
      listError: s.listError,
      refreshing: s.refreshing,
      terminating: s.terminating,
      terminateError: s.terminateError,
      load: s.load,
      terminate: s.terminate,
      clearTerminateError: s.clearTerminateError,
    })),
  );
  const formError = useLaunchStore((s) => s.formError);
  const { accounts, accountsLoaded, refreshAccounts } = useAccountsStore(
    useShallow((s) => ({ accounts: s.accounts, accountsLoaded: s.loaded, refreshAccounts: s.refresh })),
  );
  const show = useNavStore((s) => s.show);
  const { addingInstance, addInstance, selectTarget, loadTargets } = useTargetsStore(
    useShallow((s) => ({ addingInstance: s.addingInstance, addInstance: s.addInstance, selectTarget: s.select, loadTargets: s.load })),
  );
  const [launchOpen, setLaunchOpen] = useState(false);
  const [confirmId, setConfirmId] = useState<string | null>(null);

  useEffect(() => {
    void load();
    void refreshAccounts();
    void loadTargets();
    const timer = setInterval(() => void load(), RELIST_MS);
    return () => clearInterval(timer);
  }, [load, refreshAccounts, loadTargets]);

  const instances = list?.instances ?? [];
  const confirming = confirmId ? instances.find((i) => i.id === confirmId) : undefined;
  const noAccounts = accountsLoaded ? accounts.length === 0 : list !== null && list.accounts.length === 0;

  const askTerminate = (i: Instance) => {
    clearTerminateError();
    setConfirmId(i.id);
  };
  const openHost = (targetId: string) => {
    selectTarget(targetId);
    show('hosts');
  };
  const runHere = (i: Instance) => {
    const existing = targetForInstance(useTargetsStore.getState().targets, i);
    if (existing) openHost(existing.id);
    else void addInstance(i.id, `${i.account}/${i.name}`).then((t) => t && openHost(t.id));
  };
  const closeLaunch = () => {
    useLaunchStore.setState({ formError: null });
    setLaunchOpen(false);
  };

  return (
    <div className="page instances" data-testid="instances-view">
      <section className="panel" aria-label="Instances">
        <div className="panel-header">
          <h2>Instances</h2>
          <div className="header-actions">
            {list && (
              <span className="muted small" title={new Date(list.at).toISOString()}>
                as of {formatStarted(list.at)}
              </span>
            )}
            <button type="button" data-testid="instances-refresh" onClick={() => void load(true)} disabled={refreshing}>
              {refreshing ? 'Refreshing…' : 'Refresh'}
            </button>
            <button
              type="button"
              className="primary"
              data-testid="launch-open"
              onClick={() => (launchOpen ? closeLaunch() : setLaunchOpen(true))}
              disabled={accounts.length === 0}
              aria-expanded={launchOpen}
            >
              Launch…
            </button>
          </div>
        </div>
        {list && <BurnRates accounts={list.accounts} />}
        {listError && <ErrorNotice error={listError} testId="instances-error" />}
      </section>

      {launchOpen && accounts.length > 0 && <LaunchForm accounts={accounts} onClose={closeLaunch} />}
      <LaunchProgress instances={instances} errorShownInForm={launchOpen && formError !== null} />

      {confirming && (
        <TerminateConfirm
          instance={confirming}
          busy={terminating === confirming.id}
          onYes={() => void terminate(confirming.id).then((ok) => ok && setConfirmId(null))}
          onNo={() => setConfirmId(null)}
        />
      )}
      {terminateError && <ErrorNotice error={terminateError} testId="terminate-error" onDismiss={clearTerminateError} />}
      <InstanceTrust onAdded={openHost} />

      <section className="panel" aria-label="Instance list">
        {noAccounts ? (
          <div className="empty-state" data-testid="instances-no-accounts">
            No provider accounts yet.{' '}
            <button type="button" className="link-button" data-testid="instances-go-accounts" onClick={() => show('accounts')}>
              Add a Lambda Cloud or Linode account
            </button>{' '}
            to see and launch instances.
          </div>
        ) : list === null ? (
          !listError && <div className="empty-state">Asking the providers…</div>
        ) : instances.length === 0 ? (
          <div className="empty-state" data-testid="instances-empty">
            No instances on {list.accounts.length === 1 ? 'this account' : 'any account'}.
          </div>
        ) : (
          <InstancesTable instances={instances} onTerminate={askTerminate} onUseTarget={runHere} usingTarget={addingInstance} />
        )}
      </section>
    </div>
  );
}
