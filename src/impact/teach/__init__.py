"""A teaching sandbox: change a simulated world and watch the designs react.

``impact teach`` serves it as a local web page (``pip install "impact[teach]"``). The
logic lives here without any web framework: :mod:`impact.teach.model` (world settings
-> scenario -> fits -> table), :mod:`impact.teach.explain` (why each design succeeds or
fails), :mod:`impact.teach.figure` (the trajectories and counterfactuals) and
:mod:`impact.teach.study` (Monte Carlo with progress); :mod:`impact.teach.app` is the
page, the only module importing the web framework.

Layer: below the command line only; it may import the demo and every layer under it.
"""

from impact.teach.model import DESIGNS, PRESETS, Analysis, Outcome, World, run
from impact.teach.study import monte_carlo_study

__all__ = ["DESIGNS", "PRESETS", "Analysis", "Outcome", "World", "monte_carlo_study", "run"]
