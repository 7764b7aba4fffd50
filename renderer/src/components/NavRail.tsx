// Left navigation. Only Sandboxes exists today; the others are listed, disabled, so the shape of
// the app is visible without pretending they work.
import type { ComponentType } from 'react';
import { AlertsIcon, FirewallIcon, InstancesIcon, SandboxIcon } from './icons';

interface NavItem {
  id: string;
  label: string;
  Icon: ComponentType;
  ready: boolean;
}

const ITEMS: readonly NavItem[] = [
  { id: 'sandboxes', label: 'Sandboxes', Icon: SandboxIcon, ready: true },
  { id: 'instances', label: 'Instances', Icon: InstancesIcon, ready: false },
  { id: 'firewall', label: 'Firewall', Icon: FirewallIcon, ready: false },
  { id: 'alerts', label: 'Alerts', Icon: AlertsIcon, ready: false },
];

export function NavRail() {
  return (
    <nav className="nav-rail" aria-label="Views">
      <ul>
        {ITEMS.map(({ id, label, Icon, ready }) => (
          <li key={id}>
            <button
              type="button"
              className={ready ? 'nav-item active' : 'nav-item'}
              disabled={!ready}
              aria-current={ready ? 'page' : undefined}
              title={ready ? label : `${label}: coming soon`}
              data-testid={`nav-${id}`}
            >
              <span className="nav-icon">
                <Icon />
              </span>
              <span className="nav-label">{label}</span>
              {!ready && <span className="nav-soon">coming soon</span>}
            </button>
          </li>
        ))}
      </ul>
    </nav>
  );
}
