/**
 * Entry of the local-model worker process (bundled as `out/local-worker.js`;
 * under tsx it runs from this source). Started by ./client with an IPC
 * channel; hosts one {@link LocalEngine} and exits when told to dispose or when
 * its parent goes away, so the model's memory is always returned to the system.
 */
import { LocalEngine } from './engine';
import { toWire, type FromWorker, type ToWorker } from './protocol';

function send(msg: FromWorker): Promise<void> {
  return new Promise((resolve) => {
    if (process.connected && process.send) process.send(msg, undefined, undefined, () => resolve());
    else resolve();
  });
}

if (!process.send) {
  process.stderr.write('local-worker: must be started by the DCD Studio local-model client (no IPC channel)\n');
  process.exit(2);
}

let engine: LocalEngine | null = null;
const running = new Map<number, AbortController>();

// Parent gone (extension host closed or killed): stop at once.
process.on('disconnect', () => process.exit(0));

process.on('message', (raw: unknown) => {
  const msg = raw as ToWorker;
  switch (msg.type) {
    case 'load':
      void (async () => {
        try {
          if (engine) throw new Error('A model is already loaded in this worker.');
          engine = await LocalEngine.load(msg.dir, msg.opts);
          void send({ type: 'loaded', info: engine.info });
        } catch (err) {
          void send({ type: 'load-error', error: toWire(err) });
        }
      })();
      break;
    case 'generate': {
      const ac = new AbortController();
      running.set(msg.id, ac);
      void (async () => {
        try {
          if (!engine) throw new Error('No model loaded.');
          const result = await engine.generate(msg.prompt, msg.params, {
            signal: ac.signal,
            onToken: (ev) => void send({ type: 'token', id: msg.id, ev }),
          });
          void send({ type: 'result', id: msg.id, result });
        } catch (err) {
          void send({ type: 'error', id: msg.id, error: toWire(err) });
        } finally {
          running.delete(msg.id);
        }
      })();
      break;
    }
    case 'cancel':
      running.get(msg.id)?.abort();
      break;
    case 'dispose':
      void (async () => {
        for (const ac of running.values()) ac.abort();
        try { await engine?.dispose(); } catch { /* exiting anyway */ }
        engine = null;
        await send({ type: 'disposed' });
        process.exit(0);
      })();
      break;
  }
});
