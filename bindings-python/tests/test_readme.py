"""The README's Python example runs as written."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).parents[2] / "README.md"


def python_example() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Python\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 1, "the Python section has one example"
    return blocks[0]


def test_readme_example_runs_as_written() -> None:
    code = python_example()
    assert 10 <= len(code.strip().splitlines()) <= 16
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    report = json.loads(out.stdout)
    assert report["schema"] == "partnerkit/report@1"
    assert report["entries"][0]["amount"] == "9.80"
