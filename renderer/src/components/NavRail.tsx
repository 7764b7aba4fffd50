// Left navigation. Alerts is listed, disabled, so the shape of the app is visible
// without pretending they work.
import type { ComponentType } from 'react';
import { useNavStore, type ViewId } from '../stores/nav';
import { AccountsIcon, AlertsIcon, AuditIcon, FirewallIcon, HostsIcon, InstancesIcon, SandboxIcon } from './icons';

interface NavItem {
  id: ViewId | 'alerts';
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
];

const READY: ReadonlySet<NavItem['id']> = new Set<ViewId>(['sandboxes', 'hosts', 'instances', 'accounts', 'audit', 'firewall']);

export function NavRail() {
  const view = useNavStore((s) => s.view);
  const show = useNavStore((s) => s.show);
  return (
    <nav className="nav-rail" aria-label="Views">
      <ul>
        {ITEMS.map(({ id, label, Icon }) => {
          const ready = READY.has(id);
          const active = id === view;
          return (
            <li key={id}>
              <button
                type="button"
                className={active ? 'nav-item active' : 'nav-item'}
                disabled={!ready}
                aria-current={active ? 'page' : undefined}
                title={ready ? label : `${label}: coming soon`}
                data-testid={`nav-${id}`}
                onClick={ready ? () => show(id as ViewId) : undefined}
              >
                <span className="nav-icon">
                  <Icon />
                </span>
                <span className="nav-label">{label}</span>
                {!ready && <span className="nav-soon">coming soon</span>}
              </button>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}
