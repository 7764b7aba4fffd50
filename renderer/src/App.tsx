import { ConnectionBanner } from './components/ConnectionBanner';
import { NavRail } from './components/NavRail';
import { GvisorAlert, StatusBar } from './components/StatusBar';
import { SandboxesView } from './views/sandboxes/SandboxesView';

export function App() {
  return (
    <div className="app">
      <StatusBar />
      <ConnectionBanner />
      <GvisorAlert />
      <div className="app-body">
        <NavRail />
        <main className="view">
          <SandboxesView />
        </main>
      </div>
    </div>
  );
}
