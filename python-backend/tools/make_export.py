#!/usr/bin/env python3
"""Write a synthetic export (random ids, docs/FORMATS.md §1) for benchmarks and demos.

    /usr/bin/python3 python-backend/tools/make_export.py --out DIR [--samples 32] [--min-len 16]
        [--max-len 48] [--vocab 256] [--seed 0]
"""
import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from dcd_backend.synth import write_export  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True)
    p.add_argument("--samples", type=int, default=32)
    p.add_argument("--min-len", type=int, default=16)
    p.add_argument("--max-len", type=int, default=48)
    p.add_argument("--vocab", type=int, default=256)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    out = write_export(a.out, samples=a.samples, min_len=a.min_len, max_len=a.max_len, vocab_size=a.vocab, seed=a.seed)
    m = json.loads((out / "manifest.json").read_text())
    print(json.dumps({"out": str(out), "samples": m["samples"], "tokens": m["tokens"], "trained_tokens": m["trained_tokens"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
