"""The README's Python examples (`evaluate`, then the `Engine`) run as written."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).parents[2] / "README.md"


def python_examples() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Python\n", 1)[1].split("\n## ", 1)[0]
    blocks: list[str] = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 2, "the Python section has two examples: evaluate, then the Engine"
    return blocks


def run(code: str) -> str:
    assert 10 <= len(code.strip().splitlines()) <= 16
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return out.stdout


def test_readme_evaluate_example_runs_as_written() -> None:
    report = json.loads(run(python_examples()[0]))
    assert report["schema"] == "partnerkit/report@1"
    assert report["entries"][0]["amount"] == "9.80"


def test_readme_engine_example_runs_as_written() -> None:
    assert run(python_examples()[1]) == "9.80\n"
