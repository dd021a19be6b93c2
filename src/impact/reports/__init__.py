"""Self-contained HTML reports of a fitted result and of a validation study.

:func:`write_report` and :func:`write_validation_report`.

Layer: above plotting, simulations and economics (a report draws their figures and
tables); below the command line, the demo and the teaching sandbox.
"""

from impact.reports.result import write_report
from impact.reports.validation import write_validation_report

__all__ = ["write_report", "write_validation_report"]
