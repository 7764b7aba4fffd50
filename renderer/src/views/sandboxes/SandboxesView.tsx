// The Sandboxes view: write code and run it on the left; output, live stats and history on the right.
import { HistoryTable } from './HistoryTable';
import { OutputPanel } from './OutputPanel';
import { RunForm } from './RunForm';
import { StatsPanel } from './StatsPanel';

export function SandboxesView() {
  return (
    <div className="sandboxes">
      <section className="panel run-form-panel" aria-label="Run code">
        <RunForm />
      </section>
      <section className="panel output-panel" aria-label="Output">
        <OutputPanel />
      </section>
      <section className="panel stats-panel" aria-label="Resource usage">
        <StatsPanel />
      </section>
      <section className="panel history-panel" aria-label="Run history">
        <HistoryTable />
      </section>
    </div>
  );
}
