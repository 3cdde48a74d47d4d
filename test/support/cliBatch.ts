/** The child of dcdMany (cli.ts): reads argv lists as JSON on stdin, prints [{status, stdout, stderr}] as JSON. */
import { readFileSync } from 'node:fs';
import { main } from '../../src/cli/main';

async function run(): Promise<void> {
  const runs = JSON.parse(readFileSync(0, 'utf8')) as string[][];
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  const results = [];
  for (const argv of runs) {
    let stdout = '';
    let stderr = '';
    process.stdout.write = ((chunk: string | Uint8Array) => { stdout += String(chunk); return true; }) as typeof process.stdout.write;
    process.stderr.write = ((chunk: string | Uint8Array) => { stderr += String(chunk); return true; }) as typeof process.stderr.write;
    process.exitCode = undefined;
    let status: number;
    try { status = await main(argv); } catch (e) { status = 99; stderr += `uncaught: ${(e as Error).stack}`; }
    process.stdout.write = out;
    process.stderr.write = err;
    results.push({ status, stdout, stderr });
  }
  process.exitCode = 0;
  out(JSON.stringify(results));
}
void run();
