"""DataFrames and Arrow tables as event and partner lists.

A table's columns are named as the JSON fields (``id``, ``kind``, ``at``, ``amount``, ...);
a null cell is an absent field, so one table can hold events of every kind. Each column
becomes one Python list and the native module writes the rows from them, so no per-row dict
is ever built. Money columns hold `Decimal` or `str` (Arrow: ``decimal128`` or ``string``);
a float column is refused like any float. Neither pandas nor pyarrow is imported here:
a table can only be one if its library is loaded already.
"""

from __future__ import annotations

import sys
from typing import Any

from partnerkit import _native


def as_columns(value: Any) -> _native.Columns | None:
    """The columns of a pandas DataFrame or a pyarrow Table; None for anything else."""
    pa = sys.modules.get("pyarrow")
    if pa is not None and isinstance(value, pa.Table | pa.RecordBatch):
        return _arrow(value)
    pd = sys.modules.get("pandas")
    if pd is not None and isinstance(value, pd.DataFrame):
        return _pandas(value)
    return None


def _pandas(df: Any) -> _native.Columns:
    import pandas as pd

    names = [str(c) for c in df.columns]
    columns: list[list[Any]] = []
    units: list[str | None] = []
    for c in df.columns:
        s = df[c]
        missing = s.isna()
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            # Zoned timestamps as integers since the epoch: no Timestamp object per value.
            ticks = pd.Series(s.array.asi8, index=s.index, dtype=object)
            columns.append(ticks.where(~missing, None).tolist())
            units.append(s.dtype.unit)
            continue
        # NaN, NaT, pd.NA and None all mean "no value in this row".
        columns.append(s.astype(object).where(~missing, None).tolist())
        units.append(None)
    return _native.Columns(names, columns, units)


def _arrow(table: Any) -> _native.Columns:
    import pyarrow as pa

    columns: list[list[Any]] = []
    units: list[str | None] = []
    for column in table.columns:
        t = column.type
        unit = None
        if pa.types.is_dictionary(t):
            column = column.cast(t.value_type)
            t = t.value_type
        if pa.types.is_timestamp(t) and t.tz is not None:
            # Zoned timestamps as integers since the epoch (the zone does not change the
            # instant): no datetime object per value.
            column, unit = column.cast(pa.int64()), t.unit
        elif pa.types.is_timestamp(t):
            # Without a zone there is no instant: written without an offset, the core
            # refuses it at its path.
            column = column.cast(pa.string())
        elif pa.types.is_decimal(t) or pa.types.is_date(t):
            # Exact decimal digits and ISO dates, without a Python object per value.
            column = column.cast(pa.string())
        values = column.to_pylist()
        if pa.types.is_map(t):
            values = [None if v is None else dict(v) for v in values]
        elif pa.types.is_struct(t):
            # A struct has every field in every row: a null field is an absent key.
            values = [
                None if v is None else {k: x for k, x in v.items() if x is not None} for v in values
            ]
        columns.append(values)
        units.append(unit)
    return _native.Columns(list(table.column_names), columns, units)
