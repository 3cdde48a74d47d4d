/**
 * The one message protocol between the extension host and every webview.
 *
 * Each side is an `Endpoint` that can fire events at the other side and make
 * awaited requests of it. Messages are plain JSON envelopes:
 *   { kind: 'event',    type, payload }
 *   { kind: 'request',  id, type, payload }
 *   { kind: 'response', id, ok: true, payload } | { kind: 'response', id, ok: false, error }
 * The shapes of `payload` are typed per webview by an `Api` description:
 * `requests` maps a request type to its request and response payloads,
 * `events` maps an event type to its payload. Pure: no vscode, no DOM.
 */

export interface Api {
  requests: Record<string, { req: unknown; res: unknown }>;
  events: Record<string, unknown>;
}

export type Envelope =
  | { kind: 'event'; type: string; payload: unknown }
  | { kind: 'request'; id: number; type: string; payload: unknown }
  | { kind: 'response'; id: number; ok: true; payload: unknown }
  | { kind: 'response'; id: number; ok: false; error: string };

export type RequestHandlers<A extends Api> = {
  [K in keyof A['requests']]: (req: A['requests'][K]['req']) => Promise<A['requests'][K]['res']> | A['requests'][K]['res'];
};
export type EventHandlers<A extends Api> = {
  [K in keyof A['events']]?: (payload: A['events'][K]) => void;
};

export function isEnvelope(value: unknown): value is Envelope {
  if (!value || typeof value !== 'object') return false;
  const v = value as { kind?: unknown; type?: unknown; id?: unknown };
  if (v.kind === 'event') return typeof v.type === 'string';
  if (v.kind === 'request') return typeof v.type === 'string' && typeof v.id === 'number';
  if (v.kind === 'response') return typeof v.id === 'number';
  return false;
}

/**
 * One side of the channel. `Local` is the API this side serves (requests it
 * answers, events it receives); `Remote` is the API of the other side.
 */
export class Endpoint<Local extends Api, Remote extends Api> {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  constructor(
    private readonly post: (message: Envelope) => void,
    private readonly requestHandlers: Partial<RequestHandlers<Local>>,
    private readonly eventHandlers: EventHandlers<Local> = {},
  ) {}

  /** Fires an event at the other side. */
  emit<K extends keyof Remote['events'] & string>(type: K, payload: Remote['events'][K]): void {
    this.post({ kind: 'event', type, payload });
  }

  /** Sends a request and resolves with the other side's answer (rejects with its error). */
  request<K extends keyof Remote['requests'] & string>(type: K, payload: Remote['requests'][K]['req']): Promise<Remote['requests'][K]['res']> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.post({ kind: 'request', id, type, payload });
    });
  }

  /** Feeds one incoming message to this side; unknown or malformed messages are ignored. */
  async receive(message: unknown): Promise<void> {
    if (!isEnvelope(message)) return;
    switch (message.kind) {
      case 'event': {
        const handler = (this.eventHandlers as Record<string, ((p: unknown) => void) | undefined>)[message.type];
        handler?.(message.payload);
        return;
      }
      case 'response': {
        const waiter = this.pending.get(message.id);
        if (!waiter) return;
        this.pending.delete(message.id);
        if (message.ok) waiter.resolve(message.payload);
        else waiter.reject(new Error(message.error));
        return;
      }
      case 'request': {
        const handler = (this.requestHandlers as Record<string, ((p: unknown) => unknown) | undefined>)[message.type];
        if (!handler) {
          this.post({ kind: 'response', id: message.id, ok: false, error: `No handler for request "${message.type}"` });
          return;
        }
        try {
          const payload = await handler(message.payload);
          this.post({ kind: 'response', id: message.id, ok: true, payload });
        } catch (err) {
          this.post({ kind: 'response', id: message.id, ok: false, error: (err as Error).message ?? String(err) });
        }
        return;
      }
    }
  }

  /** Rejects every awaited request, e.g. when the webview is disposed. */
  dispose(reason = 'channel closed'): void {
    for (const waiter of this.pending.values()) waiter.reject(new Error(reason));
    this.pending.clear();
  }
}
