/** The registry of `dcd` subcommands: one module each, registered in this order. */
import type { Command } from 'commander';

import { register as results } from './results';
import { register as contamination } from './contamination';

export type RegisterCommand = (program: Command) => void;

export const COMMANDS: RegisterCommand[] = [results, contamination];
