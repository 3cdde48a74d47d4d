"""Differential oracle for the answer verifier (src/core/answer): Math-Verify against `dcd verify --pairs`.

The pairs are every labelled pair of test/fixtures/verifier/pairs.jsonl plus the real and constructed pairs of
test/fixtures/verifier/oracle_pairs.jsonl (PROVENANCE.md says where each comes from). A pair has a `mode`:
  bare          both sides are answers            (dcd verify --pred-is-answer --gold-is-answer)
  pred-extract  the prediction is a full response (dcd verify --gold-is-answer)
  extract       both sides are texts              (dcd verify)
Math-Verify parses a bare answer wrapped in $…$ and a text as it is, and verifies gold against prediction.
It decides (True/False) unless it extracts nothing from one side (None).

Run as a script for the bench: `python verifier_oracle.py --bench` prints one JSON object with both
verifiers' throughput on the same pairs (bench/verifier.ts calls it).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
FIXTURES = REPO / "test" / "fixtures" / "verifier"
MODES = {"bare": ["--pred-is-answer", "--gold-is-answer"], "pred-extract": ["--gold-is-answer"], "extract": []}


def load_pairs() -> list[dict]:
    pairs = []
    for i, line in enumerate((FIXTURES / "pairs.jsonl").read_text(encoding="utf8").splitlines()):
        if not line.strip():
            continue
        row = json.loads(line)
        pairs.append({"id": f"pairs:{i + 1}", "source": row["source"], "mode": "extract" if row.get("extract") else "bare",
                      "pred": row["pred"], "gold": row["gold"], "expected": row["expected"]})
    for line in (FIXTURES / "oracle_pairs.jsonl").read_text(encoding="utf8").splitlines():
        if line.strip():
            pairs.append(json.loads(line))
    return pairs


def node_command() -> list[str]:
    node = os.environ.get("DCD_NODE") or shutil.which("node")
    if not node:
        raise RuntimeError("node is not on PATH (set DCD_NODE)")
    return [node, "--import", "tsx", "src/cli/index.ts"]


def ours(pairs: list[dict]) -> tuple[list[dict], float]:
    """Our verdicts (the `dcd verify --pairs --json` objects, in pair order) and the seconds the CLI took."""
    results: list[dict | None] = [None] * len(pairs)
    seconds = 0.0
    with tempfile.TemporaryDirectory(prefix="dcd-oracle-") as tmp:
        for mode, flags in MODES.items():
            idx = [k for k, p in enumerate(pairs) if p["mode"] == mode]
            if not idx:
                continue
            file = Path(tmp) / f"{mode}.jsonl"
            file.write_text("".join(json.dumps({"pred": pairs[k]["pred"], "gold": pairs[k]["gold"]}) + "\n" for k in idx), encoding="utf8")
            t0 = time.perf_counter()
            proc = subprocess.run([*node_command(), "verify", "--pairs", str(file), "--json", *flags], cwd=REPO,
                                  capture_output=True, text=True, timeout=600)
            seconds += time.perf_counter() - t0
            if proc.returncode != 0:
                raise RuntimeError(f"dcd verify failed ({proc.returncode}): {proc.stderr[-2000:]}")
            lines = [json.loads(l) for l in proc.stdout.splitlines() if l.strip()]
            if len(lines) != len(idx):
                raise RuntimeError(f"dcd verify printed {len(lines)} lines for {len(idx)} pairs")
            for k, r in zip(idx, lines):
                results[k] = r
    return [r for r in results if r is not None], seconds


def _mv_text(pair: dict, side: str) -> str:
    text = pair[side]
    bare = pair["mode"] == "bare" or (side == "gold" and pair["mode"] == "pred-extract")
    return f"${text}$" if bare else text


def math_verify(pairs: list[dict]) -> tuple[list[bool | None], list[float]]:
    """Math-Verify's decision per pair (None when it extracts nothing from a side) and the seconds each took."""
    from math_verify import parse, verify
    out: list[bool | None] = []
    times: list[float] = []
    for p in pairs:
        t0 = time.perf_counter()
        try:
            gold = parse(_mv_text(p, "gold"))
            pred = parse(_mv_text(p, "pred"))
            out.append(bool(verify(gold, pred)) if gold and pred else None)
        except Exception:  # noqa: BLE001 - any failure of the library is "no decision"
            out.append(None)
        times.append(time.perf_counter() - t0)
    return out, times


def compare(pairs: list[dict], ours_results: list[dict], mv: list[bool | None]) -> dict:
    both = agree = 0
    disagreements = []
    for p, o, m in zip(pairs, ours_results, mv):
        if o["equivalent"] is None or m is None:
            continue
        both += 1
        if o["equivalent"] == m:
            agree += 1
        else:
            disagreements.append({"id": p["id"], "ours": o["equivalent"], "math_verify": m,
                                  "pred_answer": o["pred_answer"], "gold_answer": o["gold_answer"]})
    return {"n": len(pairs), "both_decide": both, "agree": agree, "agreement": agree / both if both else 0.0,
            "disagreements": disagreements}


def bench() -> dict:
    pairs = load_pairs()
    results, our_s = ours(pairs)
    t0 = time.perf_counter()
    mv, times = math_verify(pairs)
    mv_s = time.perf_counter() - t0
    return {"n_pairs": len(pairs), "ours_cli_seconds": our_s, "math_verify_seconds": mv_s,
            "math_verify_pairs_per_s": len(pairs) / mv_s, "math_verify_max_pair_s": max(times),
            "ours_cli_pairs_per_s": len(pairs) / our_s, **{k: v for k, v in compare(pairs, results, mv).items() if k != "disagreements"}}


if __name__ == "__main__":
    if "--bench" in sys.argv:
        print(json.dumps(bench()))
    else:
        ps = load_pairs()
        res, _ = ours(ps)
        m, _ = math_verify(ps)
        print(json.dumps(compare(ps, res, m), indent=1, ensure_ascii=False))
