"""The DCD task variants (python-backend/lmeval_tasks) inside the real lm-evaluation-harness.

The YAMLs are loaded by the harness's own loader (with `!function`), the tasks built as
`ConfigurableTask`s on a local copy of GSM8K test rows (the Hub is off), the filters are the
harness's registered filter classes (`regex`, `custom`, `take_first`) and the grades come from the
tasks' own `process_results` (GSM8K's exact_match with its regexes_to_ignore; AIME's stock grader).
"""
from __future__ import annotations

import os
import sys
import tempfile
import unittest
from pathlib import Path

from tests.helpers import BACKEND, REPO

TASKS = BACKEND / "lmeval_tasks"
GSM8K_ROWS = REPO / "test" / "fixtures" / "lmeval" / "contamination" / "gsm8k_test_first20.jsonl"

# Generations in the shape a DCD model writes them (docs/SPEC.md §3); doc 0 of the fixture is
# "Janet's ducks" (gold 18).
BOXED_AFTER_TAG = (
    "<|im_start|>think\nShe has 16 - 3 - 4 = 9 eggs left, 9 * 2 = 18.\n"
    "Now I'll generate detailed reasoning steps and verify whether the draft solution is correct.\n"
    "9 eggs at $2 is $18.\nThe draft solution is correct. I'll now generate the final answer.\n"
    "<|im_start|>answer\nJanet makes $\\boxed{18}$ dollars every day."
)
HF_DECODED = BOXED_AFTER_TAG.replace("<|im_start|>", "")  # the hf backend drops special tokens
ONLY_IN_THINK = "<|im_start|>think\nShe has 9 eggs, so she makes \\boxed{18} dollars.\n#### 18"
HASH_AFTER_TAG = "<|im_start|>think\n9 eggs.\n<|im_start|>answer\nShe makes 9 * 2 = 18 dollars.\n#### 18"
PLAIN_AFTER_TAG = "<|im_start|>think\nI think it is 16.\n<|im_start|>answer\nThe answer is 18."
WRONG_AFTER_TAG = "<|im_start|>think\n\\boxed{18}\n<|im_start|>answer\n\\boxed{16}"
LAST_TAG_WINS = "<|im_start|>answer\n\\boxed{16}\n<|im_start|>think\nno, wait\n<|im_start|>answer\n\\boxed{18}"


class DcdTasksInTheHarness(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls._cache = tempfile.TemporaryDirectory(prefix="dcd-hfds-")
        os.environ["HF_DATASETS_CACHE"] = cls._cache.name
        os.environ["HF_DATASETS_OFFLINE"] = "1"
        os.environ["HF_HUB_OFFLINE"] = "1"
        from lm_eval.api.task import ConfigurableTask
        from lm_eval.tasks._yaml_loader import load_yaml

        cfg = load_yaml(TASKS / "dcd_gsm8k.yaml")
        rows = str(GSM8K_ROWS)
        cfg.update(dataset_path="json", dataset_name=None, dataset_kwargs={"data_files": {"train": rows, "test": rows}})
        cls.gsm8k = ConfigurableTask(config=cfg)
        cls.doc = cls.gsm8k.test_docs()[0]
        cls.aime_cfg = load_yaml(TASKS / "dcd_aime24.yaml")
        sys.path.insert(0, str(TASKS))
        import utils  # the module the YAMLs' !function tags name

        cls.utils = utils

    @classmethod
    def tearDownClass(cls):
        cls._cache.cleanup()

    def grade_gsm8k(self, generation: str) -> dict:
        """Every filter of dcd_gsm8k on one generation, through the task's own filters and metric."""
        from lm_eval.api.instance import Instance

        inst = Instance(request_type="generate_until", doc=self.doc, arguments=("", {}), idx=0,
                        metadata=("dcd_gsm8k", 0, 1))
        inst.resps = [generation]
        for ensemble in self.gsm8k._filters:
            ensemble.apply([inst])
        return {name: self.gsm8k.process_results(self.doc, [resp])["exact_match"]
                for name, resp in inst.filtered_resps.items()} | {"_answers": dict(inst.filtered_resps)}

    def test_filters_are_the_harness_registered_classes(self):
        from lm_eval.api.registry import get_filter
        from lm_eval.filters.custom import CustomFilter

        self.assertIs(get_filter("custom"), CustomFilter)
        names = [f.name for f in self.gsm8k._filters]
        self.assertEqual(names, ["strict-match", "flexible-extract", "dcd-strict-match", "dcd-flexible-extract", "dcd-extract"])

    def test_boxed_after_the_answer_tag_is_correct_on_gsm8k(self):
        g = self.grade_gsm8k(BOXED_AFTER_TAG)
        self.assertEqual(g["_answers"]["dcd-extract"], "18")
        self.assertEqual(g["dcd-extract"], 1.0)
        # the stock filters and the old dcd-strict-match miss it: the reason for dcd-extract
        self.assertEqual(g["strict-match"], 0.0)
        self.assertEqual(g["dcd-strict-match"], 0.0)
        self.assertEqual(self.grade_gsm8k(HF_DECODED)["dcd-extract"], 1.0)

    def test_hash_and_plain_answers_after_the_tag(self):
        self.assertEqual(self.grade_gsm8k(HASH_AFTER_TAG)["dcd-extract"], 1.0)
        self.assertEqual(self.grade_gsm8k(PLAIN_AFTER_TAG)["dcd-extract"], 1.0)
        self.assertEqual(self.grade_gsm8k(LAST_TAG_WINS)["dcd-extract"], 1.0)

    def test_an_answer_only_in_the_think_section_is_wrong(self):
        g = self.grade_gsm8k(ONLY_IN_THINK)
        self.assertEqual(g["_answers"]["dcd-extract"], "[no-answer-tag]")
        self.assertEqual(g["dcd-extract"], 0.0)
        self.assertEqual(g["strict-match"], 1.0, "the stock filter reads the think section's #### line")
        self.assertEqual(self.grade_gsm8k(WRONG_AFTER_TAG)["dcd-extract"], 0.0)

    def test_aime_dcd_extract_through_the_stock_grader(self):
        from lm_eval.api.instance import Instance
        from lm_eval.filters import build_filter_ensemble

        doc = {"ID": "2024-I-2", "Problem": "…", "Solution": "…", "Answer": 18}
        ensembles = [build_filter_ensemble(f["name"], [[c["function"], {k: v for k, v in c.items() if k != "function"}]
                                                        for c in f["filter"]]) for f in self.aime_cfg["filter_list"]]
        self.assertEqual([e.name for e in ensembles], ["none", "dcd-answer", "dcd-extract"])
        process = self.aime_cfg["process_results"]
        for generation, expected in [(BOXED_AFTER_TAG, 1), (ONLY_IN_THINK, 0), (HASH_AFTER_TAG, 1), (WRONG_AFTER_TAG, 0)]:
            inst = Instance(request_type="generate_until", doc=doc, arguments=("", {}), idx=0, metadata=("dcd_aime24", 0, 1))
            inst.resps = [generation]
            for e in ensembles:
                e.apply([inst])
            self.assertEqual(process(doc, [inst.filtered_resps["dcd-extract"]])["exact_match"], expected, generation)

    def test_fewshot_exemplars_carry_the_answer_tag_and_the_test_target_stays_stock(self):
        messages = self.gsm8k.fewshot_context(self.doc, 5, apply_chat_template=True, fewshot_as_multiturn=True,
                                              chat_template=lambda msgs, **kw: msgs)
        assistants = [m for m in messages if m["role"] == "assistant"]
        self.assertEqual(len(assistants), 5)
        for m in assistants:
            body = m["content"]
            self.assertTrue(body.startswith("<|im_start|>think\n"), body[:40])
            # what the model is shown is what the filter reads back
            answer = body.rpartition("#### ")[2]
            self.assertIn(f"<|im_start|>answer\nThe answer is $\\boxed{{{answer}}}$.", body)
            self.assertEqual(self.utils.dcd_final_answer(body), answer)
        self.assertEqual(messages[-1]["role"], "user")
        self.assertTrue(self.gsm8k.doc_to_target(self.doc).endswith("#### 18"))

    def test_final_answer_forms(self):
        u = self.utils
        cases = {
            "<|im_start|>answer\n\\boxed{\\frac{1}{2}}": "\\frac{1}{2}",
            "<|im_start|>answer\nSo the total is \\$1,000.\n#### 1,000": "1000",
            "<|im_start|>answer\n$\\boxed{18.00}$": "18",
            "<|im_start|>answer\nFinal Answer: 42": "42",
            "<|im_start|>answer\n": "[no-final-answer]",
            "no tag \\boxed{3}": "[no-answer-tag]",
        }
        for output, expected in cases.items():
            self.assertEqual(u.dcd_final_answer(output), expected, output)


if __name__ == "__main__":
    unittest.main()
