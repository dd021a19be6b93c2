"""Collection settings for the whole repository (tests and the package's doctests)."""

import importlib.util

# the sandbox page imports its web framework at module level; without the "teach" extra
# its doctests cannot even be imported, so they are not collected
collect_ignore = [] if importlib.util.find_spec("shiny") else ["src/impact/teach/app.py"]
