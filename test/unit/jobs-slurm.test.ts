/** src/core/jobs/slurm.ts: the generated batch script and commands, without a cluster (test/slurm/ runs them on one). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  isLiveState, parseState, parseSubmitOutput, sbatchDirectives, slurmBatchScript, statusOfEndedState, submitCommand,
} from '../../src/core/jobs/slurm';
import type { TrainCommand } from '../../src/core/jobs/runner';
import { describeHost, type HostProfile } from '../../src/core/remote/profiles';

const train: TrainCommand = { python: '/opt/py bin/python', backendDir: '/b', exportDir: "/e x'1", jobDir: '/j/20260101-000000-abc', model: 'builtin:tiny', preset: 'smoke' };

test('directives: one line each, only the fields given, tasks = nodes gets one task per node', () => {
  assert.deepEqual(sbatchDirectives('J', {}), ['#SBATCH --job-name=dcd-J', '#SBATCH --open-mode=append', '#SBATCH --signal=B:TERM@120',
    '#SBATCH --nodes=1', '#SBATCH --ntasks=1', '#SBATCH --ntasks-per-node=1']);
  const d = sbatchDirectives('J', { nodes: 2, gpusPerNode: 8, partition: 'gpu', time: '02:00:00', mem: '64G', sbatchArgs: ['--constraint=h100'], signalLeadS: 300 });
  assert.ok(d.includes('#SBATCH --gpus-per-node=8') && d.includes('#SBATCH --partition=gpu') && d.includes('#SBATCH --constraint=h100'));
  assert.ok(d.includes('#SBATCH --signal=B:TERM@300'));
  assert.ok(!sbatchDirectives('J', { tasks: 2 }).includes('#SBATCH --ntasks-per-node=1'));
});

test('batch script: directives before the first command, valid sh, signals forwarded, multi-node rendezvous', () => {
  for (const o of [{}, { gpusPerNode: 4 }, { nodes: 2, gpusPerNode: 4 }]) {
    const s = slurmBatchScript('J', train, o);
    const lines = s.split('\n');
    const firstCmd = lines.findIndex((l) => l && !l.startsWith('#'));
    assert.ok(lines.slice(firstCmd).every((l) => !l.startsWith('#SBATCH')));
    assert.equal(spawnSync('sh', ['-n'], { input: s }).status, 0, s);
    assert.match(s, /trap .* TERM INT/);
  }
  assert.match(slurmBatchScript('J', train, { gpusPerNode: 4 }), /torch\.distributed\.run --standalone --nnodes=1 --nproc_per_node=4/);
  const multi = slurmBatchScript('J', train, { nodes: 2, gpusPerNode: 4 });
  assert.match(multi, /MASTER_ADDR=\$\(scontrol show hostnames "\$SLURM_JOB_NODELIST" \| head -n 1\)/);
  assert.match(multi, /srun .*--nnodes="\$SLURM_NTASKS" --nproc_per_node=4 --rdzv_backend=c10d --rdzv_endpoint="\$MASTER_ADDR:\$MASTER_PORT"/);
  assert.match(multi, /'\/opt\/py bin\/python'/);
});

test('submit output, states', () => {
  assert.equal(parseSubmitOutput('slurm_job_id=1234\n'), '1234');
  assert.throws(() => parseSubmitOutput('sbatch: error: invalid partition'), /no job id/);
  assert.match(submitCommand('/j', { slurmConf: '/c f' }, false), /^umask 077; cd \/j \|\| exit 1; SLURM_CONF='\/c f'; export SLURM_CONF; out=\$\(sbatch --parsable/);
  assert.equal(parseState('slurm=RUNNING\n'), 'RUNNING');
  assert.equal(parseState('garbage'), 'UNKNOWN');
  assert.ok(isLiveState('PENDING') && isLiveState('UNKNOWN') && !isLiveState('COMPLETED') && !isLiveState('TIMEOUT'));
  assert.equal(statusOfEndedState('CANCELLED'), 'cancelled');
  assert.equal(statusOfEndedState('OUT_OF_MEMORY'), 'failed');
});

test('describeHost names where a profile runs jobs: this machine, Slurm here, Slurm via a login node, an SSH host', () => {
  assert.equal(describeHost({ name: 'local', kind: 'local' }), 'this machine');
  assert.equal(describeHost({ name: 'c', kind: 'slurm' } as HostProfile), 'Slurm on this machine');
  assert.equal(describeHost({ name: 'c', kind: 'slurm', host: 'login1', user: 'me' } as HostProfile), 'Slurm via me@login1');
  assert.equal(describeHost({ name: 'g', kind: 'ssh', host: 'gpu', port: 2222 } as HostProfile), 'gpu:2222');
});
