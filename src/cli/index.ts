#!/usr/bin/env node
import { main } from './main';

// A reader that stops early (`dcd render … | head`) closes the pipe: stop quietly, as Unix tools do.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
