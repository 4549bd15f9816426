"""The module's allocator gives freed memory back with MADV_FREE (mimalloc's
`purge_decommits` 0) unless the environment names the option: see alloc/src/lib.rs at the
repository's root (the crate `partnerkit-alloc`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


def options_in_child(env: dict[str, str]) -> dict[str, int]:
    """The allocator's options as a fresh interpreter with `env` added sees them (mimalloc
    reads its environment when the module loads, so only a new process can show it)."""
    names = ("MIMALLOC_PURGE_DECOMMITS", "MIMALLOC_RESET_DECOMMITS")
    base = {k: v for k, v in os.environ.items() if k.upper() not in names}
    code = "import json, partnerkit._native as n; print(json.dumps(dict(n._allocator_options())))"
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**base, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    options: dict[str, int] = json.loads(out.stdout)
    return options


def test_freed_memory_is_reset_not_decommitted_by_default() -> None:
    assert options_in_child({}) == {"purge_decommits": 0}


@pytest.mark.parametrize(
    "name", ["MIMALLOC_PURGE_DECOMMITS", "mimalloc_purge_decommits", "MIMALLOC_RESET_DECOMMITS"]
)
def test_the_environment_decides_when_it_names_the_option(name: str) -> None:
    # mimalloc matches its variables' names without regard to case, and reads the legacy
    # name too: the module leaves the option alone for each of them.
    assert options_in_child({name: "1"}) == {"purge_decommits": 1}
