// The trust question for an instance being added as a target, wherever the adding started (the
// Hosts view's list, or an instance's "Run sandboxes here"), and its error.
import { useShallow } from 'zustand/react/shallow';
import { ErrorNotice } from '../../components/ErrorNotice';
import { useTargetsStore } from '../../stores/targets';
import { TrustDialog } from './TrustDialog';

export function InstanceTrust({ onAdded }: { onAdded?: (targetId: string) => void }) {
  const { trust, addingInstance, instanceError, addInstance, cancel, clearError } = useTargetsStore(
    useShallow((s) => ({
      trust: s.instanceTrust,
      addingInstance: s.addingInstance,
      instanceError: s.instanceError,
      addInstance: s.addInstance,
      cancel: s.cancelInstanceTrust,
      clearError: s.clearInstanceError,
    })),
  );
  return (
    <>
      {addingInstance && !trust && (
        <div className="busy" role="status" data-testid="instance-target-busy">
          Reading the instance&apos;s host key…
        </div>
      )}
      {trust && (
        <TrustDialog
          name={trust.label}
          hostKey={trust.hostKey}
          instance
          busy={addingInstance === trust.ref}
          onYes={() =>
            void addInstance(trust.ref, trust.label, trust.hostKey.fingerprint).then((t) => {
              if (t) onAdded?.(t.id);
            })
          }
          onNo={cancel}
        />
      )}
      {instanceError && <ErrorNotice error={instanceError} testId="instance-target-error" onDismiss={clearError} />}
    </>
  );
}
