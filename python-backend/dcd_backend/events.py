"""RUN_DIR/events.jsonl writer and a small JSON-Schema validator (docs/FORMATS.md §2).

One JSON object per line, appended and flushed as it happens. JSON has no NaN, so a non-finite
float (a diverged loss) is written as the string "NaN", "Infinity" or "-Infinity": a reader can
tell a diverged step from a value that was never measured (null). Only the main rank writes.
"""
from __future__ import annotations

import json
import math
import os
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator, List, Optional

SCHEMA_PATH = Path(__file__).with_name("events_schema.json")
# The values of the `plan` event's precision and loss_norm fields (the schema's enums; the
# trainer's --precision and --loss-norm choices).
PRECISIONS = ("mixed", "bf16", "fp32")
LOSS_NORMS = ("token", "sequence")


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def nonfinite_name(v: float) -> str:
    """The schema's spelling of a non-finite float (JavaScript's ``String(x)``)."""
    return "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")


def _finite(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return nonfinite_name(v)
    if isinstance(v, dict):
        return {k: _finite(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_finite(x) for x in v]
    return v


class EventWriter:
    def __init__(self, path, enabled: bool = True):
        self.path = Path(path)
        self.enabled = enabled
        self._f = None
        if enabled:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._f = open(self.path, "a", encoding="utf-8")

    def emit(self, event: str, **fields: Any) -> Optional[dict]:
        if not self.enabled:
            return None
        rec = {"event": event, **_finite(fields), "time": utc_now()}
        self._f.write(json.dumps(rec, allow_nan=False, ensure_ascii=False) + "\n")
        self._f.flush()
        return rec

    def sync(self) -> None:
        if self._f is not None:
            self._f.flush()
            os.fsync(self._f.fileno())

    def close(self) -> None:
        if self._f is not None:
            self._f.close()
            self._f = None


def read_events(path) -> List[dict]:
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                out.append(json.loads(line))
    return out


def load_schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


# --- a validator for the JSON-Schema subset events_schema.json uses -------------------------
# (type, enum, const, required, properties, oneOf, anyOf, minimum, pattern, local $ref).
# The TypeScript reader validates the same schema with Ajv; this copy exists because the
# interpreter the Python tests run under need not have the jsonschema package.

_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}
_SUPPORTED = {"$schema", "$id", "title", "description", "definitions", "$ref", "type", "enum", "const",
              "required", "properties", "oneOf", "anyOf", "minimum", "pattern"}


def _resolve(ref: str, root: dict) -> dict:
    if not ref.startswith("#/"):
        raise ValueError(f"only local $ref is supported by the mini validator: {ref}")
    node: Any = root
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def _errors(value: Any, schema: dict, where: str, root: Optional[dict] = None) -> Iterator[str]:
    root = schema if root is None else root
    unknown = set(schema) - _SUPPORTED
    if unknown:
        raise ValueError(f"schema keyword(s) not supported by the mini validator: {sorted(unknown)}")
    if "$ref" in schema:
        # Draft-07: a $ref replaces its siblings.
        yield from _errors(value, _resolve(schema["$ref"], root), where, root)
        return
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_TYPES[t](value) for t in types):
            yield f"{where}: {value!r} is not of type {'/'.join(types)}"
            return
    if "const" in schema and value != schema["const"]:
        yield f"{where}: {value!r} is not {schema['const']!r}"
    if "enum" in schema and value not in schema["enum"]:
        yield f"{where}: {value!r} is not one of {schema['enum']}"
    if "minimum" in schema and _TYPES["number"](value) and value < schema["minimum"]:
        yield f"{where}: {value!r} is less than {schema['minimum']}"
    if "pattern" in schema and isinstance(value, str) and not re.search(schema["pattern"], value):
        yield f"{where}: {value!r} does not match {schema['pattern']}"
    if isinstance(value, dict):
        for key in schema.get("required", []):
            if key not in value:
                yield f"{where}: missing required field {key!r}"
        for key, sub in schema.get("properties", {}).items():
            if key in value:
                yield from _errors(value[key], sub, f"{where}.{key}", root)
    for kw in ("oneOf", "anyOf"):
        if kw in schema:
            results = [list(_errors(value, sub, where, root)) for sub in schema[kw]]
            ok = sum(1 for r in results if not r)
            if kw == "oneOf" and ok != 1:
                if ok == 0:
                    best = min(results, key=len)
                    yield f"{where}: matches none of oneOf ({'; '.join(best)})"
                else:
                    yield f"{where}: matches {ok} branches of oneOf"
            if kw == "anyOf" and ok == 0:
                yield f"{where}: matches none of anyOf"


def validate(value: Any, schema: Optional[dict] = None) -> List[str]:
    """Errors of ``value`` against the events schema (empty list: valid)."""
    schema = schema or load_schema()
    return list(_errors(value, schema, "$"))
