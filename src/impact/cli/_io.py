"""Reading a data file for the command line: CSV or Parquet into a DataFrame."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from impact._optional import import_optional
from impact.exceptions import DataError, DataWarning, warn

__all__ = ["read_table"]

_PARQUET = {".parquet", ".pq"}
_CSV = {".csv", ".txt", ".tsv"}


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV (``.csv``, ``.tsv``, ``.txt``) or Parquet (``.parquet``) file.

    Parameters
    ----------
    path : str or Path
        The file.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    DataError
        When the file cannot be parsed, is empty, repeats a column name in its header,
        or half its rows are identical copies of earlier rows (fewer identical rows
        give a DataWarning).
    impact._optional.MissingDependencyError
        For a Parquet file when pyarrow (extra ``parquet``) is not installed.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix in _PARQUET:
            import_optional("pyarrow", extra="parquet", purpose="read Parquet files")
            frame = pd.read_parquet(path)
        elif suffix in _CSV or suffix == "":
            sep = "\t" if suffix == ".tsv" else ","
            frame = pd.read_csv(path, sep=sep)
            _check_header(path, sep)
        else:
            raise DataError(
                f"cannot tell the format of {path.name!r} from its extension; use a .csv or "
                ".parquet file"
            )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataError(f"could not read {path.name!r}: {exc}") from None
    except (OSError, ValueError) as exc:
        if isinstance(exc, DataError):
            raise
        raise DataError(f"could not read {path.name!r}: {exc}") from None
    if frame.empty:
        raise DataError(f"{path.name!r} holds no rows")
    duplicated = frame.duplicated(keep="first")
    n_dup = int(duplicated.sum())
    if n_dup:
        rows = [int(i) + 2 for i in frame.index[duplicated][:5]]  # file lines, after header
        message = (
            f"{path.name!r} has {n_dup} row(s) identical to an earlier row (file lines "
            f"{rows}{', ...' if n_dup > 5 else ''})"
        )
        if 2 * n_dup >= len(frame):
            raise DataError(
                f"{message}: at least half of the rows are copies, as if the data were "
                "written twice; remove the duplicates (pandas.DataFrame.drop_duplicates) "
                "before estimating"
            )
        warn(
            f"{message}; kept, as a repeated cross-section may hold identical records; "
            "remove them if they are the same record entered twice",
            DataWarning,
        )
    return frame


def _check_header(path: Path, sep: str) -> None:
    """Refuse a header that repeats a column name (pandas would rename the copies)."""
    header = pd.read_csv(
        path, sep=sep, header=None, nrows=1, dtype=str, keep_default_na=False
    ).iloc[0]
    names = [str(name) for name in header]
    repeated = [name for name in dict.fromkeys(names) if names.count(name) > 1]
    if repeated:
        first = repeated[0]
        raise DataError(
            f"{path.name!r} has more than one column named {', '.join(map(repr, repeated))} "
            f"(pandas would read the copies as {first + '.1'!r}, ...); give each column a "
            "distinct name in the file's header"
        )
