"""Write ring_panel.csv: the data set shared with diff-diff's SpilloverDiD (see README.md)."""

from pathlib import Path

import numpy as np
import pandas as pd

rng = np.random.default_rng(2021)
n_units, periods, adoption = 60, [1, 2, 3, 4, 5, 6], 4
rows = []
for u in range(n_units):
    x = float(u)  # position on a line; units 0-14 treated
    a = rng.normal()
    treated = u < 15
    dist = 0.0 if treated else x - 14.0
    ring = 0 if treated else (1 if dist < 5 else (2 if dist <= 10 else 0))
    for t in periods:
        post = t >= adoption
        y = a + 0.3 * t + rng.normal(0, 1)
        if treated and post:
            y += 2.0
        if ring == 1 and post:
            y += 1.0
        if ring == 2 and post:
            y += 0.5
        rows.append((u, t, x, 0.0, int(treated and post), float(ring), float(ring > 0), y))
df = pd.DataFrame(rows, columns=["unit", "time", "x", "y0", "d", "ring", "near", "y"])
df.to_csv(Path(__file__).with_name("ring_panel.csv"), index=False)
