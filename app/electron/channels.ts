// The only two IPC channels between the preload and main. Kept free of any 'electron' import so
// both bundles can share it.

/** renderer -> main, invoke: (method: string, params: unknown) => Envelope */
export const IPC_CALL = 'moat:call';
/** main -> renderer: (event: EventName, payload: unknown) */
export const IPC_EVENT = 'moat:event';
