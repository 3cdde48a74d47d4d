/** Evaluation core: lm-eval command lines, results and sample parsing, the results table, contamination checks. */
export * from './benchmarks';
export * from './redact';
export * from './lmevalCommand';
export * from './results';
export * from './samples';
export * from './similarity';
export * from './contamination';
export * from './paperTable';
export * from './grading';
export * from './compareRuns';
export * from './seeds';
export * from './genBudget';
