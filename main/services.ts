// Composes the main-process services into the object that implements shared/api.
// (Being filled in: see the sandbox engine and store.)
import type { ApiHandlers, EventName } from '../shared/api';

export interface Services {
  handlers: ApiHandlers;
  /** Subscribe to every event main emits (run output, run updates, stats, system status). */
  onEvent(listener: (event: EventName, payload: unknown) => void): () => void;
  close(): Promise<void>;
}

export interface ServicesOptions {
  /** Directory for durable state (settings, run history). */
  dataDir: string;
  /** Docker socket path; defaults to DOCKER_HOST or /var/run/docker.sock. */
  dockerSocket?: string;
  /** Log sink for errors that are not shown to the user (never receives secrets). */
  log?: (msg: string) => void;
}
