import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import 'uplot/dist/uPlot.min.css';
import './styles/base.css';
import './styles/layout.css';
import './styles/panels.css';
import './styles/providers.css';
import './styles/firewall.css';
import './styles/hosts.css';
import './styles/egress.css';
import { App } from './App';
import { startApp } from './bootstrap';
import { chooseTransport } from './transport';
import { reloadOnNewToken } from './transport/token';
import { NoTokenScreen } from './views/NoTokenScreen';

const container = document.getElementById('root');
if (!container) throw new Error('index.html has no #root');
const root = createRoot(container);

const choice = chooseTransport();
if (choice.kind !== 'electron') reloadOnNewToken();
if (choice.kind === 'no-token') {
  root.render(<NoTokenScreen />);
} else {
  startApp(choice);
  root.render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}
