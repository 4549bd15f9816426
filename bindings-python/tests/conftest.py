"""Shared helpers: the conformance vectors, read from the repository at test time."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

VECTORS = Path(
    os.environ.get("PARTNERKIT_VECTORS", Path(__file__).parents[2] / "tests" / "vectors")
)


def vector_files() -> list[Path]:
    """Every vector file, sorted by path (other branches add vectors: never a fixed list)."""
    files = sorted(VECTORS.rglob("*.json"))
    assert files, f"no vectors under {VECTORS}"
    return files


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def input_text(v: dict[str, Any]) -> str:
    """The input as text: `input_text` verbatim, or `input` re-serialized."""
    if "input_text" in v:
        text: str = v["input_text"]
        return text
    return json.dumps(v["input"], ensure_ascii=False)


def canonical(report: Any) -> str:
    """The vectors' README: compact, key order kept."""
    return json.dumps(report, separators=(",", ":"), ensure_ascii=False)


def vector_params() -> list[Any]:
    return [pytest.param(p, id=str(p.relative_to(VECTORS))) for p in vector_files()]
