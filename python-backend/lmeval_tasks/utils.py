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


# ---------------------------------------------------------------------------
# The `dcd-extract` filter: the final answer after the last answer tag.
#
# A DCD model answers like its teacher: `<|im_start|>answer` and then,
# typically, `\boxed{N}`; GSM8K exemplars end in `#### N`; some answers are
# plain ("The answer is 18."). This filter reads all three forms, in the
# order of the project's verifier (src/core/answer: boxed, then `####`, then
# "the answer is" / "Answer:", then a bare or last number), so the on-host
# figure agrees with the headline `exact_match,dcd-verify` that DCD Studio
# computes from the logged samples with the verifier itself. Numbers are
# written plainly (`1,000` -> `1000`, `18.00` -> `18`, `$18` -> `18`) so the
# stock exact_match compares them.

_BOXED = ("\\boxed", "\\fbox")
_HASH_RE = re.compile(r"####\s*([^\n]+?)\s*$", re.MULTILINE)
_ANSWER_IS_RE = re.compile(r"answer\s+is\s*[:\s]\s*(.+?)\s*(?:\.\s*$|$)", re.IGNORECASE | re.MULTILINE)
_ANSWER_COLON_RE = re.compile(r"^\s*(?:\*\*)?(?:final\s+)?answer(?:\*\*)?\s*:\s*(?:\*\*)?\s*(.+?)\s*$", re.IGNORECASE | re.MULTILINE)
_NUMBER_RE = re.compile(r"-?\$?\d[\d,]*(?:\.\d+)?")
_PLAIN_NUMBER_RE = re.compile(r"^-?\$?\s*\d[\d,]*(?:\.\d+)?%?$")


def last_boxed(text: str) -> str | None:
    """Content of the last `\\boxed{...}` / `\\fbox{...}` (braces balanced), or of `\\boxed N`."""
    start = max(text.rfind(b) for b in _BOXED)
    if start < 0:
        return None
    i = start + (len("\\boxed") if text.startswith("\\boxed", start) else len("\\fbox"))
    while i < len(text) and text[i] == " ":
        i += 1
    if i >= len(text):
        return None
    if text[i] != "{":
        m = re.match(r"[^\s$]+", text[i:])
        return m.group(0) if m else None
    depth = 0
    for j in range(i, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return text[i + 1 : j].strip()
    return None


def plain_number(answer: str) -> str:
    """`1,000` -> `1000`, `$18.00` -> `18`, `\\$5` -> `5`, `\\text{18}` -> `18`; anything else unchanged."""
    a = answer.strip().strip("$").strip()
    a = re.sub(r"^\\text\{(.*)\}$", r"\1", a).replace("\\$", "").replace("\\!", "").strip()
    a = a.rstrip(".").strip()
    if _PLAIN_NUMBER_RE.match(a) and not a.endswith("%"):
        a = a.replace(",", "").replace("$", "").replace(" ", "")
        if "." in a:
            a = a.rstrip("0").rstrip(".")
        return a
    return answer.strip()


def final_answer(section: str) -> str | None:
    """The final answer of an answer section: boxed, `#### N`, "the answer is", "Answer:", bare, last number."""
    boxed = last_boxed(section)
    if boxed is not None and boxed != "":
        return boxed
    found = _HASH_RE.findall(section)
    if found:
        return found[-1]
    found = _ANSWER_IS_RE.findall(section)
    if found:
        return found[-1].strip().strip("*").strip()
    found = _ANSWER_COLON_RE.findall(section)
    if found:
        return found[-1].strip().strip("*").strip()
    text = section.strip()
    if text and "\n" not in text and len(text.split()) <= 3:
        return text
    numbers = _NUMBER_RE.findall(section)
    return numbers[-1] if numbers else None


def dcd_final_answer(output: str) -> str:
    """What `dcd-extract` yields for one generation: the plain final answer after the last tag, or a fallback."""
    found = re.findall(DCD_ANSWER_REGEX, output)
    if not found:
        return NO_ANSWER_TAG
    answer = final_answer(found[0])
    return NO_FINAL_ANSWER if answer is None else plain_number(answer)


NO_FINAL_ANSWER = "[no-final-answer]"


def dcd_extract(resps: list, docs: list) -> list:
    """`filter_fn` of lm-eval's `custom` filter: every generation of every document -> its final answer."""
    return [[dcd_final_answer(r) for r in doc_resps] for doc_resps in resps]


# ---------------------------------------------------------------------------
# Few-shot exemplars for DCD models (dcd_gsm8k's fewshot_config.doc_to_target).
#
# The stock exemplars end in `#### N` and carry no tags; in a multi-turn chat
# they teach the model to answer without the answer tag, so a tag-based
# extraction finds nothing. A DCD exemplar is written the way a DCD model
# answers: the worked steps in the think section, then the answer tag and the
# answer in `\boxed{}`, followed by the `#### N` line the stock filters read.


def dcd_fewshot_target(doc: dict) -> str:
    solution = str(doc["answer"])
    steps, _, final = solution.rpartition("####")
    final = final.strip()
    steps = steps.strip() if steps else solution.strip()
    return f"<|im_start|>think\n{steps}\n<|im_start|>answer\nThe answer is $\\boxed{{{final}}}$.\n#### {final}"
