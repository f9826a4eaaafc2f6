"""A schema-only validator with check-jsonschema's command line, built on jsonschema: the smoke test's baseline."""
from __future__ import annotations

import argparse
import json
import sys

import yaml
from jsonschema import Draft202012Validator


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--schemafile", required=True)
    parser.add_argument("files", nargs="+")
    args = parser.parse_args(argv)
    with open(args.schemafile, encoding="utf-8") as fh:
        validator = Draft202012Validator(json.load(fh))
    failed = 0
    for name in args.files:
        with open(name, encoding="utf-8") as fh:
            for error in validator.iter_errors(yaml.safe_load(fh)):
                failed = 1
                print(f"{name}: {error.message}")
    return failed


if __name__ == "__main__":
    sys.exit(main())
