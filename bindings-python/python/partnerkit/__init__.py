"""partnerkit: exact, explainable money maths for partner, affiliate and referral programs.

A thin layer over the Rust core. `evaluate` takes the same input document as the CLI —
``{plan, partners, events, fx, as_of}`` as a JSON ``str``/``bytes`` or a ``dict`` — and
returns a `Report`. Money is `decimal.Decimal` (or a ``str``), never a ``float``; instants
are aware `datetime`s (or RFC 3339 strings). ``events`` and ``partners`` may also be a
pandas DataFrame or a pyarrow Table with columns named as the JSON fields. Errors are
`PartnerkitError` subclasses carrying ``.code``, ``.path`` and ``.message``.

    >>> import partnerkit
    >>> report = partnerkit.evaluate(open("input.json").read())  # doctest: +SKIP
    >>> report.to_json()                                          # doctest: +SKIP
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

from partnerkit import _native
from partnerkit._errors import (
    ConflictingEventError,
    CurrencyMismatchError,
    CyclicParentError,
    InternalError,
    InvalidJsonError,
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
from partnerkit._native import Plan
from partnerkit._tables import as_columns

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "Balance",
    "ConflictingEventError",
    "CurrencyMismatchError",
    "CyclicParentError",
    "InternalError",
    "InvalidJsonError",
    "InvalidValueError",
    "LateEventError",
    "LimitExceededError",
    "MissingFieldError",
    "MissingFxRateError",
    "PartnerkitError",
    "Plan",
    "RefundExceedsPaymentError",
    "Report",
    "UnknownCurrencyError",
    "UnknownFieldError",
    "UnknownPartnerError",
    "UnknownPaymentError",
    "evaluate",
    "plan_json_schema",
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


def evaluate(input: str | bytes | Mapping[str, Any]) -> Report:
    """Evaluates an input document ``{plan, partners, events, fx, as_of}``.

    ``input`` is JSON text, or a mapping of Python values: ``Decimal`` or ``str`` amounts,
    aware ``datetime`` or RFC 3339 ``str`` instants, a `Plan` or a dict for ``plan``, and for
    ``events``, ``partners`` and ``fx`` a list of dicts, a pandas DataFrame or a pyarrow
    Table. The GIL is released while the core works.

    Raises a `PartnerkitError` subclass (``.code``, ``.path``, ``.message``) for bad input.
    """
    if isinstance(input, Mapping):
        doc = dict(input)
        for key, value in doc.items():
            columns = as_columns(value)
            if columns is not None:
                doc[key] = columns
        return Report(_native.evaluate(doc))
    return Report(_native.evaluate(input))


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
        result: dict[str, Any] = json.loads(self.to_json(), object_pairs_hook=_typed)
        return result

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
