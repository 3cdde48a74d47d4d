"""Helpers for the DCD task variants (lm-evaluation-harness, loaded via --include_path).

`process_results` is the stock AIME grader of the *installed* harness
(lm_eval/tasks/aime/utils.py), so dcd_aime24 grades exactly like aime24; only
the text it is given differs (see the filters in dcd_aime24.yaml).
"""
from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import Any, Callable

#: Keeps only the text after the last DCD answer tag. Identical to the
#: regex_pattern in the dcd_*.yaml filters and to DCD_ANSWER_REGEX in
#: src/core/eval/benchmarks.ts.
DCD_ANSWER_REGEX = r"^[\s\S]*(?:<\|im_start\|>answer|(?:^|\n)answer[ \t]*(?=\n))[ \t]*\n?([\s\S]*)"
NO_ANSWER_TAG = "[no-answer-tag]"

_stock_process_results: Callable[[dict, list], dict] | None = None


def _load_stock_aime_utils():
    import lm_eval.tasks  # the installed harness

    path = Path(lm_eval.tasks.__file__).parent / "aime" / "utils.py"
    if not path.is_file():
        raise RuntimeError(
            f"dcd_aime24 needs the stock aime task of lm-evaluation-harness >= 0.4.10 ({path} not found)"
        )
    spec = importlib.util.spec_from_file_location("_dcd_stock_aime_utils", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def process_results(doc: dict, results: list) -> dict[str, Any]:
    global _stock_process_results
    if _stock_process_results is None:
        _stock_process_results = _load_stock_aime_utils().process_results
    return _stock_process_results(doc, results)


def dcd_answer_text(output: str) -> str:
    """What the harness's `regex` filter yields for one output with DCD_ANSWER_REGEX."""
    found = re.findall(DCD_ANSWER_REGEX, output)
    return found[0].strip() if found else NO_ANSWER_TAG
