"""Flow-test results as JUnit XML, the format CI systems (GitLab, Jenkins, GitHub actions) display."""
from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections import OrderedDict

from ivrc.compiler.errors import PathError
from ivrc.compiler.xmltext import xml_text as _clean

from .flowreport import failure_text
from .flowtest import Outcome, Results


def document(results: Results) -> ET.ElementTree:
    """One <testsuite> per scenario file, one <testcase> per scenario; a failure carries its transcript.

    The attributes are those of the Jenkins junit-10.xsd that CI servers read: a scenario's
    file and line are the first line of its text, as test cases have no place for them."""
    by_file: OrderedDict[str, list[Outcome]] = OrderedDict()
    for outcome in results.outcomes:
        by_file.setdefault(outcome.scenario.file, []).append(outcome)
    root = ET.Element("testsuites", name="ivrc flow tests", tests=str(len(results.outcomes)),
                      failures=str(len(results.failed)), errors="0", time=f"{results.seconds:.3f}")
    for file, outcomes in by_file.items():
        failures = sum(o.status == "fail" for o in outcomes)
        suite = ET.SubElement(root, "testsuite", name=_clean(file), tests=str(len(outcomes)), failures=str(failures),
                              errors="0", skipped=str(sum(o.skipped for o in outcomes)),
                              time=f"{sum(o.seconds for o in outcomes):.3f}")
        classname = os.path.basename(file).rsplit(".test.", 1)[0]
        for outcome in outcomes:
            case = ET.SubElement(suite, "testcase", classname=_clean(classname), name=_clean(outcome.name),
                                 time=f"{outcome.seconds:.3f}")
            where = f"{file}:{outcome.scenario.where.line}: scenario {outcome.name!r}\n"
            if outcome.skipped:
                ET.SubElement(case, "skipped", message=_clean(outcome.message))
            elif not outcome.passed:
                failure = ET.SubElement(case, "failure", message=_clean(outcome.message), type="ScenarioFailed")
                failure.text = _clean(where + failure_text(outcome))
            else:
                out = ET.SubElement(case, "system-out")
                out.text = _clean(where + "\n".join(outcome.transcript))
    ET.indent(root)
    return ET.ElementTree(root)


def write(results: Results, path: str) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise PathError(f"{path}: the folder {folder} does not exist")
    try:
        document(results).write(path, encoding="utf-8", xml_declaration=True)
    except OSError as err:
        raise PathError(f"{path}: cannot be written: {err.strerror or err}") from None
