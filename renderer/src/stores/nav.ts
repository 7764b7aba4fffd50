// Which view the main area shows. Sandboxes first: it is what Moat opens on. In the desktop app,
// main can ask for a view (a tray item or a notification was clicked): the 'ui.open' event.
import { create } from 'zustand';
import type { ViewId } from '../../../shared/views';
import { api } from '../transport/client';

export type { ViewId } from '../../../shared/views';

interface NavStore {
  view: ViewId;
  show(view: ViewId): void;
  init(): () => void;
}

export const useNavStore = create<NavStore>()((set) => ({
  view: 'sandboxes',
  show: (view) => set({ view }),
  init: () => api().on('ui.open', ({ view }) => set({ view })),
}));
