// The "too large" message under the editor or the stdin box, computed from the text itself.
import { useMemo } from 'react';
import { sizeProblem, type SizedField } from '../../lib/requestSize';

export function SizeError({ field, text }: { field: SizedField; text: string }) {
  const problem = useMemo(() => sizeProblem(field, text), [field, text]);
  if (!problem) return null;
  return (
    <div className="field-error size-error" role="alert" data-testid={`${field}-size-error`}>
      {problem}
    </div>
  );
}
