// Wires the chosen transport to the stores: every store subscribes to its events, loads its
// data, and reloads it after the headless host's socket comes back.
import { useAccountsStore } from './stores/accounts';
import { reloadAlerts, useAlertsStore } from './stores/alerts';
import { useAuditStore } from './stores/audit';
import { useConnectionStore } from './stores/connection';
import { reloadEditorData, useEditorStore } from './stores/editor';
import { useFirewallStore } from './stores/firewall';
import { useHostPrepStore } from './stores/hostPrep';
import { useInstancesStore } from './stores/instances';
import { useLaunchStore } from './stores/launch';
import { useNavStore } from './stores/nav';
import { useRunsStore } from './stores/runs';
import { useSettingsStore } from './stores/settings';
import { useStatsStore } from './stores/stats';
import { useSystemStore } from './stores/system';
import { useTargetsStore } from './stores/targets';
import { useUsageStore } from './stores/usage';
import { setClient } from './transport/client';
import type { TransportChoice } from './transport';

export function startApp(choice: Exclude<TransportChoice, { kind: 'no-token' }>): void {
  setClient(choice.client);
  const connection = useConnectionStore.getState();
  connection.setKind(choice.kind);

  useSystemStore.getState().init();
  // The desktop app's tray and notifications open views through 'ui.open'.
  useNavStore.getState().init();
  useEditorStore.getState().init();
  useRunsStore.getState().init();
  useStatsStore.getState().init();
  // Only subscriptions: instances, accounts and the audit log are read when their view opens.
  useInstancesStore.getState().init();
  useLaunchStore.getState().init();
  useAccountsStore.getState().init();
  useFirewallStore.getState().init();
  useHostPrepStore.getState().init();
  useUsageStore.getState().init();
  // The alert counter is in the app frame from the start; the run form needs the egress settings.
  useAlertsStore.getState().init();
  void useSettingsStore.getState().load();
  // The run form's target picker needs the targets from the start.
  void useTargetsStore.getState().load();
  // The status bar's exposed count: one overview now if there are accounts, then every 5 minutes.
  useFirewallStore.getState().watch();

  if (choice.kind !== 'websocket') return;
  choice.socket.onStateChange((state) => {
    const wasOpened = useConnectionStore.getState().everOpened;
    useConnectionStore.getState().setState(state);
    // Events sent while we were away are lost: re-read what they would have told us.
    if (state.phase === 'open' && wasOpened) {
      void useSystemStore.getState().refresh();
      void useRunsStore.getState().resync();
      void useTargetsStore.getState().load();
      reloadEditorData();
      reloadAlerts(useNavStore.getState().view === 'alerts');
      void useSettingsStore.getState().load();
      reloadOpenView();
    }
  });
  // Calls made by the stores above wait in the socket's queue until it opens.
  choice.socket.start();
}

/** The provider views read their data when they open; after a reconnect, the open one reads it again. */
function reloadOpenView(): void {
  const view = useNavStore.getState().view;
  if (view === 'hosts') void useInstancesStore.getState().load();
  else if (view === 'instances') {
    void useInstancesStore.getState().load();
    void useAccountsStore.getState().refresh();
  } else if (view === 'accounts') void useAccountsStore.getState().refresh();
  else if (view === 'audit') void useAuditStore.getState().load();
  else if (view === 'firewall') void useFirewallStore.getState().load();
}
