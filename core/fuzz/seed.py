#!/usr/bin/env python3
"""Seeds the fuzz corpora from the conformance vectors.

Each vector gives the `evaluate` target its whole input document, the `plan` target its plan
(and each plan of a plan history), and the `events` target its event list. Files are named by
the SHA-1 of their content, as libFuzzer names the inputs it keeps, so reseeding is idempotent.
"""

import hashlib
import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
CORPUS = pathlib.Path(__file__).resolve().parent / "corpus"


def put(target: str, text: str) -> None:
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    data = text.encode()
    (d / hashlib.sha1(data).hexdigest()).write_bytes(data)


def main() -> None:
    for path in sorted((ROOT / "tests" / "vectors").rglob("*.json")):
        doc = json.loads(path.read_text())
        inp = doc.get("input")
        if not isinstance(inp, dict):
            continue
        put("evaluate", json.dumps(inp, separators=(",", ":")))
        plans = []
        if isinstance(inp.get("plan"), dict):
            plans.append(inp["plan"])
        for version in inp.get("plan_history") or []:
            if isinstance(version, dict) and isinstance(version.get("plan"), dict):
                plans.append(version["plan"])
        for plan in plans:
            put("plan", json.dumps(plan, separators=(",", ":")))
        if isinstance(inp.get("events"), list):
            put("events", json.dumps(inp["events"], separators=(",", ":")))


if __name__ == "__main__":
    main()
