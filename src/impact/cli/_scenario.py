"""Reading a scenario file (TOML) for ``impact simulate``, ``validate`` and ``report``.

A scenario file holds an optional ``preset`` (a name of
:meth:`impact.simulations.Scenario.presets`), any :class:`~impact.simulations.Scenario`
field to override, and an optional ``seed``::

    preset = "small_pilot"
    seed = 2026
    effect = -0.2877   # log rate ratio: a 25% fall in exclusions
    n_units = 30

Lists become tuples (``cohorts = [[3, 0.2], [5, 0.2]]``). Callables (a custom trend or
effect profile) cannot be written in TOML: build such a Scenario in Python.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from impact.exceptions import DesignError

if TYPE_CHECKING:
    from impact.simulations import Scenario

__all__ = ["ScenarioFile", "read_scenario"]

_META = ("preset", "seed")


@dataclass(frozen=True)
class ScenarioFile:
    """A scenario read from a file, with the file's seed (``None`` when it has none)."""

    scenario: Scenario
    seed: int | None
    path: Path


def _tuples(value: Any) -> Any:
    """TOML arrays (lists) to tuples, recursively: Scenario fields are hashable tuples."""
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    return value


def _check_value(name: str, value: Any, where: str) -> None:
    if isinstance(value, dict):
        hint = (
            " (a custom trend or effect function cannot be written in TOML: build the "
            "Scenario in Python and call impact.simulations.simulate or monte_carlo)"
            if name in ("trend", "profile")
            else ""
        )
        raise DesignError(f"{where}: {name} is a table, not a value{hint}")
    if name in ("trend", "profile") and not isinstance(value, int | float | str):
        raise DesignError(
            f"{where}: {name}={value!r} is not valid; trend is a number (rise per period) and "
            f"profile one of 'constant', 'ramp', 'decay'; a custom function of time cannot "
            "be written in TOML: build the Scenario in Python"
        )


def read_scenario(path: str | Path) -> ScenarioFile:
    r"""Read a scenario file into a :class:`Scenario` and its seed.

    Parameters
    ----------
    path : str or Path
        A TOML file with an optional ``preset``, ``seed`` and Scenario field overrides.

    Returns
    -------
    ScenarioFile

    Raises
    ------
    DesignError
        When the file is not valid TOML, names an unknown preset or field, or a value
        the Scenario rejects; the message names the file and the key.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> text = 'preset = "small_pilot"', "seed = 3", "n_units = 30"
    >>> _ = (folder / "pilot.toml").write_text("\n".join(text))
    >>> read = read_scenario(folder / "pilot.toml")
    >>> read.scenario.n_units, read.scenario.outcome, read.seed
    (30, 'count', 3)
    """
    path = Path(path)
    where = path.name
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise DesignError(f"{where} is not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DesignError(f"could not read {where}: {exc}") from None
    preset = raw.get("preset")
    seed = raw.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise DesignError(f"{where}: seed={seed!r} must be a non-negative integer")
    from impact.simulations import Scenario

    presets = Scenario.presets()
    if preset is not None and preset not in presets:
        raise DesignError(
            f"{where}: preset={preset!r} is not a preset; choose one of {', '.join(presets)} "
            "or leave it out to start from the Scenario defaults"
        )
    known = [f.name for f in dataclasses.fields(Scenario)]
    changes = {k: v for k, v in raw.items() if k not in _META}
    unknown = sorted(set(changes) - set(known))
    if unknown:
        raise DesignError(
            f"{where}: unknown Scenario field(s) {', '.join(map(repr, unknown))}; the fields "
            f"are {', '.join(known)} (plus 'preset' and 'seed')"
        )
    for name, value in changes.items():
        _check_value(name, value, where)
    changes = {k: _tuples(v) for k, v in changes.items()}
    factory = getattr(Scenario, preset) if preset else Scenario
    try:
        scenario = factory(**changes)
    except DesignError as exc:
        raise DesignError(f"{where}: {exc}") from None
    except (TypeError, ValueError) as exc:  # a value of the wrong type deep in validation
        raise DesignError(f"{where}: a value has the wrong type ({exc})") from None
    return ScenarioFile(scenario=scenario, seed=seed, path=path)
