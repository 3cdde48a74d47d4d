"""Lineage on a host (docs/FORMATS.md §6), standard library only: the folder hash of a model
folder and the evaluation sidecar ``dcd_lineage.json``, for evaluations that run where the model
is (the TypeScript side, src/core/lineage, does the same on the user's machine).

    python -m dcd_backend.lineage hash DIR
    python -m dcd_backend.lineage eval-sidecar OUT_DIR --model MODEL_DIR [--tasks a,b] [--limit N] [--job ID] [--host NAME]
"""
from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import re
import sys
from pathlib import Path

LINEAGE_FILE = "dcd_lineage.json"
_RESULTS = re.compile(r"(^|/)(results|samples)_[^/]*\.jsonl?$")


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def list_files(folder: Path) -> list:
    """Regular files under FOLDER as "/"-separated relative paths sorted by their UTF-8 bytes;
    symbolic links and dcd_lineage.json files left out."""
    out = []
    for root, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(root, d))]
        for name in files:
            p = os.path.join(root, name)
            if name == LINEAGE_FILE or os.path.islink(p) or not os.path.isfile(p):
                continue
            out.append(os.path.relpath(p, folder).replace(os.sep, "/"))
    return sorted(out, key=lambda r: r.encode("utf-8"))


def folder_hash(folder) -> str:
    """sha256 of the lines "<relpath>\\t<sha256>\\n" of every file, sorted by path."""
    folder = Path(folder)
    h = hashlib.sha256()
    for rel in list_files(folder):
        h.update(f"{rel}\t{file_sha256(folder / rel)}\n".encode("utf-8"))
    return h.hexdigest()


def write_eval_sidecar(out_dir, model_dir, tasks=None, limit=None, job=None, host=None) -> dict:
    """Writes OUT_DIR/dcd_lineage.json: the model folder (path, folder hash) as the parent, and the
    sha256 of every results_*/samples_* file under OUT_DIR. Written atomically."""
    out_dir = Path(out_dir)
    model_dir = Path(model_dir).resolve()
    rec = {"format": "dcd-lineage", "version": 1, "kind": "eval",
           "parents": [{"kind": "model", "path": str(model_dir), "sha256": folder_hash(model_dir)}],
           "created_by": "dcd_backend.lineage",
           "time": datetime.datetime.now(datetime.timezone.utc).isoformat().replace("+00:00", "Z")}
    if tasks:
        rec["tasks"] = list(tasks)
    if limit is not None:
        rec["limit"] = limit
    if job:
        rec["job"] = job
    if host:
        rec["host"] = host
    rec["files"] = {rel: file_sha256(out_dir / rel) for rel in list_files(out_dir) if _RESULTS.search(rel)}
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / f".{LINEAGE_FILE}.tmp-{os.getpid()}"
    tmp.write_text(json.dumps(rec, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, out_dir / LINEAGE_FILE)
    return rec


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m dcd_backend.lineage")
    sub = p.add_subparsers(dest="cmd", required=True)
    h = sub.add_parser("hash", help="print the folder hash of DIR")
    h.add_argument("dir")
    e = sub.add_parser("eval-sidecar", help="write OUT_DIR/dcd_lineage.json for lm-eval output evaluating MODEL_DIR")
    e.add_argument("out_dir")
    e.add_argument("--model", required=True)
    e.add_argument("--tasks", default=None)
    e.add_argument("--limit", type=int, default=None)
    e.add_argument("--job", default=None)
    e.add_argument("--host", default=None)
    a = p.parse_args(argv)
    if a.cmd == "hash":
        if not Path(a.dir).is_dir():
            print(f"not a folder: {a.dir}", file=sys.stderr)
            return 2
        print(folder_hash(a.dir))
        return 0
    if not Path(a.model).is_dir():
        print(f"--model: not a folder: {a.model}", file=sys.stderr)
        return 2
    rec = write_eval_sidecar(a.out_dir, a.model, [t for t in (a.tasks or "").split(",") if t], a.limit, a.job, a.host)
    print(json.dumps(rec))
    return 0


if __name__ == "__main__":
    sys.exit(main())
