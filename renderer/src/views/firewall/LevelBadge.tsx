// A posture level as a coloured badge: exposed red, locked green, unknown amber.
import type { PostureLevel } from '../../../../shared/firewall';
import { LEVEL_TONES } from '../../lib/firewall';

export function LevelBadge({ level, testId = 'posture-level' }: { level: PostureLevel; testId?: string }) {
  return (
    <span className={`badge level-badge tone-${LEVEL_TONES[level]}`} data-testid={testId} data-level={level}>
      {level}
    </span>
  );
}
