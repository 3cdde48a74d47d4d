/**
 * What every part of the workbench webview shares: the persisted view state
 * (survives reloads of the webview), the list's geometry and the endpoint to
 * the host.
 */
import { connect, getState, setState } from '../common/bridge';
import type { EventHandlers } from '../../src/core/protocols/endpoint';
import type { InitInfo, WorkbenchHostApi, WorkbenchViewState, WorkbenchWebviewApi } from '../../src/core/protocols/workbench';

export type Mode = 'list' | 'sample' | 'pair';

export interface Persisted {
  view: WorkbenchViewState;
  mode: Mode;
  selectedKey: number | null;
  scrollTop: number;
  latex: boolean;
  mask: boolean;
  statsOpen: boolean;
  pairFrom: string | null;
  wrongKey: number | null;
}

export const ROW_H = 26;
/** Rows per request: the first one is about a screenful (bench/workbench.ts measures this window). */
export const BLOCK = 40;
export const OVERSCAN = 10;
export const t0 = performance.now();
document.body.dataset.scriptMs = String(Math.round(t0));

const defaults: Persisted = {
  view: { filter: {}, sort: null }, mode: 'list', selectedKey: null, scrollTop: 0, latex: true, mask: false, statsOpen: true, pairFrom: null, wrongKey: null,
};
export const restored = getState<Persisted | null>(null);
export const st: Persisted = { ...defaults, ...(restored ?? {}) };
export const save = (): void => setState(st);

let onInit: ((info: InitInfo) => void) | undefined;
export const initInfo = new Promise<InitInfo>((resolve) => { onInit = resolve; });
type FirstView = WorkbenchWebviewApi['events']['firstView'];
let onFirstView: ((v: FirstView) => void) | undefined;
/** The view the host pushes after init (the saved state's, with its first rows). */
export const firstView = new Promise<FirstView>((resolve) => { onFirstView = resolve; });

/**
 * The host's events, looked up when each one arrives: main.ts fills in the
 * rest while the modules load, before any message can be dispatched.
 */
export const hostEvents: EventHandlers<WorkbenchWebviewApi> = { init: (info) => onInit?.(info), firstView: (v) => onFirstView?.(v) };

export const endpoint = connect<WorkbenchWebviewApi, WorkbenchHostApi>({}, hostEvents);
