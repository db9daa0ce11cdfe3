"""`pricewatch demo`: the whole flow on the local pilot sites and a fresh SQLite file."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pricewatch.cli.common import config_option


@click.command("demo")
@config_option
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("demo-out"),
    show_default=True,
    help="Where the database, the reports and the evidence go (made afresh).",
)
@click.option("--serve", is_flag=True, help="Then serve the web panel on the demo data (until Ctrl+C).")
@click.option("--port", type=click.IntRange(1, 65535), default=8080, show_default=True, help="The panel's port.")
def cli(config_path: str, out_dir: Path, serve: bool, port: int) -> None:
    """Run pricewatch end to end on this machine, no network and no tokens needed.

    Starts the three local pilot sites (a CMS shop, a B2B distributor, a JS marketplace), makes a fresh SQLite
    file, imports the sample price list and sales plan, runs day 1 and day 2 through crawl → rules → evidence →
    delivery, prints the alerts, and writes the violation reports (XLSX, PDF, CSV) and the evidence to --out.
    Telegram and email show what they would send unless TELEGRAM_BOT_TOKEN / SMTP_HOST are set.
    With --serve it then serves the web panel on the demo data and prints its address and the demo logins.
    """
    from rich.console import Console

    from pricewatch.cli.progress import crawl_progress, terminal_console
    from pricewatch.demo import run_demo, serve_demo_panel

    console = Console()
    with crawl_progress(terminal_console()) as on_progress:
        result = run_demo(config_path, out_dir, console, on_progress)
    if not result.ok:
        failed = [f"day {d}: {'; '.join(r.failures)}" for d, r in result.days.items() if r.exit_code]
        click.echo("error: the demo ran with failures — " + " | ".join(failed), err=True)
        sys.exit(1)
    if serve:
        serve_demo_panel(result, config_path, console, port)
