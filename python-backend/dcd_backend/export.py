"""Read and validate a training export (docs/FORMATS.md §1). The trainer never re-tokenizes."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Tuple

import numpy as np

EXPORT_FILES = ("ids.npy", "labels.npy", "offsets.npy")
# The label of an untrained token: the value the extension writes (src/core/trace/mask.ts) and torch ignores.
IGNORE_INDEX = -100


class ExportError(Exception):
    """The export is malformed or does not match its manifest; the trainer refuses it."""


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            block = f.read(chunk)
            if not block:
                break
            h.update(block)
    return h.hexdigest()


@dataclass
class Export:
    path: Path
    manifest: dict
    ids: np.ndarray
    labels: np.ndarray
    offsets: np.ndarray

    @property
    def samples(self) -> int:
        return len(self.offsets) - 1

    @property
    def tokens(self) -> int:
        return int(len(self.ids))

    @property
    def trained_tokens(self) -> int:
        return int(np.count_nonzero(self.labels != IGNORE_INDEX))

    @property
    def vocab_size(self) -> int:
        return int(self.manifest.get("tokenizer", {}).get("vocab_size") or 0)

    @property
    def max_id(self) -> int:
        return int(self.ids.max()) if len(self.ids) else -1

    def sample(self, i: int, max_length: Optional[int] = None) -> Tuple[np.ndarray, np.ndarray]:
        a, b = int(self.offsets[i]), int(self.offsets[i + 1])
        if max_length is not None and b - a > max_length:
            b = a + max_length
        return self.ids[a:b], self.labels[a:b]

    def sample_length(self, i: int) -> int:
        return int(self.offsets[i + 1] - self.offsets[i])

    def fingerprint(self) -> str:
        """One hash naming the data: the sha256 of the three array files' hashes."""
        files = self.manifest["files"]
        return hashlib.sha256("".join(files[n] for n in EXPORT_FILES).encode()).hexdigest()


def _require(cond: bool, msg: str) -> None:
    if not cond:
        raise ExportError(msg)


def load_export(path, verify_hashes: bool = True) -> Export:
    """Load EXPORT_DIR and check it against its manifest: format/version, every file's sha256,
    dtypes and shapes, offsets, and the token counts the manifest states."""
    path = Path(path)
    mpath = path / "manifest.json"
    _require(path.is_dir(), f"export directory not found: {path}")
    _require(mpath.is_file(), f"export has no manifest.json: {path}")
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ExportError(f"manifest.json is not valid JSON: {e}") from e
    _require(manifest.get("format") == "dcd-export", f"manifest format is {manifest.get('format')!r}, expected 'dcd-export'")
    _require(manifest.get("version") == 1, f"unsupported export version {manifest.get('version')!r} (this trainer reads version 1)")
    files = manifest.get("files")
    _require(isinstance(files, dict), "manifest has no 'files' hashes")
    for name in EXPORT_FILES:
        fp = path / name
        _require(fp.is_file(), f"export is missing {name}")
        _require(isinstance(files.get(name), str), f"manifest has no sha256 for {name}")
        if verify_hashes:
            actual = sha256_file(fp)
            _require(actual == files[name].lower(),
                     f"{name} does not match the manifest: sha256 {actual} != {files[name]} (export changed after packing?)")
    ids = np.load(path / "ids.npy", allow_pickle=False)
    labels = np.load(path / "labels.npy", allow_pickle=False)
    offsets = np.load(path / "offsets.npy", allow_pickle=False)
    _require(ids.dtype == np.dtype("<i4") and ids.ndim == 1, f"ids.npy must be 1-D <i4, got {ids.dtype} {ids.shape}")
    _require(labels.dtype == np.dtype("<i4") and labels.shape == ids.shape,
             f"labels.npy must be <i4 with the shape of ids {ids.shape}, got {labels.dtype} {labels.shape}")
    _require(offsets.dtype == np.dtype("<i8") and offsets.ndim == 1 and len(offsets) >= 2,
             f"offsets.npy must be 1-D <i8 with samples+1 entries, got {offsets.dtype} {offsets.shape}")
    _require(int(offsets[0]) == 0 and int(offsets[-1]) == len(ids), "offsets must start at 0 and end at len(ids)")
    _require(bool(np.all(np.diff(offsets) >= 0)), "offsets must be non-decreasing")
    samples = len(offsets) - 1
    _require(manifest.get("samples") == samples, f"manifest says {manifest.get('samples')} samples, offsets hold {samples}")
    _require(manifest.get("tokens") == len(ids), f"manifest says {manifest.get('tokens')} tokens, ids.npy holds {len(ids)}")
    trained = int(np.count_nonzero(labels != IGNORE_INDEX))
    _require(manifest.get("trained_tokens") == trained,
             f"manifest says {manifest.get('trained_tokens')} trained tokens, labels.npy has {trained} (labels != -100)")
    bad = (labels != IGNORE_INDEX) & (labels != ids)
    _require(not bool(bad.any()), "labels must be -100 or equal to the token id at the same position")
    _require(len(ids) == 0 or int(ids.min()) >= 0, "ids must be non-negative")
    sample_ids = manifest.get("sample_ids")
    _require(sample_ids is None or len(sample_ids) == samples,
             f"manifest has {len(sample_ids) if sample_ids is not None else 0} sample_ids for {samples} samples")
    return Export(path=path, manifest=manifest, ids=ids, labels=labels, offsets=offsets)


def check_tokenizer(export: Export, tokenizer_json: Optional[Path], allow_mismatch: bool = False) -> Optional[str]:
    """Compare the export's tokenizer fingerprint with ``tokenizer_json``'s sha256.
    Returns a warning string when a mismatch is allowed, None when all is well; raises otherwise."""
    if tokenizer_json is None or not Path(tokenizer_json).is_file():
        return None
    expected = str(export.manifest.get("tokenizer", {}).get("sha256", "")).lower()
    actual = sha256_file(Path(tokenizer_json))
    if actual == expected:
        return None
    msg = (f"tokenizer fingerprint mismatch: the export was packed with tokenizer sha256 {expected or '(none)'}, "
           f"but {tokenizer_json} has sha256 {actual}")
    if allow_mismatch:
        return msg + " (allowed by --allow-tokenizer-mismatch)"
    raise ExportError(msg + "; re-pack with the model's tokenizer or pass --allow-tokenizer-mismatch")
