"""The published schemas of the report formats ivrc writes, as validators (files in vendor/)."""
from __future__ import annotations

import json
from functools import cache
from pathlib import Path

VENDOR = Path(__file__).resolve().parent / "vendor"


@cache
def junit_schema():
    """The Jenkins junit-10.xsd, through xmlschema (a test extra; missing, the import fails loudly)."""
    import xmlschema

    return xmlschema.XMLSchema(VENDOR / "junit-10.xsd")


def validate_junit(xml: str | Path) -> None:
    """Raises xmlschema.XMLSchemaValidationError unless xml (text or a file) is valid JUnit XML."""
    junit_schema().validate(str(xml) if isinstance(xml, Path) else xml)


@cache
def sarif_validator():
    """The OASIS SARIF 2.1.0 schema (JSON Schema draft 4), with format checks on."""
    import jsonschema

    schema = json.loads((VENDOR / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)


def validate_sarif(document: dict) -> None:
    """Raises jsonschema.ValidationError (the best match) unless document is valid SARIF 2.1.0."""
    import jsonschema

    error = jsonschema.exceptions.best_match(sarif_validator().iter_errors(document))
    if error is not None:
        raise error
