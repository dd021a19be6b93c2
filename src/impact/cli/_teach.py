"""``impact teach``: the teaching sandbox in the browser."""

from __future__ import annotations

import warnings

import click

__all__ = ["teach"]


@click.command(
    epilog="""\b
Examples:
  impact teach                   # opens the page in your browser
  impact teach --no-browser --port 8050
"""
)
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to listen on (local only)."
)
@click.option(
    "--port", type=click.IntRange(0, 65535), default=0, help="Port (default: a free one)."
)
@click.option("--no-browser", is_flag=True, help="Print the address without opening a browser.")
@click.option(
    "--docs-url",
    default=None,
    help="Address of the documentation site, to link the explanations to its pages.",
)
def teach(host: str, port: int, no_browser: bool, docs_url: str | None) -> None:
    """Change a simulated world in the browser and watch the designs react.

    Starts a local web page with controls for the schools (pilots, how they were
    chosen, the national rise, the true effect and its profile, noise, spillover) and
    the analysis (designs, follow-up, inference); it shows the trajectories with each
    design's counterfactual, the estimates beside the truth, why each design succeeds
    or fails, and on request a Monte Carlo run. Needs: pip install "impact[teach]".
    """
    from impact._optional import MissingDependencyError, import_optional

    try:
        for module in ("shiny", "uvicorn"):
            import_optional(module, extra="teach", purpose="serve the teaching sandbox")
    except MissingDependencyError as exc:
        click.echo(f"Error: {exc}", err=True)
        raise click.exceptions.Exit(2) from None
    from impact.teach.app import serve

    try:
        # a server runs for hours: warnings are not collected for replay at exit (the
        # page shows each design's own warnings beside its estimate)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            serve(host=host, port=port, open_browser=not no_browser, docs_url=docs_url,
                  announce=lambda line: click.echo(line))  # fmt: skip
    except KeyboardInterrupt:
        pass
    except OSError as exc:  # the address is taken or not ours
        raise click.ClickException(
            f"cannot listen on {host}:{port} ({exc.strerror or exc}); choose another --port "
            "or leave it out for a free one"
        ) from None
    click.echo("Stopped.")
