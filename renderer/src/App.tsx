import { ConnectionBanner } from './components/ConnectionBanner';
import { NavRail } from './components/NavRail';
import { StatusBar, SystemAlerts } from './components/StatusBar';
import { useNavStore } from './stores/nav';
import { AccountsView } from './views/accounts/AccountsView';
import { AlertsView } from './views/alerts/AlertsView';
import { AuditView } from './views/audit/AuditView';
import { BatchesView } from './views/batches/BatchesView';
import { FirewallView } from './views/firewall/FirewallView';
import { HostsView } from './views/hosts/HostsView';
import { InstancesView } from './views/instances/InstancesView';
import { SandboxesView } from './views/sandboxes/SandboxesView';
import { SettingsView } from './views/settings/SettingsView';

export function App() {
  const view = useNavStore((s) => s.view);
  return (
    <div className="app">
      <StatusBar />
      <ConnectionBanner />
      <SystemAlerts />
      <div className="app-body">
        <NavRail />
        <main className="view">
          {/* Kept mounted while hidden, so the editor keeps its undo history and the charts their state. */}
          <div hidden={view !== 'sandboxes'}>
            <SandboxesView />
          </div>
          {view === 'hosts' && <HostsView />}
          {view === 'instances' && <InstancesView />}
          {view === 'accounts' && <AccountsView />}
          {view === 'audit' && <AuditView />}
          {view === 'firewall' && <FirewallView />}
          {view === 'alerts' && <AlertsView />}
          {view === 'batches' && <BatchesView />}
          {view === 'settings' && <SettingsView />}
        </main>
      </div>
    </div>
  );
}
