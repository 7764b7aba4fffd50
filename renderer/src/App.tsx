import { ConnectionBanner } from './components/ConnectionBanner';
import { NavRail } from './components/NavRail';
import { StatusBar, SystemAlerts } from './components/StatusBar';
import { SandboxesView } from './views/sandboxes/SandboxesView';

export function App() {
  return (
    <div className="app">
      <StatusBar />
      <ConnectionBanner />
      <SystemAlerts />
      <div className="app-body">
        <NavRail />
        <main className="view">
          <SandboxesView />
        </main>
      </div>
    </div>
  );
}
