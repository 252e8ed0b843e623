/** The status mark every node carries on the canvas (Node-RED / KNIME convention). */
export type NodeStatus = 'unconfigured' | 'invalid' | 'blocked' | 'checking' | 'ready' | 'queued' | 'done' | 'failed';

export const STATUS_COLOR: Readonly<Record<NodeStatus, string>> = {
  unconfigured: 'default', invalid: 'error', blocked: 'warning', checking: 'processing', ready: 'success', queued: 'processing', done: 'success', failed: 'error',
};
