/**
 * Webview side of the protocol: wraps `acquireVsCodeApi()` in a typed Endpoint
 * and announces `ready` once handlers are in place.
 */
import { Endpoint, type Api, type RequestHandlers, type EventHandlers } from '../../src/core/protocols/endpoint';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

let api: VsCodeApi | undefined;
export function vscodeApi(): VsCodeApi {
  api ??= acquireVsCodeApi();
  return api;
}

export function connect<View extends Api, Host extends Api & { events: { ready: unknown } }>(
  requests: Partial<RequestHandlers<View>>,
  events: EventHandlers<View>,
): Endpoint<View, Host> {
  const endpoint = new Endpoint<View, Host>((m) => vscodeApi().postMessage(m), requests, events);
  window.addEventListener('message', (e: MessageEvent) => { void endpoint.receive(e.data); });
  endpoint.emit('ready', {} as Host['events']['ready']);
  return endpoint;
}

/** Persisted view state (survives reloads of the webview). */
export function getState<T>(fallback: T): T {
  return (vscodeApi().getState() as T | undefined) ?? fallback;
}
export function setState<T>(state: T): void {
  vscodeApi().setState(state);
}

/** Creates an element whose content is TEXT ONLY: sample text is never parsed as HTML. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: { className?: string; text?: string; title?: string } = {}, ...children: Node[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.className) node.className = props.className;
  if (props.text !== undefined) node.textContent = props.text;
  if (props.title) node.title = props.title;
  for (const c of children) node.appendChild(c);
  return node;
}
