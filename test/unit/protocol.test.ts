import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { Endpoint, type Api, type Envelope } from '../../src/core/protocols/endpoint';

interface HostApi extends Api { requests: { add: { req: { a: number; b: number }; res: number }; fail: { req: null; res: never } }; events: { ready: Record<string, never> } }
interface ViewApi extends Api { requests: Record<string, never>; events: { show: { text: string } } }

function pair() {
  const shown: string[] = [];
  let ready = 0;
  // eslint-disable-next-line prefer-const
  let view: Endpoint<ViewApi, HostApi>;
  const host: Endpoint<HostApi, ViewApi> = new Endpoint<HostApi, ViewApi>((m: Envelope) => { void view.receive(JSON.parse(JSON.stringify(m))); }, {
    add: ({ a, b }) => a + b,
    fail: () => { throw new Error('nope'); },
  }, { ready: () => { ready++; } });
  view = new Endpoint<ViewApi, HostApi>((m) => { void host.receive(JSON.parse(JSON.stringify(m))); }, {}, { show: (p) => shown.push(p.text) });
  return { host, view, shown, ready: () => ready };
}

describe('the webview message protocol', () => {
  it('answers awaited requests and delivers events both ways', async () => {
    const { host, view, shown, ready } = pair();
    view.emit('ready', {});
    assert.equal(ready(), 1);
    assert.equal(await view.request('add', { a: 2, b: 40 }), 42);
    host.emit('show', { text: '<img src=x onerror=alert(1)>' });
    assert.deepEqual(shown, ['<img src=x onerror=alert(1)>']);
  });

  it('rejects with the handler\'s error and for unknown requests', async () => {
    const { view } = pair();
    await assert.rejects(view.request('fail', null), /nope/);
    await assert.rejects((view as unknown as Endpoint<ViewApi, Api>).request('missing' as never, null as never), /No handler for request "missing"/);
  });

  it('ignores malformed messages and rejects pending requests on dispose', async () => {
    const sent: Envelope[] = [];
    const ep = new Endpoint<ViewApi, HostApi>((m) => sent.push(m), {});
    await ep.receive({ kind: 'bogus' });
    await ep.receive('hello');
    const pending = ep.request('add', { a: 1, b: 1 });
    ep.dispose('gone');
    await assert.rejects(pending, /gone/);
    assert.equal(sent.length, 1);
  });
});
