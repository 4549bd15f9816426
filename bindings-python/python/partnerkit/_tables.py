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
    names = [str(c) for c in df.columns]
    columns = []
    for c in df.columns:
        s = df[c]
        # NaN, NaT, pd.NA and None all mean "no value in this row".
        columns.append(s.astype(object).where(s.notna(), None).tolist())
    return _native.Columns(names, columns)


def _arrow(table: Any) -> _native.Columns:
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = []
    for column in table.columns:
        t = column.type
        if pa.types.is_timestamp(t):
            # Arrow's own string cast is not RFC 3339; format in UTC with an explicit "Z".
            # A timestamp without a zone is written without an offset: the core refuses it.
            if t.tz is not None:
                column = pc.strftime(
                    column.cast(pa.timestamp(t.unit, "UTC")), format="%Y-%m-%dT%H:%M:%SZ"
                )
            else:
                column = pc.strftime(column, format="%Y-%m-%dT%H:%M:%S")
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
    return _native.Columns(list(table.column_names), columns)
