// Which view the main area shows. Sandboxes first: it is what Moat opens on.
import { create } from 'zustand';

export type ViewId = 'sandboxes' | 'hosts' | 'instances' | 'accounts' | 'audit' | 'firewall' | 'alerts' | 'batches' | 'settings';

interface NavStore {
  view: ViewId;
  show(view: ViewId): void;
}

export const useNavStore = create<NavStore>()((set) => ({
  view: 'sandboxes',
  show: (view) => set({ view }),
}));
