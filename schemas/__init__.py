"""The JSON Schemas of the flow language and of the compiled machine, shipped with the package."""
from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
FLOW_SCHEMA = HERE / "flow.schema.json"
MACHINE_SCHEMA = HERE / "machine.schema.json"


def load_schema(name: str) -> dict:
    with open(HERE / name, encoding="utf-8") as fh:
        return json.load(fh)
