"""`mock-ft faults add|list|clear`: the fault rules of a running mock, while the operator runs."""

from __future__ import annotations

from typing import Annotated

import typer

from mock_ft.cli.control import ControlAPI
from mock_ft.cli.options import ConfigOpt, FtUrlOpt, JsonOpt
from mock_ft.errors import ConfigError
from mock_ft.terminal import friendly, out

__all__ = ["app"]

app = typer.Typer(help="Set, list and clear fault rules of a running mock.", no_args_is_help=True)


@app.command("add")
@friendly
def add_faults(
    rules: Annotated[
        list[str],
        typer.Argument(
            help="Rules in the --fault form, e.g. '503 retry_after=1 probability=30% type=PAYMENT'."
        ),
    ],
    ft_url: FtUrlOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Add fault rules to a running mock (each checked before any is sent)."""
    from mock_ft.faultspec import fault_spec, parse_fault

    specs = []
    for words in rules:
        try:
            specs.append(fault_spec(parse_fault(words)))
        except ValueError as exc:  # pydantic's ValidationError is a ValueError
            msg = f"fault rule {words!r}: {_first_line(exc)}"
            raise ConfigError(msg) from None
    mock = ControlAPI.from_flags(config, ft_url)
    for spec in specs:
        added = mock.call("POST", "/_mock/faults", json=spec.model_dump(exclude_defaults=True))
        out.print(f"added fault #{added['id']}: {spec.words()}")


@app.command("list")
@friendly
def list_faults(
    ft_url: FtUrlOpt = None, as_json: JsonOpt = False, config: ConfigOpt = None
) -> None:
    """List the live fault rules with how many attempts each acted on."""
    from mock_ft.faultspec import fault_spec

    rules = ControlAPI.from_flags(config, ft_url).call("GET", "/_mock/faults")["data"]
    if as_json:
        out.print_json(data=rules)
        return
    if not rules:
        out.print("no fault rules")
        return
    for rule in rules:
        fields = {k: v for k, v in rule.items() if k not in ("id", "hits") and v is not None}
        spec = fault_spec(fields)
        out.print(f"#{rule['id']}  {spec.words()}  (hits {rule['hits']})")


@app.command("clear")
@friendly
def clear_faults(
    rule_id: Annotated[int | None, typer.Argument(help="One rule; all when left out.")] = None,
    ft_url: FtUrlOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Remove one fault rule, or all of them."""
    path = "/_mock/faults" if rule_id is None else f"/_mock/faults/{rule_id}"
    removed = ControlAPI.from_flags(config, ft_url).call("DELETE", path)["removed"]
    out.print(f"removed {removed} fault rule(s)")


def _first_line(exc: Exception) -> str:
    """pydantic's errors without its boilerplate: `field: message` each."""
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        return "; ".join(
            (".".join(map(str, e["loc"])) + ": " if e["loc"] else "")
            + str(e["msg"]).removeprefix("Value error, ")
            for e in exc.errors()
        )
    return str(exc)
