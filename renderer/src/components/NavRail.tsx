// Left navigation, with the count of unacknowledged alerts on Alerts.
import type { ComponentType } from 'react';
import { useAlertsStore } from '../stores/alerts';
import { useNavStore, type ViewId } from '../stores/nav';
import {
  AccountsIcon,
  AlertsIcon,
  AuditIcon,
  BatchesIcon,
  FirewallIcon,
  HostsIcon,
  InstancesIcon,
  SandboxIcon,
  SettingsIcon,
} from './icons';

interface NavItem {
  id: ViewId;
  label: string;
  Icon: ComponentType;
}

const ITEMS: readonly NavItem[] = [
  { id: 'sandboxes', label: 'Sandboxes', Icon: SandboxIcon },
  { id: 'hosts', label: 'Hosts', Icon: HostsIcon },
  { id: 'instances', label: 'Instances', Icon: InstancesIcon },
  { id: 'accounts', label: 'Accounts', Icon: AccountsIcon },
  { id: 'audit', label: 'Audit', Icon: AuditIcon },
  { id: 'firewall', label: 'Firewall', Icon: FirewallIcon },
  { id: 'alerts', label: 'Alerts', Icon: AlertsIcon },
  { id: 'batches', label: 'Batches', Icon: BatchesIcon },
  { id: 'settings', label: 'Settings', Icon: SettingsIcon },
];

function AlertCount() {
  const counts = useAlertsStore((s) => s.counts);
  if (!counts || counts.unacknowledged === 0) return null;
  const critical = (counts.bySeverity.critical ?? 0) > 0;
  return (
    <span
      className={critical ? 'nav-count critical' : 'nav-count'}
      data-testid="nav-alert-count"
      data-count={counts.unacknowledged}
      title={`${counts.unacknowledged} not acknowledged`}
    >
      {counts.unacknowledged > 999 ? '999+' : counts.unacknowledged}
    </span>
  );
}

export function NavRail() {
  const view = useNavStore((s) => s.view);
  const show = useNavStore((s) => s.show);
  return (
    <nav className="nav-rail" aria-label="Views">
      <ul>
        {ITEMS.map(({ id, label, Icon }) => {
          const active = id === view;
          return (
            <li key={id}>
              <button
                type="button"
                className={active ? 'nav-item active' : 'nav-item'}
                aria-current={active ? 'page' : undefined}
                title={label}
                data-testid={`nav-${id}`}
                onClick={() => show(id)}
              >
                <span className="nav-icon">
                  <Icon />
                </span>
                <span className="nav-label">{label}</span>
                {id === 'alerts' && <AlertCount />}
              </button>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}
