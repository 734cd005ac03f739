"""The optional parts of mock-ft (pyproject's extras) and the check each command makes first.

`pip install mock-ft` is the mock (`serve`) and the pytest plugin. The heavy parts are extras, so
an operator's test suite does not install Schemathesis or broker clients it never uses; a command
that needs one says which extra to install instead of failing on an ImportError.
"""

from __future__ import annotations

from importlib.util import find_spec

from mock_ft.errors import MissingExtra

__all__ = ["EXTRAS", "require"]

# extra -> (what it brings, in words; the import names it must provide)
EXTRAS: dict[str, tuple[str, tuple[str, ...]]] = {
    "verify": ("Schemathesis and Hypothesis", ("schemathesis", "hypothesis", "jinja2")),
    "brokers": ("the RabbitMQ and Kafka clients", ("aio_pika", "aiokafka")),
    "postgres": ("psycopg 3 and its pool (a PostgreSQL journal)", ("psycopg", "psycopg_pool")),
    "scenarios": (
        "Faker and the broker clients (scenario data, the reference operator)",
        ("faker", "jinja2", "aio_pika", "aiokafka"),
    ),
}


def missing(extra: str) -> list[str]:
    """The import names of `extra` that are not installed (find_spec imports nothing)."""
    return [name for name in EXTRAS[extra][1] if find_spec(name) is None]


def require(*extras: str, needed_by: str) -> None:
    """MissingExtra (exit 2 in the CLI) naming the first extra that is not fully installed."""
    for extra in extras:
        absent = missing(extra)
        if absent:
            words = EXTRAS[extra][0]
            msg = (
                f"{needed_by} needs {words}, which are not installed ({', '.join(absent)}). "
                f"Install them with: pip install 'mock-ft[{extra}]' (or 'mock-ft[all]')"
            )
            raise MissingExtra(extra, msg)
