"""Numbers for people: the one formatter of every table a person reads.

Summaries (text and notebook HTML), the HTML reports and the command line's text
output all render their tables through :func:`format_table`, so a number reads the
same everywhere: four significant digits (no trailing zeros) without exponent where
that is exact enough, numpy scalars as plain numbers (not ``np.float64(1.0)``), and p-values to
three decimals with ``<0.001`` below that. The tables themselves keep full precision;
only the rendering rounds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["format_p_value", "format_table", "format_value", "is_p_value_column"]

_SIGNIFICANT = 4


def is_p_value_column(name: Any) -> bool:
    """Whether a column holds p-values (``p_value``, ``pre_trend_p_value``, ``p``...).

    Examples
    --------
    >>> is_p_value_column("p_value"), is_p_value_column("estimate")
    (True, False)
    """
    text = str(name).lower()
    return text in {"p", "pvalue", "p-value"} or text.endswith(("p_value", "p-value"))


def format_p_value(value: Any) -> str:
    """A p-value to three decimals, ``<0.001`` below that.

    Examples
    --------
    >>> format_p_value(2.65837e-11), format_p_value(0.0412), format_p_value(float("nan"))
    ('<0.001', '0.041', '-')
    """
    x = _number(value)
    if x is None:
        return format_value(value)
    if math.isnan(x):
        return "-"
    return "<0.001" if x < 0.0005 else f"{x:.3f}"


def _number(value: Any) -> float | None:
    if isinstance(value, bool | np.bool_):
        return None
    if isinstance(value, int | float | np.integer | np.floating):
        return float(value)
    return None


def _float(x: float) -> str:
    if math.isnan(x):
        return "-"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0:
        return "0"
    if x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    magnitude = math.floor(math.log10(abs(x)))
    if -3 <= magnitude < 9:
        decimals = max(_SIGNIFICANT - 1 - magnitude, 0)
        text = f"{x:.{decimals}f}"
        return text.rstrip("0").rstrip(".") if "." in text else text
    return f"{x:.{_SIGNIFICANT - 1}e}"


def format_value(value: Any) -> str:
    """A cell or a setting as a person reads it.

    Numbers (Python or numpy) get four significant digits, integers stay whole,
    NaN is ``-``; tuples, lists and mappings are formatted element by element.

    Examples
    --------
    >>> format_value((np.float64(1.0), np.float64(1.1), np.int64(3)))
    '(1, 1.1, 3)'
    >>> format_value(2.3232391), format_value(-11863.94), format_value(np.float64(3.1e-6))
    ('2.323', '-11864', '3.100e-06')
    >>> format_value(None), format_value("hc1"), format_value(np.True_)
    ('None', 'hc1', 'True')
    """
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, tuple | list):
        inner = ", ".join(format_value(v) for v in value)
        if isinstance(value, tuple):
            return f"({inner},)" if len(value) == 1 else f"({inner})"
        return f"[{inner}]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {format_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, np.ndarray) and value.ndim == 1 and value.size <= 20:
        return format_value(value.tolist())
    return str(value)


def format_table(table: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``table`` with every cell rendered as text for reading.

    Columns named like p-values get :func:`format_p_value`, others
    :func:`format_value`. Render the result with ``to_string`` or ``to_html``.

    Examples
    --------
    >>> t = pd.DataFrame({"term": ["att"], "estimate": [2.3232391], "p_value": [2.6e-11]})
    >>> print(format_table(t).to_string(index=False))
    term estimate p_value
     att    2.323  <0.001
    """
    out = pd.DataFrame(index=table.index)
    for i, name in enumerate(table.columns):
        column = table.iloc[:, i]
        render = format_p_value if is_p_value_column(name) else format_value
        out[i] = [render(v) for v in column.tolist()]
    out.columns = table.columns
    return out
