// The UI's views, as plain data: the renderer's navigation shows one of them, and the desktop
// app's main process names one when a tray item or an OS notification is clicked (the 'ui.open'
// event of shared/api). Free of zod so the renderer's nav store and app/electron's tray model can
// import it without the schemas.

export const VIEW_IDS = ['sandboxes', 'hosts', 'instances', 'accounts', 'audit', 'firewall', 'alerts', 'batches', 'settings'] as const;

export type ViewId = (typeof VIEW_IDS)[number];

const VIEW_SET: ReadonlySet<string> = new Set<string>(VIEW_IDS);

export function isViewId(x: unknown): x is ViewId {
  return typeof x === 'string' && VIEW_SET.has(x);
}
