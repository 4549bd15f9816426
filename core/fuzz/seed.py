#!/usr/bin/env python3
"""Seeds the fuzz corpora from the conformance vectors.

Each vector gives the `evaluate` target its whole input document, the `plan` target its plan
(and each plan of a plan history), the `events` target its event list, and the `engine`
target its starting document (without events and `as_of`) on the first line and its events
in canonical order one per line, with an `S` line (snapshot and restore) after every third. Files are named by
the SHA-1 of their content, as libFuzzer names the inputs it keeps, so reseeding is idempotent.

The `fast` target reads its bytes as the choices of a generator (`core/tests/fast_inputs`), not
as a document: it is seeded with random byte strings from a fixed seed, long enough for a plan
with every option and dozens of events (a short input draws zeros: twenty touches and nothing
to pay).
"""

import datetime
import hashlib
import json
import pathlib
import random

ROOT = pathlib.Path(__file__).resolve().parents[2]
CORPUS = pathlib.Path(__file__).resolve().parent / "corpus"


def put(target: str, text: str) -> None:
    put_bytes(target, text.encode())


def put_bytes(target: str, data: bytes) -> None:
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha1(data).hexdigest()).write_bytes(data)


# The engine's canonical order: instant, then kind in this order, then id (input.rs `Kind`).
KINDS = ["touch", "assign", "signup", "payment", "refund", "chargeback", "adjustment"]


def order_key(event: object) -> tuple:
    if not isinstance(event, dict):
        return (datetime.datetime.max.replace(tzinfo=datetime.timezone.utc), 99, "")
    try:
        at = datetime.datetime.fromisoformat(str(event.get("at", "")).replace("Z", "+00:00"))
        if at.tzinfo is None:
            raise ValueError
    except ValueError:
        at = datetime.datetime.max.replace(tzinfo=datetime.timezone.utc)
    kind = event.get("kind")
    rank = KINDS.index(kind) if kind in KINDS else 99
    return (at, rank, str(event.get("id", "")))


def engine_stream(inp: dict) -> str:
    start = {k: v for k, v in inp.items() if k not in ("events", "as_of")}
    lines = [json.dumps(start, separators=(",", ":"))]
    events = inp.get("events") if isinstance(inp.get("events"), list) else []
    for k, event in enumerate(sorted(events, key=order_key)):
        lines.append(json.dumps(event, separators=(",", ":")))
        if k % 3 == 2:
            lines.append("S")
    return "\n".join(lines)


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
        put("engine", engine_stream(inp))
    rng = random.Random(20261122)
    for _ in range(64):
        put_bytes("fast", rng.randbytes(rng.randrange(64, 1500)))


if __name__ == "__main__":
    main()
