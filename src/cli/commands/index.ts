/** The registry of `dcd` subcommands: one module each, registered in this order. */
import type { Command } from 'commander';

import { register as corpus } from './corpus';
import { register as results } from './results';
import { register as contamination } from './contamination';
import { register as verify } from './verify';
import { register as tokens } from './tokens';
import { register as pack } from './pack';
import { register as plan } from './plan';
import { register as draft } from './draft';
import { register as job } from './job';
import { register as evalCmd } from './eval';
import { register as lineage } from './lineage';

export type RegisterCommand = (program: Command) => void;

export const COMMANDS: RegisterCommand[] = [corpus, results, contamination, verify, tokens, pack, plan, draft, job, evalCmd, lineage];
