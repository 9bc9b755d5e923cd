// What the engine tells its surroundings (terminal progress, the UI's change stream) as it works.
export type EngineEvent =
  | { type: 'log'; targetId: string; level: 'info' | 'warn' | 'error'; message: string; packageId?: string }
  /** `download`: server → station cache; `push`: station cache → a docked device over its link. */
  | { type: 'progress'; leg: 'download' | 'push'; targetId: string; packageId: string; name: string; bytesDone: number; total: number | null; resumedFrom: number }
  | { type: 'transfer-end'; leg: 'download' | 'push'; targetId: string; packageId: string; ok: boolean }
  | { type: 'changed'; targetId: string };
