/** Lineage: every artifact's parents by content hash (docs/FORMATS.md §6). */
export { HashCache, LINEAGE_FILE, folderHashOf, listFiles, sha256File } from './hash';
export { LINEAGE_KINDS, diffLines, lineHashes, lineageRecord, parseLineageRecord, writeEvalLineage, type EvalLineageOptions, type LineageKind, type LineageRecord, type ParentRef } from './record';
export {
  ancestorsOf, artifactAt, descendantsOf, exportFingerprint, jsonNode, lineageOf, scanLineage,
  type JobHint, type JsonNode, type LineageChange, type LineageGraph, type LineageNode, type LineageReport, type ParentLink, type ScanOptions,
} from './graph';
