"""contracts/asyncapi.yaml matches the Integration API contract and the settings' defaults.

No AsyncAPI 3.0 JSON Schema ships in the project's packages, so the document is checked
structurally here: the top-level keys, the rules of AsyncAPI 3.0 and of the AMQP channel binding
that a validator would enforce, and every `$ref` (including those into integration-api.yaml).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import yaml

from mock_ft.contracts import EventRoute, asyncapi_document, contracts_dir, integration_contract
from mock_ft.errors import ContractError
from mock_ft.settings import Settings

ASYNCAPI_PATH = contracts_dir() / "asyncapi.yaml"
ROUTES = integration_contract().by_type()
EVENT_TYPES = sorted(ROUTES)
# The channels that carry the events (the dead-letter queue carries whatever was rejected).
EVENT_CHANNELS = ["rabbitmqExchange", "rabbitmqQueue", "kafkaTopic"]
TOP_LEVEL_KEYS = {
    "asyncapi",
    "id",
    "info",
    "servers",
    "defaultContentType",
    "channels",
    "operations",
    "components",
}
# Keywords that exist in only one of JSON Schema draft-07 (AsyncAPI's default schema format) and
# 2020-12 (OpenAPI 3.1, what the mock validates with), or mean different things in them. Any other
# keyword reads the same in both (unknown ones are ignored by both).
DIALECT_KEYWORDS = {
    "$anchor", "$dynamicRef", "$dynamicAnchor", "$recursiveRef", "$recursiveAnchor",
    "$vocabulary", "prefixItems", "unevaluatedItems", "unevaluatedProperties",
    "dependentRequired", "dependentSchemas", "minContains", "maxContains", "contentSchema",
    "dependencies", "additionalItems", "nullable",
}  # fmt: skip


@cache
def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _target(ref: str, base: Path) -> tuple[Any, Path]:
    """The node a `$ref` written in `base` points at, and the file it lives in."""
    file_part, _, pointer = ref.partition("#")
    path = (base.parent / file_part).resolve() if file_part else base
    node = _load(path)
    for raw in [p for p in pointer.split("/") if p]:
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            raise LookupError(f"$ref {ref} in {base.name} points nowhere")
    return node, path


def _resolve(node: Any, base: Path, trail: tuple[str, ...] = ()) -> Any:
    """`node` with every `$ref` replaced by a copy of its target, across files."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            target, path = _target(ref, base)
            where = f"{path}#{ref.partition('#')[2]}"
            if where in trail:
                raise LookupError(f"recursive $ref {ref} in {base.name}")
            resolved = _resolve(target, path, (*trail, where))
            siblings = {k: _resolve(v, base, trail) for k, v in node.items() if k != "$ref"}
            return {**resolved, **siblings} if siblings else resolved
        return {key: _resolve(value, base, trail) for key, value in node.items()}
    if isinstance(node, list):
        return [_resolve(item, base, trail) for item in node]
    return node


def _schema_nodes(node: Any, base: Path) -> Iterator[dict[str, Any]]:
    """Every schema object under `node`, following `$ref`s (each reference node too)."""
    if not isinstance(node, dict):
        return
    yield node
    ref = node.get("$ref")
    if isinstance(ref, str):
        target, path = _target(ref, base)
        yield from _schema_nodes(target, path)
        return
    for name in ("properties", "patternProperties"):
        for child in node.get(name, {}).values():
            yield from _schema_nodes(child, base)
    for name in ("items", "additionalProperties", "not", "propertyNames"):
        yield from _schema_nodes(node.get(name), base)
    for name in ("allOf", "anyOf", "oneOf"):
        for child in node.get(name, []):
            yield from _schema_nodes(child, base)


def _refs(node: Any) -> Iterator[str]:
    """Every `$ref` value left under `node`."""
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


@cache
def _document() -> dict[str, Any]:
    """The document as the package loads it (parsed once: the tests only read it)."""
    return asyncapi_document()


def _message(event_type: str) -> dict[str, Any]:
    message: dict[str, Any] = _document()["components"]["messages"][event_type]
    return message


def _payload_schema(event_type: str) -> Any:
    return _resolve(_message(event_type)["payload"], ASYNCAPI_PATH)


def _default(field: str) -> Any:
    return Settings.model_fields[field].get_default(call_default_factory=True)


def _at(document: dict[str, Any], path: tuple[str | int, ...]) -> Any:
    node: Any = document
    for part in path:
        node = node[part]
    return node


# --- messages: one per event type, named and typed as the contract says -------------------------


def test_match_messages_to_event_types() -> None:
    """Exactly one message per event type of the Integration API contract, and no other."""
    names = [m["name"] for m in _document()["components"]["messages"].values()]
    assert sorted(names) == EVENT_TYPES


def test_key_messages_by_their_names() -> None:
    """Each message sits under its own name, so `#/components/messages/<TYPE>` finds it."""
    messages = _document()["components"]["messages"]
    assert [key for key, m in messages.items() if m["name"] != key] == []


@pytest.mark.parametrize("channel", EVENT_CHANNELS)
def test_carry_every_event_type_on_channel(channel: str) -> None:
    """Each event channel offers every event message, once."""
    messages = _resolve(_document()["channels"][channel]["messages"], ASYNCAPI_PATH)
    assert sorted(m["name"] for m in messages.values()) == EVENT_TYPES


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_set_amqp_message_type_to_name(event_type: str) -> None:
    """The AMQP `type` property FT reads is the message's name."""
    assert _message(event_type)["bindings"]["amqp"]["messageType"] == event_type


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_require_kafka_type_header_const(event_type: str) -> None:
    """The Kafka `type` header is required and fixed to the message's name."""
    headers = _message(event_type)["headers"]
    assert "type" in headers["required"]
    assert headers["properties"]["type"]["const"] == event_type


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_key_kafka_records_by_string(event_type: str) -> None:
    """The Kafka record key is declared, as a string (the user_id)."""
    assert _message(event_type)["bindings"]["kafka"]["key"]["type"] == "string"


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_declare_json_content_type(event_type: str) -> None:
    """Every event body is JSON, as over REST."""
    assert _message(event_type)["contentType"] == "application/json"


# --- payloads and examples: the OpenAPI contract's, not a copy -----------------------------------


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_resolve_payload_to_openapi_request_body(event_type: str) -> None:
    """The payload is the very schema the REST operation of that event type accepts."""
    assert _payload_schema(event_type) == ROUTES[event_type].schema


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_reference_payload_from_openapi_components(event_type: str) -> None:
    """The payload is a `$ref` to the OpenAPI operation's own schema, so the two cannot drift."""
    route: EventRoute = ROUTES[event_type]
    operation = integration_contract().document["paths"][route.path][route.method.lower()]
    openapi_ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert _message(event_type)["payload"] == {"$ref": f"integration-api.yaml{openapi_ref}"}


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_copy_example_from_openapi_operation(event_type: str) -> None:
    """The message's example is the REST operation's example."""
    examples = _message(event_type)["examples"]
    assert [e["payload"] for e in examples] == [ROUTES[event_type].example]


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_validate_example_payload(event_type: str) -> None:
    """Each example payload is valid against its payload schema."""
    validator = jsonschema_rs.Draft7Validator(_payload_schema(event_type))
    for example in _message(event_type)["examples"]:
        assert [e.message for e in validator.iter_errors(example["payload"])] == []


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_validate_example_headers(event_type: str) -> None:
    """Each example's headers are valid against the message's headers schema."""
    message = _message(event_type)
    validator = jsonschema_rs.Draft7Validator(_resolve(message["headers"], ASYNCAPI_PATH))
    for example in message["examples"]:
        assert [e.message for e in validator.iter_errors(example["headers"])] == []


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_use_draft07_compatible_payload_keywords(event_type: str) -> None:
    """Payload schemas read the same as AsyncAPI Schema (draft-07) and as OpenAPI 3.1 (2020-12).

    No keyword of one dialect only, no list-form `items` (a tuple in draft-07), no `$ref` with
    siblings (draft-07 ignores them).
    """
    odd = []
    for node in _schema_nodes(_message(event_type)["payload"], ASYNCAPI_PATH):
        keys = set(node)
        if "$ref" in keys and keys != {"$ref"}:
            odd.append(f"$ref with siblings {sorted(keys)}")
        odd += [f"keyword {k}" for k in sorted(keys & DIALECT_KEYWORDS)]
        if isinstance(node.get("items"), list):
            odd.append("list-form items")
    assert odd == []


# --- topology: the names are the settings' defaults ----------------------------------------------

_EXCHANGE = ("channels", "rabbitmqExchange", "bindings", "amqp", "exchange")
_QUEUE = ("channels", "rabbitmqQueue")
_QUEUE_ARGUMENTS = (*_QUEUE, "x-amqp-queue-arguments")
_DEAD = ("channels", "rabbitmqDeadLetter")
SETTING_PATHS = [
    ("rabbitmq_exchange", (*_EXCHANGE, "name")),
    ("rabbitmq_exchange", (*_QUEUE, "x-amqp-binding", "exchange")),
    ("rabbitmq_exchange_type", (*_EXCHANGE, "type")),
    ("rabbitmq_queue", (*_QUEUE, "address")),
    ("rabbitmq_queue", (*_QUEUE, "bindings", "amqp", "queue", "name")),
    ("rabbitmq_binding_key", (*_QUEUE, "x-amqp-binding", "bindingKey")),
    ("rabbitmq_dead_letter_exchange", (*_QUEUE_ARGUMENTS, "x-dead-letter-exchange")),
    ("rabbitmq_dead_letter_exchange", (*_DEAD, "x-amqp-binding", "exchange")),
    ("rabbitmq_dead_letter_queue", (*_DEAD, "address")),
    ("rabbitmq_dead_letter_queue", (*_DEAD, "bindings", "amqp", "queue", "name")),
    ("rabbitmq_prefetch", ("operations", "receiveFromRabbitMQ", "x-amqp-prefetch-count")),
    ("kafka_group", ("operations", "receiveFromKafka", "bindings", "kafka", "groupId", "enum", 0)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("field", "path"),
    [
        pytest.param(field, path, id=f"{field}:{path[1]}.{path[-1]}")
        for field, path in SETTING_PATHS
    ],
)
def test_match_settings_default(field: str, path: tuple[str | int, ...]) -> None:
    """Each topology name in the document is the default of its MOCK_FT_* setting."""
    assert _at(_document(), path) == _default(field)


def test_match_kafka_topics_default() -> None:
    """The document's Kafka topics are the default `kafka_topics`, in order."""
    channels = _document()["channels"].values()
    kafka = [c for c in channels if "kafka" in c.get("bindings", {})]
    assert [c["bindings"]["kafka"]["topic"] for c in kafka] == _default("kafka_topics")
    assert [c["address"] for c in kafka] == _default("kafka_topics")


def test_declare_dead_letter_exchange_as_fanout() -> None:
    """Rejected messages reach the dead-letter queue through a fanout exchange."""
    binding = _document()["channels"]["rabbitmqDeadLetter"]["x-amqp-binding"]
    assert binding["exchangeType"] == "fanout"


# --- structure: what an AsyncAPI 3.0 validator would check ---------------------------------------


def test_declare_asyncapi_3_top_level_keys() -> None:
    """asyncapi 3.0.0 with info, servers, channels, operations and components; nothing else."""
    document = _document()
    assert document["asyncapi"] == "3.0.0"
    assert {"info", "servers", "channels", "operations", "components"} <= set(document)
    assert {k for k in document if not k.startswith("x-")} <= TOP_LEVEL_KEYS
    assert isinstance(document["info"]["title"], str)
    assert isinstance(document["info"]["version"], str)


def test_give_every_server_host_and_protocol() -> None:
    """Each server names its host and protocol (both required by AsyncAPI 3.0)."""
    servers = _document()["servers"].values()
    assert [s for s in servers if not (isinstance(s["host"], str) and s["protocol"])] == []


def test_receive_on_every_operation() -> None:
    """From FT's point of view every operation receives what the operator sends."""
    assert {op["action"] for op in _document()["operations"].values()} == {"receive"}


def test_reference_channel_messages_in_operations() -> None:
    """Operation messages are `$ref`s to messages of the operation's own channel."""
    strays = []
    for name, operation in _document()["operations"].items():
        prefix = f"{operation['channel']['$ref']}/messages/"
        strays += [
            (name, m["$ref"]) for m in operation["messages"] if not m["$ref"].startswith(prefix)
        ]
    assert strays == []


def test_pair_amqp_channel_kind_with_its_object() -> None:
    """AMQP binding: `is: routingKey` has an exchange and no queue; `is: queue` the reverse."""
    wrong = []
    for name, channel in _document()["channels"].items():
        amqp = channel.get("bindings", {}).get("amqp")
        if amqp is None:
            continue
        own, other = ("exchange", "queue") if amqp["is"] == "routingKey" else ("queue", "exchange")
        if own not in amqp or other in amqp:
            wrong.append(name)
    assert wrong == []


def test_resolve_every_ref() -> None:
    """Every `$ref` resolves, including those into integration-api.yaml and beyond."""
    assert list(_refs(_resolve(_document(), ASYNCAPI_PATH))) == []


# --- the loader -----------------------------------------------------------------------------------


def test_raise_contract_error_for_missing_document(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """No asyncapi.yaml: a ContractError that names the file."""
    monkeypatch.setattr("mock_ft.contracts.contracts_dir", lambda: tmp_path)
    with pytest.raises(ContractError, match=r"asyncapi\.yaml"):
        asyncapi_document()


def test_raise_contract_error_for_non_mapping_document(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """An asyncapi.yaml that is not a mapping: a ContractError, not a crash later."""
    (tmp_path / "asyncapi.yaml").write_text("- just\n- a list\n", encoding="utf-8")
    monkeypatch.setattr("mock_ft.contracts.contracts_dir", lambda: tmp_path)
    with pytest.raises(ContractError, match="not a YAML mapping"):
        asyncapi_document()
