"""Worked example: the value for money of a school support-worker pilot.

A pilot places five full-time, social-work-trained support workers in five secondary
schools for three years to work with pupils at risk of exclusion (the design of the
Home Office project "Meeting Need and Challenging Crime in Partnership with Schools",
Webb and Vulliamy 2004, as summarised in the review "Exploring the evidence base for
Integrated Children's Services"). Twenty comparison schools do not take part.

1. Simulate the pilot: permanent exclusions per school per year, 2001-2006, with the
   programme running 2004-2006. The true effect follows the pattern reported for the
   project: nothing in the first year, then a fall of a quarter in permanent
   exclusions in the second and third years (Webb and Vulliamy reported a 25% fall,
   26 pupils, with no improvement before the second year).
2. Estimate the effect by difference-in-differences.
3. Appraise it over 20 years with the Green Book discount schedule: the cost of the
   workers against savings to the education authority (alternative provision not
   needed) and to families (the personal costs of exclusion), with the estimate's
   uncertainty and uncertain unit costs carried through.

The money values below are ASSUMPTIONS for illustration, not published figures:
replace them with local unit costs before using the numbers. The one published cost
figure used is the Audit Commission's (2004) estimate, quoted in the same review, that
multi-agency support for a child with challenging behaviour can save over GBP 100,000
in direct costs up to age 16; it appears only as an upper scenario. All amounts are
in the prices of their sources and are not rebased (see ``price_year`` and
``price_index`` of ``appraise`` to do so with a deflator).

Run: ``python docs/tutorials/economic_appraisal.py [figure.png]``
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

import impact
from impact.economics import GREEN_BOOK, BenefitStream, CostStream

SEED = 2004
YEARS = np.arange(2001, 2007)
START = 2004  # the programme runs 2004, 2005, 2006
N_PILOT, N_COMPARISON = 5, 20


def simulate_pilot(seed: int = SEED) -> tuple[pd.DataFrame, float]:
    """Permanent exclusions per school and year, and the true average effect (ATT)."""
    rng = np.random.default_rng(seed)
    n = N_PILOT + N_COMPARISON
    school = np.repeat(np.arange(n), len(YEARS))
    year = np.tile(YEARS, n)
    level = rng.gamma(shape=16.0, scale=0.5, size=n)[school]  # about 8 a year per school
    trend = 0.97 ** (year - YEARS[0])  # exclusions fall 3% a year everywhere
    pilot_school = school < N_PILOT
    in_programme = pilot_school & (year >= START)
    # no effect in the first programme year, a 25% fall in the second and third
    reduction = np.where(pilot_school & (year >= START + 1), 0.25, 0.0)
    expected = level * trend * (1 - reduction)
    exclusions = rng.poisson(expected)
    truth = float(-(level * trend * reduction)[in_programme].mean())
    frame = pd.DataFrame(
        {
            "school": school,
            "year": year,
            "exclusions": exclusions,
            "pilot": in_programme.astype(int),
        }
    )
    return frame, truth


def appraise_pilot(result: impact.ImpactResult, *, seed: int = SEED) -> impact.Appraisal:
    """The value-for-money appraisal of the pilot (assumed unit costs, see above)."""
    return impact.appraise(
        result,
        costs=[
            # ASSUMED: salary and on-costs of a support worker, GBP 34,000-42,000 a year
            CostStream(
                "support workers",
                amount=stats.uniform(34_000, 8_000),
                per="worker",
                count=5,
                duration=3,
                bearer="programme funder",
            ),
        ],
        benefits=[
            # ASSUMED: a place in alternative provision, GBP 12,000-24,000 a year,
            # for the two years an excluded pupil would typically spend there
            BenefitStream(
                "alternative provision avoided",
                value=stats.uniform(12_000, 12_000),
                duration=2,
                bearer="education authority",
            ),
            # ASSUMED: personal costs of an exclusion to the family and young person,
            # GBP 1,000-4,000 a year, from the exclusion to the end of the horizon
            BenefitStream(
                "costs to families avoided",
                value=stats.uniform(1_000, 3_000),
                bearer="families",
            ),
        ],
        effect_per="school",  # the DiD effect is exclusions per school per year
        reach=N_PILOT,
        effect_periods=3,  # the effect applies in each of the three programme years
        direction="decrease",  # fewer exclusions is the gain
        horizon=20,
        discount=GREEN_BOOK,
        n_draws=4000,
        seed=seed,
    )


def _money(x: float) -> str:
    if not np.isfinite(x):
        return "never" if x > 0 else "-"
    return f"{x:,.0f}"


def report(result: impact.ImpactResult, truth: float, appraisal: impact.Appraisal) -> str:
    """The numbers shown in the docs page, as text."""
    att = result.att
    lines = [
        "Simulated pilot: 5 pilot and 20 comparison schools, 2001-2006",
        f"  true effect (ATT)      {truth:8.2f} exclusions per school per year",
        f"  DiD estimate           {att.estimate:8.2f}  (SE {att.std_error:.2f}; "
        f"95% CI {att.ci_lower:.2f} to {att.ci_upper:.2f})",
        "",
        "Value for money over 20 years, Green Book discounting (GBP, 95% intervals)",
    ]
    table = appraisal.to_frame().set_index("quantity")
    names = {
        "pv_costs": "PV costs",
        "pv_benefits": "PV benefits",
        "npv": "net present value",
        "bcr": "benefit-cost ratio",
        "pv_outcome": "exclusions avoided (discounted)",
        "icer": "cost per exclusion avoided",
        "break_even_effect": "break-even effect (per school-year)",
        "break_even_horizon": "break-even horizon (years)",
    }
    for key, label in names.items():
        row = table.loc[key]
        if key in ("bcr", "break_even_effect", "pv_outcome"):
            fmt = "{:.2f}".format
        elif key == "break_even_horizon":
            fmt = lambda x: "never" if not np.isfinite(x) else f"{x:.0f}"  # noqa: E731
        else:
            fmt = _money
        interval = (
            f"[{fmt(row['ci_lower'])} to {fmt(row['ci_upper'])}]"
            if not np.isnan(row["ci_lower"])
            else "(no interval: the effect may be harmful; see the CEAC)"
        )
        lines.append(f"  {label:<36}{fmt(row['estimate']):>12}   {interval}")
    lines.append(f"  {'P(NPV > 0)':<36}{appraisal.prob_npv_positive:>12.2f}")
    lines += ["", "By perspective (point values)"]
    for row in appraisal.by_perspective().itertuples():
        lines.append(
            f"  {row.bearer:<30} costs {_money(row.pv_costs):>9}  "
            f"benefits {_money(row.pv_benefits):>9}  net {_money(row.npv):>10}"
        )
    lines += ["", "One-way sensitivity of NPV (inputs at their 2.5% and 97.5% points)"]
    for row in appraisal.tornado().itertuples():
        lines.append(
            f"  {row.parameter:<40} NPV {_money(row.npv_at_low):>10} to "
            f"{_money(row.npv_at_high):>10}"
        )
    ceac = appraisal.ceac([5_000, 10_000, 20_000, 40_000])
    lines += ["", "Probability cost-effective at a willingness to pay per exclusion avoided of"]
    lines.append(
        "  "
        + ";  ".join(
            f"GBP {w:,.0f}: {p:.2f}" for w, p in zip(ceac["wtp"], ceac["probability"], strict=True)
        )
    )
    return "\n".join(lines)


def audit_commission_scenario(result: impact.ImpactResult) -> impact.Appraisal:
    """Upper scenario: GBP 100,000 of direct costs to age 16 saved per exclusion avoided.

    The figure is the Audit Commission's (2004), as cited in the review, spread over
    5 years. Point values only.
    """
    return impact.appraise(
        result,
        costs=[CostStream("support workers", amount=38_000, per="worker", count=5, duration=3)],
        benefits=[
            BenefitStream("alternative provision avoided", value=18_000, duration=2),
            BenefitStream("costs to families avoided", value=2_500, bearer="families"),
            BenefitStream(
                "direct costs to age 16 (Audit Commission)",
                value=20_000,
                duration=5,
                bearer="other public services",
            ),
        ],
        effect_per="school",
        reach=N_PILOT,
        effect_periods=3,
        direction="decrease",
        horizon=20,
        n_draws=0,
    )


def draw_figure(appraisal: impact.Appraisal, path: str) -> None:
    """Save the four appraisal plots side by side."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(12, 8))
    for ax, kind in zip(axes.ravel(), ["cash_flow", "tornado", "npv", "ceac"], strict=True):
        appraisal.plot(kind, ax=ax)
    fig.tight_layout()
    fig.savefig(path, dpi=72)
    plt.close(fig)


def main(figure: str | None = None) -> str:
    """Run the example and return its report; save the plots to ``figure`` if given."""
    frame, truth = simulate_pilot()
    panel = impact.Panel.from_frame(
        frame, unit="school", time="year", outcome="exclusions", treated="pilot"
    )
    result = impact.DifferenceInDifferences().fit(panel)
    appraisal = appraise_pilot(result)
    scenario = audit_commission_scenario(result)
    if figure:
        draw_figure(appraisal, figure)
    text = report(result, truth, appraisal)
    text += (
        "\n\nUpper scenario with the Audit Commission's GBP 100,000 direct costs to age 16"
        f"\n  net present value {_money(scenario.value('npv')):>12}   "
        f"benefit-cost ratio {scenario.value('bcr'):.2f}"
    )
    return text


if __name__ == "__main__":
    import sys

    print(main(figure=sys.argv[1] if len(sys.argv) > 1 else None))
