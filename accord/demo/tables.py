"""A generated table: typed numpy columns, written once as Parquet the way each system exports it."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from accord.project.atomic import make_folder, write_file

# Column kinds. `iso` and `iso_date` are times exported as ISO text, as spreadsheets and event SDKs do.
KINDS = ("string", "int", "float", "bool", "date", "timestamp", "iso", "iso_date")


@dataclass
class Table:
    """Columns are (kind, values). Text is a numpy text array, where '' is NULL (fast), or an object
    array, where None is NULL."""

    path: str                                   # inside the project folder, e.g. data/crm/leads.parquet
    columns: dict[str, tuple[str, np.ndarray]]

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()))[1])

    def arrow(self) -> pa.Table:
        n = len(self)
        arrays, names = [], []
        for name, (kind, values) in self.columns.items():
            if len(values) != n:
                raise ValueError(f"{self.path}: column {name} has {len(values)} values, expected {n}")
            arrays.append(_array(kind, values))
            names.append(name)
        return pa.Table.from_arrays(arrays, names=names)

    def write(self, root: Path) -> None:
        target = root / self.path
        make_folder(target.parent)
        buffer = pa.BufferOutputStream()
        pq.write_table(self.arrow(), buffer, compression="zstd", use_dictionary=False)
        write_file(target, buffer.getvalue().to_pybytes())


def _array(kind: str, values: np.ndarray) -> pa.Array:
    """Arrow arrays built from numpy buffers: `pa.array` would import pandas, which costs a second."""
    if kind == "string":
        return _strings(values)
    if kind == "int":
        v = np.asarray(values)
        null = np.equal(v, None) if v.dtype == object else np.zeros(len(v), bool)
        return _fixed(pa.int64(), np.where(null, 0, v).astype(np.int64), null)
    if kind == "float":
        v = np.asarray(values, dtype=np.float64)
        return _fixed(pa.float64(), v, np.isnan(v))
    if kind == "bool":
        v = np.asarray(values, dtype=bool)
        return pa.Array.from_buffers(pa.bool_(), len(v), [None, pa.py_buffer(np.packbits(v, bitorder="little"))])
    if kind == "date":
        v = np.asarray(values).astype("datetime64[D]")
        return _fixed(pa.date32(), v.view(np.int64).astype(np.int32), np.isnat(v))
    if kind == "timestamp":
        v = np.asarray(values).astype("datetime64[us]")
        return _fixed(pa.timestamp("us"), v.view(np.int64), np.isnat(v))
    if kind in ("iso", "iso_date"):
        unit = "s" if kind == "iso" else "D"
        v = np.asarray(values).astype(f"datetime64[{unit}]")
        text = np.datetime_as_string(v, unit=unit).astype(object)
        text[np.isnat(v)] = None
        return _strings(text)
    raise ValueError(f"unknown column kind {kind!r}; use one of {', '.join(KINDS)}")


def _validity(null: np.ndarray) -> pa.Buffer | None:
    return pa.py_buffer(np.packbits(~null, bitorder="little")) if null.any() else None


def _fixed(type_: pa.DataType, data: np.ndarray, null: np.ndarray) -> pa.Array:
    data = np.ascontiguousarray(data)
    return pa.Array.from_buffers(type_, len(data), [_validity(null), pa.py_buffer(data)], int(null.sum()))


def _strings(values: np.ndarray) -> pa.Array:
    """A string array from numpy text, without a Python loop when the text is ASCII."""
    v = np.asarray(values)
    if v.dtype.kind == "U":
        null, text = v == "", v
    else:
        v = v.astype(object)
        null = np.equal(v, None)
        text = np.where(null, "", v).astype(str)
    n = len(text)
    width = text.dtype.itemsize // 4
    codes = text.view(np.uint32).reshape(n, width) if n and width else np.zeros((n, 0), np.uint32)
    if codes.size and codes.max() >= 128:
        encoded = [x.encode() for x in text.tolist()]
        lengths = np.fromiter(map(len, encoded), np.int64, n)
        data = b"".join(encoded)
    else:
        keep = codes != 0
        lengths = keep.sum(axis=1)
        data = codes[keep].astype(np.uint8).tobytes()
    offsets = np.zeros(n + 1, np.int32)
    np.cumsum(lengths, out=offsets[1:])
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data), _validity(null),
                                       int(null.sum()))
