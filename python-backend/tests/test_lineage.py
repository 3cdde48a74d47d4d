"""The run's lineage record (docs/FORMATS.md §5): train.py writes, in final/dcd_training.json,
the export it trained on by absolute path and the sha256 of its manifest.json, the trainer's
export fingerprint, the recipe, precision, loss normalisation and the code version."""
import hashlib
import json
import shutil
import unittest
from pathlib import Path

import dcd_backend
from dcd_backend.export import load_export

from .helpers import REPO, run_train_inproc, tmpdir

TS_EXPORT = REPO / "test" / "fixtures" / "formats" / "ts-export"


class RunLineageTest(unittest.TestCase):
    def test_final_records_the_export_by_manifest_hash_and_what_ran(self):
        root = tmpdir(self)
        data = root / "export"
        shutil.copytree(TS_EXPORT, data)
        r = run_train_inproc(data, root / "run", "--max-steps", "2")
        self.assertEqual(r.returncode, 0, r.stderr)
        info = json.loads((root / "run" / "final" / "dcd_training.json").read_text(encoding="utf-8"))
        lin = info["lineage"]
        self.assertEqual((lin["format"], lin["version"], lin["kind"]), ("dcd-lineage", 1, "run"))
        self.assertEqual(lin["parents"], [{
            "kind": "export", "path": str(data.resolve()),
            "sha256": hashlib.sha256((data / "manifest.json").read_bytes()).hexdigest(),
            "fingerprint": load_export(data).fingerprint(),
        }])
        self.assertEqual(lin["recipe"]["total_steps"], 2)
        self.assertEqual(lin["recipe"]["model"], "builtin:tiny")
        self.assertNotIn("export", lin["recipe"])
        self.assertEqual((lin["precision"], lin["loss_norm"]), (info["precision"], info["loss_norm"]))
        train_py = Path(__file__).resolve().parents[1] / "train.py"
        self.assertEqual(lin["code_version"], {"dcd_backend": dcd_backend.__version__,
                                               "train_py_sha256": hashlib.sha256(train_py.read_bytes()).hexdigest()})


if __name__ == "__main__":
    unittest.main()
