"""Differential oracle for the answer verifier (src/core/answer): Math-Verify against `dcd verify --pairs`.

The pairs are every labelled pair of test/fixtures/verifier/pairs.jsonl plus the real and constructed pairs of
test/fixtures/verifier/oracle_pairs.jsonl (PROVENANCE.md says where each comes from). A pair has a `mode`:
  bare          both sides are answers            (pred_is_answer and gold_is_answer on the --pairs line)
  pred-extract  the prediction is a full response (gold_is_answer)
  extract       both sides are texts              (neither)
Math-Verify parses a bare answer wrapped in $…$ and a text as it is, and verifies gold against prediction.
It decides (True/False) unless it extracts nothing from one side (None).

Run as a script for the bench: `python verifier_oracle.py --bench` prints one JSON object with both
verifiers' throughput on the same pairs (bench/verifier.ts calls it).
"""
from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
FIXTURES = REPO / "test" / "fixtures" / "verifier"


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
    """`dcd` from the sources (tsx), or the built CLI named by DCD_CLI (the bench uses out/cli.js)."""
    node = os.environ.get("DCD_NODE") or shutil.which("node")
    if not node:
        raise RuntimeError("node is not on PATH (set DCD_NODE)")
    built = os.environ.get("DCD_CLI")
    return [node, built] if built else [node, "--import", "tsx", "src/cli/index.ts"]


def ours(pairs: list[dict]) -> tuple[list[dict], dict]:
    """Our verdicts (the `dcd verify --pairs --json` objects, in pair order) and the CLI's wall and CPU seconds.

    One process for all pairs: each line says which sides are bare answers (pred_is_answer / gold_is_answer)."""
    with tempfile.TemporaryDirectory(prefix="dcd-oracle-") as tmp:
        file = Path(tmp) / "pairs.jsonl"
        file.write_text("".join(json.dumps({"pred": p["pred"], "gold": p["gold"], "pred_is_answer": p["mode"] == "bare",
                                            "gold_is_answer": p["mode"] != "extract"}) + "\n" for p in pairs), encoding="utf8")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run([*node_command(), "verify", "--pairs", str(file), "--json"], cwd=REPO,
                              capture_output=True, text=True, timeout=600)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"dcd verify failed ({proc.returncode}): {proc.stderr[-2000:]}")
    lines = [json.loads(l) for l in proc.stdout.splitlines() if l.strip()]
    if len(lines) != len(pairs):
        raise RuntimeError(f"dcd verify printed {len(lines)} lines for {len(pairs)} pairs")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return lines, {"wall_s": wall, "cpu_s": cpu}


def _mv_text(pair: dict, side: str) -> str:
    text = pair[side]
    bare = pair["mode"] == "bare" or (side == "gold" and pair["mode"] == "pred-extract")
    return f"${text}$" if bare else text


def math_verify(pairs: list[dict]) -> tuple[list[bool | None], list[float], float]:
    """Math-Verify's decision per pair (None when it extracts nothing from a side), the seconds each took, and the CPU seconds."""
    from math_verify import parse, verify
    out: list[bool | None] = []
    times: list[float] = []
    cpu0 = time.process_time()
    for p in pairs:
        t0 = time.perf_counter()
        try:
            gold = parse(_mv_text(p, "gold"))
            pred = parse(_mv_text(p, "pred"))
            out.append(bool(verify(gold, pred)) if gold and pred else None)
        except Exception:  # noqa: BLE001 - any failure of the library is "no decision"
            out.append(None)
        times.append(time.perf_counter() - t0)
    return out, times, time.process_time() - cpu0


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
    from math_verify import parse  # noqa: F401 - import time is not counted against Math-Verify
    results, cli = ours(pairs)
    # The CLI's fixed start-up (loading every command), measured alone: `dcd --version`.
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([*node_command(), "--version"], cwd=REPO, capture_output=True, timeout=120, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    startup_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    t0 = time.perf_counter()
    mv, times, mv_cpu = math_verify(pairs)
    mv_s = time.perf_counter() - t0
    n = len(pairs)
    return {"n_pairs": n, "ours_cli_wall_s": cli["wall_s"], "ours_cli_cpu_s": cli["cpu_s"],
            "ours_cli_pairs_per_s": n / cli["wall_s"], "ours_cli_pairs_per_cpu_s": n / cli["cpu_s"],
            "ours_cli_startup_cpu_s": startup_cpu, "ours_cli_pairs_per_cpu_s_after_startup": n / max(cli["cpu_s"] - startup_cpu, 1e-3),
            "math_verify_wall_s": mv_s, "math_verify_cpu_s": mv_cpu, "math_verify_pairs_per_s": n / mv_s,
            "math_verify_pairs_per_cpu_s": n / mv_cpu, "math_verify_max_pair_s": max(times),
            **{k: v for k, v in compare(pairs, results, mv).items() if k != "disagreements"}}


if __name__ == "__main__":
    if "--bench" in sys.argv:
        print(json.dumps(bench()))
    else:
        ps = load_pairs()
        res, _ = ours(ps)
        m, _, _ = math_verify(ps)
        print(json.dumps(compare(ps, res, m), indent=1, ensure_ascii=False))
