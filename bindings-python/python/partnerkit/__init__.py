"""partnerkit: exact, explainable money maths for partner, affiliate and referral programs.

A thin layer over the Rust core. `evaluate` takes the same input document as the CLI —
``{plan, partners, events, fx, as_of}`` as a JSON ``str``/``bytes`` or a ``dict`` — and
returns a `Report`; an `Engine` takes the events one at a time as they arrive. Money is
`decimal.Decimal` (or a ``str``), never a ``float``; instants are aware `datetime`s (or RFC
3339 strings). ``events`` and ``partners`` may also be a pandas DataFrame or a pyarrow Table
with columns named as the JSON fields. Errors are `PartnerkitError` subclasses carrying
``.code``, ``.path`` and ``.message``. The simulator (`simulate`, `compare`, `sweep`,
`sweep_backtest`) answers "what would this plan cost" with pandas DataFrames.

    >>> import partnerkit
    >>> report = partnerkit.evaluate(open("input.json").read())  # doctest: +SKIP
    >>> report.to_json()                                          # doctest: +SKIP
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple, TypeAlias, TypedDict

from partnerkit import _native
from partnerkit._errors import (
    ConflictingEventError,
    CurrencyMismatchError,
    CyclicParentError,
    InternalError,
    InvalidJsonError,
    InvalidSnapshotError,
    InvalidValueError,
    LateEventError,
    LimitExceededError,
    MissingFieldError,
    MissingFxRateError,
    PartnerkitError,
    RefundExceedsPaymentError,
    UnknownCurrencyError,
    UnknownFieldError,
    UnknownPartnerError,
    UnknownPaymentError,
)
from partnerkit._native import Entry, Plan, Scenario
from partnerkit._simulate import (
    Comparison,
    Simulation,
    compare,
    scenario_json_schema,
    simulate,
    sweep,
    sweep_backtest,
    sweep_points,
)
from partnerkit._tables import as_columns

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

__all__ = [
    "ArrowResult",
    "Balance",
    "Comparison",
    "ConflictingEventError",
    "CurrencyMismatchError",
    "CyclicParentError",
    "Engine",
    "Entry",
    "HostLimits",
    "InternalError",
    "InvalidJsonError",
    "InvalidSnapshotError",
    "InvalidValueError",
    "LateEventError",
    "LimitExceededError",
    "Limits",
    "MissingFieldError",
    "MissingFxRateError",
    "PartnerBalance",
    "PartnerkitError",
    "Plan",
    "RefundExceedsPaymentError",
    "Report",
    "Scenario",
    "Simulation",
    "UnknownCurrencyError",
    "UnknownFieldError",
    "UnknownPartnerError",
    "UnknownPaymentError",
    "compare",
    "evaluate",
    "evaluate_arrow",
    "plan_json_schema",
    "scenario_json_schema",
    "simulate",
    "sweep",
    "sweep_backtest",
    "sweep_points",
]

# How each typed string of the canonical report is read, by key (the core's FIELD_TYPES).
_READ: dict[str, Callable[[str], Any]] = {
    "decimal": Decimal,
    "instant": _dt.datetime.fromisoformat,
    "date": _dt.date.fromisoformat,
}
_FIELD_TYPES: dict[str, str] = _native.report_field_types()
_READERS: dict[str, Callable[[str], Any]] = {
    key: _READ[kind] for key, kind in _FIELD_TYPES.items() if kind in _READ
}

# `Engine.apply`'s entries are native read-only mappings: `isinstance(entry, Mapping)` holds.
Mapping.register(Entry)


class HostLimits(TypedDict, total=False):
    """Host limits (`partnerkit::Limits`): name only the fields to change, e.g.
    ``{"max_events": 10**8}``; the others keep their defaults. Exceeding one is
    `LimitExceededError` at the path where it was exceeded; an unknown field is
    `UnknownFieldError` at ``limits.<field>``. (A test keeps the keys equal to the core's.)
    """

    max_document_bytes: int
    """Bytes of a whole input document (default 1 GiB)."""
    max_plan_bytes: int
    """Bytes of a plan as written (default 1 MiB)."""
    max_depth: int
    """Nesting depth of objects and arrays (default 64)."""
    max_string_bytes: int
    """Bytes of one JSON string, key or value, as written (default 4 KiB)."""
    max_events: int
    """Events in one input (default 50 million)."""
    max_partners: int
    """Partners in one input (default 1 million)."""
    max_fx_rates: int
    """FX rates in one input (default 1 million)."""
    max_rules: int
    """Rules in one plan (default 1,000)."""
    max_bands: int
    """Bands of one ``tiered`` reward (default 100)."""
    max_tier_levels: int
    """Tier levels in one plan (default 100)."""
    max_override_levels: int
    """The deepest override level: how many parents up a commission is shared (default 10)."""
    max_bonuses: int
    """Bonuses in one plan (default 100)."""
    max_plan_versions: int
    """Versions in one ``plan_history`` (default 1,000)."""
    max_touches_per_customer: int
    """Touches one customer may have; the one past it is refused at its event (default 1,000)."""
    max_statements_per_partner: int
    """Statements one partner may have in a report (default 1,200: a century of months)."""
    max_periods: int
    """Period ends (each evaluates tiers and period bonuses for every partner) between the first
    event and the last event or ``as_of`` (default 1,200: a century of months)."""


# Host limits as `HostLimits`, any mapping of those fields, or JSON text of one.
Limits: TypeAlias = HostLimits | Mapping[str, int] | str | bytes


def _document(input: str | bytes | Mapping[str, Any]) -> Any:
    """The document as `_native` takes it: tables among its values as `Columns`."""
    if isinstance(input, Mapping):
        doc = dict(input)
        for key, value in doc.items():
            columns = as_columns(value)
            if columns is not None:
                doc[key] = columns
        return doc
    return input


def evaluate(input: str | bytes | Mapping[str, Any], limits: Limits | None = None) -> Report:
    """Evaluates an input document ``{plan, partners, events, fx, as_of}``.

    ``input`` is JSON text, or a mapping of Python values: ``Decimal`` or ``str`` amounts,
    aware ``datetime`` or RFC 3339 ``str`` instants, a `Plan` or a dict for ``plan``, and for
    ``events``, ``partners`` and ``fx`` a list of dicts, a pandas DataFrame or a pyarrow
    Table. ``limits`` are the host's `Limits` (the defaults when ``None``). The GIL is
    released while the core works.

    Raises a `PartnerkitError` subclass (``.code``, ``.path``, ``.message``) for bad input.
    """
    return Report(_native.evaluate(_document(input), limits))


class ArrowResult(NamedTuple):
    """What `evaluate_arrow` returns."""

    ledger: pa.Table
    """The ledger in report order: one row per entry (columns in the binding's README)."""
    totals: pa.Table
    """Per partner and currency: entries, earned, reversed, net, pending, available, paid."""
    fallback: str | None
    """None when the fast path ran natively, else why the canonical path ran instead."""


def evaluate_arrow(
    plan: Plan | Mapping[str, Any] | str,
    events: Any,
    *,
    as_of: str | _dt.datetime,
    partners: Any = (),
    fx: Any = (),
    explain: bool = False,
    limits: Limits | None = None,
    columns: Sequence[str] | None = None,
) -> ArrowResult:
    """Evaluates a large event table on the columnar fast path; the ledger as Arrow.

    ``events`` is any object with the Arrow PyCapsule interface (``__arrow_c_stream__``): a
    pyarrow Table or RecordBatchReader, a polars DataFrame, ... Its buffers are read in
    place, not copied through Python objects. Columns: ``id``, ``kind`` (touch, signup,
    payment, refund, chargeback), ``at`` (timestamp with a time zone), ``partner``,
    ``customer``, ``channel``, ``amount``, ``currency``, ``tax``, ``discount``, ``payment``,
    ``qualified`` (boolean, signups), ``campaign`` and ``ip`` (touches), ``product``,
    ``subscription`` and ``order`` (payments); amounts are decimal128 or decimal strings,
    never floats. ``partners`` are as for `evaluate` (a list
    of dicts or ids, a DataFrame or a Table), and so are ``fx``, the FX rates (SPEC §2.4:
    ``{date, from, to, rate}`` each) that convert statements in partners' own currencies
    and amounts in other currencies.

    The ledger is the one `evaluate` gives, byte for byte: a plan or input the fast path
    does not compile runs on the canonical path, and ``fallback`` says why. ``explain``
    adds each entry's explanation (canonical JSON), which runs the canonical path.
    ``limits`` are the host's `Limits` as for `evaluate`: both paths run under them. The
    GIL is released while the core works.

    ``columns`` picks the ledger's columns: ``None`` (the default) gives them all; a list of
    names gives a table with exactly those, in the canonical order whatever the order
    named (``id``, ``partner``, ``kind``, ``event``, ``customer``, ``rule``, ``amount``,
    ``currency``, ``status``, ``earned_at``, ``available_at``, ``explain``; ``select`` the
    table to reorder). A column not named is never built, so ``["earned_at", "amount"]``
    skips writing an id string per entry. The totals table is the same whatever the
    columns. With ``explain=True`` the list must name ``explain`` (explanations cost the
    canonical path; dropping them is taken for a mistake), and ``explain`` may only be named
    with ``explain=True``. The names are checked before anything is evaluated: an unknown
    name raises `UnknownFieldError`, a repeated name, an empty list, a ``str`` or a
    non-string item `InvalidValueError`, with the path of the offending value
    (``columns[2]``; every bad name is listed in the message).

    Raises a `PartnerkitError` subclass (``.code``, ``.path``, ``.message``) for bad input.
    """
    parts = partners
    if isinstance(parts, (list, tuple)):
        parts = [{"id": p} if isinstance(p, str) else p for p in parts]
    doc = _document(
        {
            "plan": plan if not isinstance(plan, str) else json.loads(plan),
            "partners": parts,
            "events": [],
            "fx": list(fx) if isinstance(fx, tuple) else fx,
            "as_of": _instant(as_of),
        }
    )
    ledger, totals, fallback = _native.evaluate_arrow(doc, events, explain, limits, columns)
    return ArrowResult(ledger, totals, fallback)


def plan_json_schema() -> str:
    """The JSON Schema of the plan document, generated from the core's types."""
    return _native.plan_json_schema()


class Balance(NamedTuple):
    """A partner's balance in one currency as of a report (paid entries excluded)."""

    pending: Decimal
    available: Decimal


class Report:
    """The result of `evaluate`: ledger entries, statements and metrics (SPEC §11)."""

    __slots__ = ("_report",)

    def __init__(self, report: _native.Report) -> None:
        self._report = report

    def to_json(self) -> str:
        """The canonical JSON: the core's bytes, the same in every binding."""
        return self._report.to_json()

    def to_dict(self) -> dict[str, Any]:
        """The canonical report as Python values: amounts, rates and weights as `Decimal`,
        instants as aware `datetime` (UTC), dates as `date`; everything else as in JSON."""
        return self._report.to_dict()

    def entries_df(self) -> pd.DataFrame:
        """The ledger entries as a DataFrame (every field but ``explain``): ``amount`` as
        `Decimal`, ``earned_at`` and ``available_at`` as UTC datetimes. Needs pandas."""
        return _frame(self._report.entry_columns())

    def statements_df(self) -> pd.DataFrame:
        """The statements as a DataFrame (every field but ``lines``), amounts as `Decimal`,
        ``start``/``end`` as UTC datetimes, ``due`` as `date`. Needs pandas."""
        return _frame(self._report.statement_columns())

    def balances(self, partner: str) -> dict[str, Balance]:
        """A partner's pending and available balance per currency as of the report."""
        return {
            currency: Balance(Decimal(pending), Decimal(available))
            for currency, pending, available in self._report.balances(partner)
        }

    def __len__(self) -> int:
        return len(self._report)

    def __repr__(self) -> str:
        return repr(self._report)


class PartnerBalance(NamedTuple):
    """A partner's balance in one currency according to an `Engine`: within holds, past
    them and not yet paid, and settled by statements."""

    pending: Decimal
    available: Decimal
    paid: Decimal


class Engine:
    """An incremental evaluation (SPEC §12): a plan, its partners and FX rates, and the
    events applied so far, kept in memory; events are applied one at a time as they arrive.

    ``engine.report(t)`` is byte for byte `evaluate` of the same inputs with ``as_of`` ``t``.
    Events must come in canonical order ``(at, kind, id)``: an earlier one raises
    `LateEventError`, whose message says how to recover (a new engine from the event log). A
    redelivered event is ignored (and counted in the report's ``duplicates_ignored``); the same
    id with other content raises `ConflictingEventError`. A call that fails changes nothing.
    The GIL is released while the core works, except in `apply` of one event dict, whose
    microseconds of work keep it (a failed event's rebuild from the log releases it);
    threads may share an engine (calls take turns).
    Engines pickle through `snapshot`, with the limits they were built or restored with.
    """

    # No `__slots__`: `apply` lives in each engine's own dict too (`_bind`).

    def __init__(
        self, document: str | bytes | Mapping[str, Any], limits: Limits | None = None
    ) -> None:
        """An engine for the ``plan``, ``partners`` and ``fx`` of ``document`` (JSON or a
        mapping of Python values, as for `evaluate`). ``events`` and ``as_of`` are optional:
        given, the events up to ``as_of`` (all of them without it) are applied at once."""
        self._engine = _native.Engine(_document(document), limits)
        self._limits = limits
        self._bind()

    @classmethod
    def restore(
        cls, snapshot: bytes | bytearray | memoryview, limits: Limits | None = None
    ) -> Engine:
        """An engine from `snapshot` bytes (of this version or any earlier one), under the
        host's ``limits`` (a snapshot does not carry them: pass those the engine was built
        with). Bytes that are not a snapshot raise `InvalidSnapshotError`."""
        data = snapshot if isinstance(snapshot, bytes) else memoryview(snapshot).tobytes()
        engine = cls.__new__(cls)
        engine._engine = _native.Engine.restore(data, limits)
        engine._limits = limits
        engine._bind()
        return engine

    def _bind(self) -> None:
        # The webhook path's speed. A function on the class is a non-data descriptor, which
        # an attribute in the instance's dict shadows: `engine.apply(event)` then calls the
        # native method with no Python frame in between, about 900 of the call's 14,400
        # instructions (bench/README, twenty-third session). `apply` below calls the same
        # native method, so `Engine.apply(engine, x)` gives the same entries and errors; a
        # test holds them to that. A subclass that overrides `apply` keeps its override:
        # the shadow would silently bypass it.
        if type(self).apply is Engine.apply:
            self.__dict__["apply"] = self._engine.apply

    def apply(self, events: Any) -> list[Entry]:
        """Applies one event (a mapping) or several (a list of mappings, a pandas DataFrame, a
        pyarrow Table, or JSON text; all or nothing) and returns the ledger entries they
        wrote, each with its status as of its event. Each is an `Entry`: a read-only
        `Mapping` with the keys and values of the entry's dict in `Report.to_dict`
        (``Decimal`` amounts, UTC ``datetime``s), typed when read; it compares equal to that
        dict, and ``entry.to_dict()`` returns it."""
        # An engine's own `apply` is the native method itself (`_bind`), which reads a single
        # event dict (the webhook case) without JSON text and takes a table as its columns;
        # this is for the class (`Engine.apply(engine, x)`) and for subclasses' `super()`.
        return self._engine.apply(events)

    def apply_json(self, events: Any) -> str:
        """`apply`, returning the entries as the core's canonical JSON array."""
        columns = as_columns(events)
        return self._engine.apply_json(events if columns is None else columns)

    def upsert_partner(self, partner: Mapping[str, Any] | str | bytes) -> None:
        """Adds a partner, or updates one between events. Once events were applied, only
        status changes after the last one may change: anything else would re-price applied
        events, and raises `InvalidValueError` saying how to make the change."""
        self._engine.upsert_partner(partner)

    def add_fx(self, rates: Any) -> None:
        """Adds FX rates (a mapping, a list, a table or JSON text) for the days to come; a
        rate dated on or before the last applied event's day raises `LateEventError`."""
        columns = as_columns(rates)
        self._engine.add_fx(rates if columns is None else columns)

    def report(self, as_of: str | _dt.datetime) -> Report:
        """The report as of ``as_of`` (an aware ``datetime`` or RFC 3339 text)."""
        return Report(self._engine.report(_instant(as_of)))

    def balance(self, partner: str, as_of: str | _dt.datetime) -> dict[str, PartnerBalance]:
        """A partner's `PartnerBalance` in each currency of its entries as of ``as_of``."""
        doc = json.loads(self._engine.balance_json(partner, _instant(as_of)))
        return {
            b["currency"]: PartnerBalance(
                Decimal(b["pending"]), Decimal(b["available"]), Decimal(b["paid"])
            )
            for b in doc["balances"]
        }

    def statements(self, partner: str, as_of: str | _dt.datetime) -> list[dict[str, Any]]:
        """A partner's statements as of ``as_of``, typed like `Report.to_dict`."""
        text = self._engine.statements_json(partner, _instant(as_of))
        result: list[dict[str, Any]] = _native._typed_json(text)
        return result

    def progress(self, partner: str, as_of: str | _dt.datetime) -> dict[str, Any] | None:
        """A partner's tier progress as of ``as_of`` (SPEC §11): its tier, the next one,
        and per requirement of the next tier the ``current`` value, the ``target`` and what
        is ``remaining`` (as `Decimal`) — the same object as its item in the report's
        ``progress``. ``None`` when the plan in force has no tiers."""
        text = self._engine.progress_json(partner, _instant(as_of))
        result: dict[str, Any] | None = _native._typed_json(text)
        return result

    def snapshot(self) -> bytes:
        """The engine as bytes: a versioned, checksummed format (the engine's inputs) that
        `restore` reads back in this and every later version."""
        return self._engine.snapshot()

    @property
    def events_applied(self) -> int:
        """How many distinct events were applied (redeliveries not counted)."""
        return self._engine.events_applied

    def __reduce__(
        self,
    ) -> tuple[Callable[[bytes, Limits | None], Engine], tuple[bytes, Limits | None]]:
        # An engine travels to another process as its snapshot and its limits.
        return (type(self).restore, (self.snapshot(), self._limits))

    def __repr__(self) -> str:
        return f"<Engine events_applied={self.events_applied}>"


def _instant(value: str | _dt.datetime) -> str:
    # A naive datetime writes no offset, which the core refuses at `as_of`.
    return value.isoformat() if isinstance(value, _dt.datetime) else value


def _typed(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = {}
    for key, value in pairs:
        if type(value) is str:
            read = _READERS.get(key)
            if read is not None:
                value = read(value)
        out[key] = value
    return out


def _frame(columns: dict[str, list[Any]]) -> pd.DataFrame:
    try:
        import pandas as pd
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("DataFrames need pandas: pip install pandas") from e
    data: dict[str, Any] = {}
    for name, values in columns.items():
        kind = _FIELD_TYPES.get(name)
        if kind == "instant":
            data[name] = pd.to_datetime(pd.Series(values, dtype=object), utc=True, format="ISO8601")
        elif kind in _READ:
            read = _READ[kind]
            data[name] = pd.Series([None if v is None else read(v) for v in values], dtype=object)
        else:
            data[name] = values
    return pd.DataFrame(data)
