// Left column: template, code, stdin, arguments, files and artifacts, where to run, limits, egress (output filter, environment, network),
// the runc opt-in and the run controls.
import { ErrorNotice } from '../../components/ErrorNotice';
import { useEditorStore } from '../../stores/editor';
import { CodeArea } from './CodeArea';
import { EgressForm } from './EgressForm';
import { FilesInput } from './FilesInput';
import { LimitsForm } from './LimitsForm';
import { RunControls } from './RunControls';
import { RuncOptIn } from './RuncOptIn';
import { StdinInput } from './StdinInput';
import { TargetPicker } from './TargetPicker';
import { TemplatePicker } from './TemplatePicker';

export function RunForm() {
  const loadError = useEditorStore((s) => s.loadError);
  return (
    <div className="run-form">
      <div className="panel-header">
        <h2>Sandbox</h2>
        <TemplatePicker />
      </div>
      {loadError && <ErrorNotice error={loadError} testId="templates-error" />}
      <CodeArea />
      <StdinInput />
      <FilesInput />
      <TargetPicker />
      <LimitsForm />
      <EgressForm />
      <RuncOptIn />
      <RunControls />
    </div>
  );
}
