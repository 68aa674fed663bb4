"""Example for register_commands: `roistory periods CONFIG`."""

import click

from roistory.api import hookimpl, load_config, parse_period


@hookimpl
def register_commands(cli):
    @cli.command()
    @click.argument("config", type=click.Path(dir_okay=False))
    def periods(config):
        """Print the report period and its comparison periods."""
        settings = load_config(config).report
        current = parse_period(settings.period)
        click.echo(f"current   {current.start} .. {current.end}")
        for name in settings.compare:
            other = current.previous() if name == "previous" else current.year_ago()
            click.echo(f"{name:<9} {other.start} .. {other.end}")
