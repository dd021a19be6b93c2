"""The sandbox page: a Shiny for Python app over :mod:`impact.teach.model`.

The only module of the sandbox that imports the web framework (``pip install
"impact[teach]"``). :func:`create_app` builds the app; :func:`serve` runs it on a local
address. Every asset (Bootstrap, the slider, Shiny's JavaScript) ships inside the
``shiny`` wheel and is served by the app itself: nothing is fetched from the internet.
"""

from __future__ import annotations

import asyncio
import math
import threading
from typing import Any

import pandas as pd
from shiny import App, reactive, render, ui

from impact.exceptions import ImpactError
from impact.teach.explain import explain, world_notes
from impact.teach.figure import draw
from impact.teach.model import DESIGNS, INFERENCE, PRESETS, PROFILES, SELECTIONS, Analysis, World
from impact.teach.study import StudyCancelled, monte_carlo_study

__all__ = ["create_app"]

_PRESET_LABELS = {
    "scottish_schools": "Scottish schools",
    "small_pilot": "Small pilot",
    "selected_on_trend": "Selected on trend",
    "staggered_rollout": "Staggered rollout",
}
_REPS = ("50", "100", "200", "500")

_CSS = """
body { font-size: 1rem; }
.teach-table { width: 100%; border-collapse: collapse; }
.teach-table th, .teach-table td { padding: .3rem .5rem; border-bottom: 1px solid #ccc;
  text-align: right; }
.teach-table th:first-child, .teach-table td:first-child { text-align: left; }
.teach-table td.note { text-align: left; font-size: .8em; color: #333; }
.verdict-yes { color: #005a8c; font-weight: 600; }
.verdict-no { color: #a33c00; font-weight: 700; }
.teach-explain h3 { font-size: 1.05em; margin: .6rem 0 .2rem; }
.preset-buttons .btn { margin: 0 .3rem .3rem 0; }
"""
# ion.rangeSlider's keyboard-operable element gets the slider role and its label
_SLIDER_A11Y = """
$(document).on("shiny:sessioninitialized", function () {
  document.querySelectorAll("input.js-range-slider").forEach(function (input) {
    var line = input.parentElement.querySelector(".irs-line");
    if (!line) { return; }
    line.setAttribute("role", "slider");
    line.setAttribute("aria-labelledby", input.id + "-label");
    line.setAttribute("aria-valuemin", input.dataset.min);
    line.setAttribute("aria-valuemax", input.dataset.max);
    var sync = function () { line.setAttribute("aria-valuenow", input.value); };
    sync();
    $(input).on("change", sync);
  });
});
"""
_LARGE_CSS = (
    "html { font-size: 22px; } .shiny-input-container label { font-size: 1rem; } "
    "#trajectories { height: 560px !important; }"
)


# world sliders: (setting, label, min, max, step); the value is the World default
_SLIDERS: tuple[tuple[str, str, float, float, float], ...] = (
    ("n_schools", "Number of schools", 10, 500, 5),
    ("n_pilot", "Pilot schools", 1, 250, 1),
    ("national_rise", "National rise (points a year)", -1.0, 3.0, 0.1),
    ("effect", "True effect (points)", -3.0, 5.0, 0.1),
    ("start_year", "Programme starts in year", 2, 10, 1),
    ("n_years", "Years observed", 3, 12, 1),
    ("school_sd", "Differences between schools (SD, points)", 0.0, 15.0, 0.5),
    ("noise_sd", "Year-to-year noise (SD, points)", 0.0, 6.0, 0.1),
    ("rho", "Serial correlation of the noise", 0.0, 0.9, 0.05),
    ("spillover_schools", "Spillover: comparison schools reached", 0, 200, 1),
    ("spillover_share", "Spillover: share of the effect they receive", 0.0, 1.0, 0.05),
)


def _world_controls() -> list[Any]:
    w = World()
    sliders = {
        name: ui.input_slider(name, label, low, high, getattr(w, name), step=step)
        for name, label, low, high, step in _SLIDERS
    }
    return [
        sliders["n_schools"],
        sliders["n_pilot"],
        ui.input_radio_buttons(
            "selection", "How pilots are selected", SELECTIONS, selected=w.selection
        ),
        sliders["national_rise"],
        sliders["effect"],
        ui.input_select("profile", "Effect profile", PROFILES, selected=w.profile),
        sliders["start_year"],
        ui.input_switch(
            "staggered", "Staggered: four cohorts start in consecutive years", w.staggered
        ),
        sliders["n_years"],
        sliders["school_sd"],
        sliders["noise_sd"],
        sliders["rho"],
        sliders["spillover_schools"],
        sliders["spillover_share"],
        ui.input_numeric("seed", "Seed", w.seed, min=0, step=1),
    ]


def _analysis_controls() -> list[Any]:
    a = Analysis()
    return [
        ui.input_checkbox_group(
            "designs", "Designs", {k: d.label for k, d in DESIGNS.items()}, selected=list(a.designs)
        ),
        ui.input_select(
            "follow_up",
            "Follow-up (programme years analysed)",
            {"all": "all years observed", **{str(k): str(k) for k in range(1, 11)}},
            selected="all",
        ),
        ui.input_select("inference", "Inference", INFERENCE, selected=a.inference),
    ]


def _page() -> Any:
    presets = ui.div(
        *[
            ui.input_action_button(f"preset_{key}", label, class_="btn-outline-primary btn-sm")
            for key, label in _PRESET_LABELS.items()
        ],
        class_="preset-buttons",
        role="group",
        aria_label="Presets",
    )
    sidebar = ui.sidebar(
        ui.h2("Presets", class_="h6"),
        presets,
        ui.input_switch("large", "Large fonts (projector)", False),
        ui.accordion(
            ui.accordion_panel("The world", *_world_controls()),
            ui.accordion_panel("The analysis", *_analysis_controls()),
            open=True,
            multiple=True,
        ),
        width=360,
        open="always",
    )
    return ui.page_sidebar(
        sidebar,
        ui.head_content(
            ui.tags.link(rel="icon", href="data:,"),
            ui.tags.style(_CSS),
            ui.tags.script(_SLIDER_A11Y),
            ui.tags.meta(name="description", content="impact teaching sandbox"),
        ),
        ui.output_ui("large_css"),
        ui.card(
            ui.card_header("Observed schools and each design's counterfactual"),
            ui.output_plot("trajectories", height="390px"),
        ),
        ui.card(
            ui.card_header("Estimates beside the truth"),
            ui.output_ui("estimates"),
        ),
        ui.card(
            ui.card_header("Why each design succeeds or fails here"),
            ui.output_ui("explanations"),
        ),
        ui.card(
            ui.card_header("Monte Carlo: bias, coverage and power over many draws"),
            ui.div(
                ui.input_select("n_reps", "Replications", _REPS, selected="200"),
                ui.input_task_button("mc_run", "Run Monte Carlo", label_busy="Running..."),
                ui.input_action_button("mc_stop", "Stop", class_="btn-outline-secondary"),
                class_="d-flex gap-3 align-items-end flex-wrap",
            ),
            ui.output_ui("mc_progress"),
            ui.output_ui("mc_table"),
        ),
        title="impact: teaching sandbox",
        fillable=False,
        lang="en",
    )


def _world(input: Any) -> World:
    return World(
        n_schools=int(input.n_schools()),
        n_pilot=int(input.n_pilot()),
        selection=input.selection(),
        national_rise=float(input.national_rise()),
        effect=float(input.effect()),
        profile=input.profile(),
        school_sd=float(input.school_sd()),
        noise_sd=float(input.noise_sd()),
        rho=float(input.rho()),
        spillover_schools=int(input.spillover_schools()),
        spillover_share=float(input.spillover_share()),
        staggered=bool(input.staggered()),
        start_year=int(input.start_year()),
        n_years=int(input.n_years()),
        seed=int(input.seed() or 0),
    )


def _analysis(input: Any) -> Analysis:
    follow = input.follow_up()
    return Analysis(
        designs=tuple(input.designs()),
        follow_up=None if follow == "all" else int(follow),
        inference=input.inference(),
    )


def _number(value: float) -> str:
    if math.isnan(value):
        return "-"
    if math.isinf(value):
        return "+inf" if value > 0 else "-inf"
    return f"{value:.2f}"


def _estimates_table(table: pd.DataFrame) -> Any:
    head = ui.tags.tr(
        *[
            ui.tags.th(h, scope="col")
            for h in ("design", "estimate", "95% interval", "truth", "covers?", "inference")
        ]
    )
    rows = []
    for row in table.itertuples(index=False):
        if row.covers is None:
            cover = ui.span("cannot run", class_="verdict-no")
        elif row.covers:
            cover = ui.span("yes ✓", class_="verdict-yes")
        else:
            cover = ui.span("NO ✗", class_="verdict-no")
        rows.append(
            ui.tags.tr(
                ui.tags.th(row.design, scope="row"),
                ui.tags.td(_number(row.estimate)),
                ui.tags.td(f"[{_number(row.ci_lower)}, {_number(row.ci_upper)}]"),
                ui.tags.td(_number(row.truth)),
                ui.tags.td(cover, data_covers=str(row.covers)),
                ui.tags.td(row.inference),
                data_design=row.design,
            )
        )
        if row.note:
            rows.append(ui.tags.tr(ui.tags.td(row.note, colspan="6", class_="note")))
    return ui.tags.table(
        ui.tags.caption("Each design's estimate of the effect on pilot schools, 95% interval"),
        ui.tags.thead(head),
        ui.tags.tbody(*rows),
        class_="teach-table",
        id="estimates-table",
    )


def _study_table(table: pd.DataFrame) -> Any:
    head = ui.tags.tr(
        *[
            ui.tags.th(h, scope="col")
            for h in ("design", "bias", "coverage", "rejects zero", "replications", "failed")
        ]
    )
    rows = [
        ui.tags.tr(
            ui.tags.th(r.design, scope="row"),
            ui.tags.td(_number(r.bias)),
            ui.tags.td("-" if math.isnan(r.coverage) else f"{r.coverage:.0%}"),
            ui.tags.td("-" if math.isnan(r.rejection_rate) else f"{r.rejection_rate:.0%}"),
            ui.tags.td(str(r.n_reps)),
            ui.tags.td(str(r.n_failed)),
            data_design=r.design,
        )
        for r in table.itertuples(index=False)
    ]
    return ui.tags.table(
        ui.tags.caption(
            "Coverage should be near 95%; 'rejects zero' is the power when the true effect is "
            "not zero and the false-positive rate when it is (should be near 5%)."
        ),
        ui.tags.thead(head),
        ui.tags.tbody(*rows),
        class_="teach-table",
        id="mc-table",
    )


def _docs_link(page: str, docs_url: str | None) -> Any:
    """A link to ``page`` (e.g. ``explanation/did.md``) on the docs site, or its name.

    Examples
    --------
    >>> str(_docs_link("explanation/did.md", "http://127.0.0.1:8000/"))
    '<a href="http://127.0.0.1:8000/explanation/did/">Read more: explanation/did.md</a>'
    >>> str(_docs_link("explanation/did.md", None))
    '<span>Docs page: explanation/did.md</span>'
    """
    if not docs_url:
        return ui.span(f"Docs page: {page}")
    address = docs_url.rstrip("/") + "/" + page.removesuffix(".md") + "/"
    return ui.a(f"Read more: {page}", href=address)


def create_app(*, docs_url: str | None = None) -> App:
    """Build the sandbox app.

    Parameters
    ----------
    docs_url : str, optional
        Base address of the documentation site; the explanations link their docs pages
        there (otherwise they name the page).

    Returns
    -------
    shiny.App
    """

    def server(input: Any, output: Any, session: Any) -> None:
        progress: dict[str, Any] = {"done": 0, "total": 0, "cancel": threading.Event()}

        @reactive.calc
        def outcome() -> Any:
            from impact.teach.model import run

            try:
                return run(_world(input), _analysis(input))
            except (ImpactError, ValueError) as exc:
                return exc

        @render.ui
        def large_css() -> Any:
            return ui.tags.style(_LARGE_CSS) if input.large() else None

        @render.plot(alt="Mean attainment of pilot and comparison schools over the years, with "
                     "each design's counterfactual and the true counterfactual")  # fmt: skip
        def trajectories() -> Any:
            current = outcome()
            if isinstance(current, Exception):
                return None
            return draw(current, large=bool(input.large()))

        @render.ui
        def estimates() -> Any:
            current = outcome()
            if isinstance(current, Exception):
                return ui.div(str(current), role="alert", class_="alert alert-warning")
            return _estimates_table(current.table())

        @render.ui
        def explanations() -> Any:
            current = outcome()
            if isinstance(current, Exception):
                return None
            items = [ui.p(note) for note in world_notes(current)]
            for item in explain(current):
                link = _docs_link(item.docs, docs_url)
                items.append(
                    ui.div(
                        ui.h3(f"{item.design}: {item.verdict}"),
                        ui.p(item.text, " ", link),
                    )
                )
            return ui.div(*items, class_="teach-explain")

        @ui.bind_task_button(button_id="mc_run")
        @reactive.extended_task
        async def study(world: World, analysis: Analysis, n_reps: int) -> Any:
            def report(done: int, total: int) -> None:
                progress["done"], progress["total"] = done, total

            return await asyncio.to_thread(
                monte_carlo_study,
                world,
                analysis,
                n_reps=n_reps,
                progress=report,
                cancel=progress["cancel"],
                backend=None,
            )

        @reactive.effect
        @reactive.event(input.mc_run)
        def _start() -> None:
            progress["cancel"] = threading.Event()
            progress["done"], progress["total"] = 0, int(input.n_reps())
            try:
                world, analysis = _world(input), _analysis(input)
            except (ImpactError, ValueError) as exc:
                ui.notification_show(f"Cannot run: {exc}", type="warning", duration=8)
                return
            progress["world"] = (
                f"{world.n_schools} schools, {world.n_pilot} pilots selected "
                f"{SELECTIONS[world.selection]}, true effect {world.effect:g} "
                f"({PROFILES[world.profile]}), seed {world.seed}"
            )
            study(world, analysis, int(input.n_reps()))

        @reactive.effect
        @reactive.event(input.mc_stop)
        def _stop() -> None:
            progress["cancel"].set()

        for key, world in PRESETS.items():
            _preset_handler(key, world, input, session)

        @render.ui
        def mc_progress() -> Any:
            if study.status() != "running":
                return None
            reactive.invalidate_later(0.5)
            done, total = progress["done"], max(progress["total"], 1)
            return ui.div(
                ui.tags.label(f"Replications done: {done} of {total}", for_="mc-bar"),
                ui.tags.progress(value=str(done), max=str(total), id="mc-bar", class_="w-100"),
                role="status",
            )

        @render.ui
        def mc_table() -> Any:
            status = study.status()
            if status == "initial":
                return ui.p("Press 'Run Monte Carlo' to repeat this world many times.")
            if status == "running":
                return None
            if status == "error":
                try:
                    study.result()
                except StudyCancelled as exc:
                    return ui.p(f"Monte Carlo {exc}.")
                except Exception as exc:
                    return ui.div(f"Monte Carlo failed: {exc}", role="alert")
            return ui.div(
                ui.p(f"The world when the run started: {progress['world']}."),
                _study_table(study.result()),
            )

    return App(_page(), server)


def _preset_handler(key: str, world: World, input: Any, session: Any) -> None:
    @reactive.effect
    @reactive.event(getattr(input, f"preset_{key}"))
    def _load() -> None:
        for name, *_ in _SLIDERS:
            ui.update_slider(name, value=getattr(world, name))
        ui.update_radio_buttons("selection", selected=world.selection)
        ui.update_select("profile", selected=world.profile)
        ui.update_switch("staggered", value=world.staggered)
        ui.update_numeric("seed", value=world.seed)


def serve(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    open_browser: bool = True,
    docs_url: str | None = None,
    announce: Any = print,
) -> None:
    """Serve the sandbox until interrupted (Ctrl-C).

    Parameters
    ----------
    host : str, default "127.0.0.1"
        Address to listen on (local only by default).
    port : int, default 0
        Port; 0 picks a free one.
    open_browser : bool, default True
        Open the page in the default web browser once the server listens.
    docs_url : str, optional
        Base address of the documentation site, for the explanations' links.
    announce : callable, default print
        Receives the line naming the address.
    """
    import socket
    import webbrowser

    import uvicorn

    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen()
    bound = sock.getsockname()[1]
    url = f"http://{'[' + host + ']' if ':' in host else host}:{bound}/"
    config = uvicorn.Config(
        create_app(docs_url=docs_url),
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=1,  # open pages must not keep Ctrl-C waiting
    )
    server = uvicorn.Server(config)
    announce(f"impact teaching sandbox at {url} (Ctrl-C to stop)")
    if open_browser:
        threading.Timer(0.5, webbrowser.open, args=(url,)).start()
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
