// The preload: the page's only way into main. It exposes exactly the `Transport` of shared/api
// as `window.moat` and nothing else; ipcRenderer itself, and the IPC event objects (which carry a
// reference to it), never reach the page. It runs sandboxed, so scripts/build.mjs bundles it into
// one CommonJS file whose only require is 'electron'.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { Envelope, EventName } from '../../shared/api';
import type { Transport } from '../../shared/client';
import { isEventName, isMethodName } from '../../shared/names';
import { IPC_CALL, IPC_EVENT } from './channels';

const moat: Transport = {
  call(method: unknown, params: unknown): Promise<Envelope<unknown>> {
    if (!isMethodName(method)) {
      return Promise.resolve({
        ok: false,
        error: { code: 'UNKNOWN_METHOD', message: `Unknown method: ${String(method).slice(0, 64)}` },
      });
    }
    return ipcRenderer.invoke(IPC_CALL, method, params) as Promise<Envelope<unknown>>;
  },

  on(listener: (event: EventName, payload: unknown) => void): () => void {
    if (typeof listener !== 'function') throw new TypeError('moat.on needs a function');
    const forward = (_event: IpcRendererEvent, name: unknown, payload: unknown): void => {
      if (isEventName(name)) listener(name, payload);
    };
    ipcRenderer.on(IPC_EVENT, forward);
    return () => {
      ipcRenderer.removeListener(IPC_EVENT, forward);
    };
  },
};

contextBridge.exposeInMainWorld('moat', Object.freeze(moat));
