"""Differential oracle: Math-Verify (the test venv's math-verify) against our verifier (`dcd verify --pairs`).

Every disagreement where both decide must be adjudicated in test/fixtures/verifier/oracle_adjudications.jsonl
(who is right and why); labelled pairs must keep our verdict equal to their label.
"""
import json
import unittest

from tests.verifier_oracle import FIXTURES, compare, load_pairs, math_verify, ours

ADJUDICATIONS = FIXTURES / "oracle_adjudications.jsonl"


class VerifierOracleTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pairs = load_pairs()
        cls.ours, _ = ours(cls.pairs)
        cls.mv, _, _ = math_verify(cls.pairs)
        cls.report = compare(cls.pairs, cls.ours, cls.mv)
        cls.adjudicated = {}
        for line in ADJUDICATIONS.read_text(encoding="utf8").splitlines():
            if line.strip():
                row = json.loads(line)
                cls.adjudicated[row["id"]] = row

    def test_enough_real_pairs_where_both_decide(self):
        self.assertGreaterEqual(len(self.pairs), 600)
        self.assertGreaterEqual(self.report["both_decide"], 550)
        self.assertEqual(len(self.ours), len(self.pairs))

    def test_every_disagreement_is_adjudicated(self):
        missing = []
        for d in self.report["disagreements"]:
            a = self.adjudicated.get(d["id"])
            if a is None or a["ours"] != d["ours"] or a["math_verify"] != d["math_verify"]:
                missing.append(d)
        self.assertEqual(missing, [], "adjudicate these in oracle_adjudications.jsonl:\n" +
                         "\n".join(json.dumps(m, ensure_ascii=False) for m in missing))

    def test_adjudications_say_who_is_right_and_why(self):
        current = {d["id"] for d in self.report["disagreements"]}
        for key, a in self.adjudicated.items():
            self.assertIn(a["right"], ("ours", "math-verify", "neither"), key)
            self.assertGreater(len(a["why"]), 15, key)
            self.assertIn(key, current, f"{key} no longer disagrees: remove its adjudication")
        # Where Math-Verify is right, ours must be undecided or a documented extraction choice, never a false accept.
        for key, a in self.adjudicated.items():
            if a["right"] == "math-verify":
                self.assertFalse(a["ours"], f"{key}: a false accept of ours")

    def test_labelled_pairs_keep_their_labels(self):
        wrong = [(p["id"], p["expected"], o["equivalent"]) for p, o in zip(self.pairs, self.ours)
                 if "expected" in p and o["equivalent"] != p["expected"]]
        self.assertEqual(wrong, [])

    def test_agreement_where_both_decide(self):
        # Disagreements where Math-Verify is wrong (extraction slips, string sets, missing normalisations) are
        # adjudicated; where it is right and we are not, they count against us.
        ours_wrong = sum(1 for d in self.report["disagreements"] if self.adjudicated.get(d["id"], {}).get("right") == "math-verify")
        both = self.report["both_decide"]
        self.assertGreaterEqual((both - ours_wrong) / both, 0.99, json.dumps({k: v for k, v in self.report.items() if k != "disagreements"}))


if __name__ == "__main__":
    unittest.main()
