// Renders what tray-model.ts decides: the tray icon (menu bar on macOS) with its tooltip, title
// and menu, and OS notifications. Every decision (counts, texts, which notification, which view a
// click opens) is made there; this file only talks to Electron.
import { Menu, Notification, Tray, nativeImage, type MenuItemConstructorOptions, type NativeImage } from 'electron';
import type { ViewId } from '../../shared/views';
import { drawIcon, toBitmap } from './icon';
import type { PlannedNotification, TrayView } from './tray-model';

export interface TrayHandle {
  render(view: TrayView): void;
  notify(n: PlannedNotification): void;
  destroy(): void;
}

/** Notifications shown and not yet closed: a Notification that is garbage-collected loses its click. */
const MAX_KEPT = 20;

function image(attention: boolean): NativeImage {
  // 16 px at 1x and 32 px at 2x, the size every platform's tray expects.
  const img = nativeImage.createEmpty();
  for (const [size, scaleFactor] of [
    [16, 1],
    [32, 2],
  ] as const) {
    img.addRepresentation({ scaleFactor, width: size, height: size, buffer: toBitmap(drawIcon(size, { attention })) });
  }
  return img;
}

export function createTray(opts: { open: (view: ViewId) => void; quit: () => void; log: (msg: string) => void }): TrayHandle {
  const icons = { normal: image(false), attention: image(true) };
  const tray = new Tray(icons.normal);
  tray.on('click', () => opts.open('sandboxes'));
  const kept: Notification[] = [];
  let last: TrayView | null = null;

  return {
    render(view) {
      if (last && JSON.stringify(last) === JSON.stringify(view)) return;
      last = view;
      tray.setImage(view.attention ? icons.attention : icons.normal);
      tray.setToolTip(view.tooltip);
      if (process.platform === 'darwin') tray.setTitle(view.title);
      const template: MenuItemConstructorOptions[] = view.items.map((item) =>
        item.kind === 'separator'
          ? { type: 'separator' }
          : item.kind === 'quit'
            ? { label: item.label, click: () => opts.quit() }
            : { label: item.label, click: () => opts.open(item.view) },
      );
      tray.setContextMenu(Menu.buildFromTemplate(template));
    },

    notify(n) {
      if (!Notification.isSupported()) {
        opts.log(`notification not shown (not supported here): ${n.kind}`);
        return;
      }
      const note = new Notification({ title: n.title, body: n.body, silent: n.kind !== 'critical-alert' });
      const forget = (): void => {
        const i = kept.indexOf(note);
        if (i !== -1) kept.splice(i, 1);
      };
      note.on('click', () => {
        forget();
        opts.open(n.view);
      });
      note.on('close', forget);
      kept.push(note);
      if (kept.length > MAX_KEPT) kept.shift();
      note.show();
    },

    destroy() {
      tray.destroy();
    },
  };
}
