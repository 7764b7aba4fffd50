// "Egress self-test": probes run in a sandbox with the form's allowlist, declared against enforced.
import { useShallow } from 'zustand/react/shallow';
import { ErrorNotice } from '../../components/ErrorNotice';
import { useEditorStore } from '../../stores/editor';
import { useEgressFormStore } from '../../stores/egressForm';

export function EgressSelfTest() {
  const { testing, report, testError, selfTest } = useEgressFormStore(
    useShallow((s) => ({ testing: s.testing, report: s.report, testError: s.testError, selfTest: s.selfTest })),
  );
  const template = useEditorStore((s) => s.selectedId);
  return (
    <div className="egress-selftest">
      <button type="button" data-testid="egress-test" onClick={() => void selfTest(template)} disabled={testing}>
        {testing ? 'Testing…' : 'Egress self-test'}
      </button>
      {testError && <ErrorNotice error={testError} testId="egress-test-error" />}
      {report && (
        <div className="egress-report" data-testid="egress-report" data-pass={String(report.pass)}>
          <div className={report.pass ? 'good-text' : 'bad-text'}>
            {report.pass ? 'Pass: the sandbox enforces what the allowlist declares.' : 'Fail: enforcement differs from the allowlist.'}
          </div>
          <table className="data-table">
            <thead>
              <tr>
                <th>Probe</th>
                <th>Target</th>
                <th>Declared</th>
                <th>Enforced</th>
                <th>Result</th>
              </tr>
            </thead>
            <tbody>
              {report.probes.map((p) => (
                <tr key={p.id} data-testid="egress-probe" data-pass={String(p.pass)} title={p.detail}>
                  <td>{p.label}</td>
                  <td className="mono small">{p.target}</td>
                  <td>{p.declared}</td>
                  <td>{p.enforced}</td>
                  <td>
                    <span className={`badge tone-${p.pass ? 'good' : 'bad'}`}>{p.pass ? 'pass' : 'fail'}</span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
