/** The corpus workbench's pure core: document and edits, rows, search, pairs and statistics. */
export * from './document';
export * from './rows';
export * from './lineEdit';
export * from './search';
export * from './undo';
export * from './pairs';
export * from './stats';
export * from './view';
export * from './rowInfo';
export * from './source';
export * from './searchRunner';
export * from './tokenColumns';
