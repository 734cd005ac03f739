"""Decoding bodies as FT would, and showing them back: paths of what is refused (in process)."""

from __future__ import annotations

import json

import pytest

from mock_ft.journal.jsontext import MAX_DEPTH, Refusal, decode_event, dumps, viewable


def _deep(levels: int, inner: str = "1") -> str:
    return '{"a": [' * levels + inner + "]}" * levels


@pytest.mark.parametrize("decoded_by", ["orjson", "standard"])
def test_name_the_path_of_the_first_value_too_deep(decoded_by: str) -> None:
    """The path names the first container beyond the limit, whichever decoder read the body."""
    inner = "123456789012345678901234567890" if decoded_by == "standard" else "1"
    text = _deep(MAX_DEPTH, inner)  # 2 containers per level: far beyond the limit
    with pytest.raises(Refusal) as refused:
        decode_event(text)
    assert refused.value.code == "too_deep"
    expected = "$" + ".a[0]" * (MAX_DEPTH // 2)  # level 2k-1 is the k-th object
    assert refused.value.path == expected


def test_read_path_from_text_too_deep_to_decode() -> None:
    """Beyond every decoder's depth the path is read from the text, keys and indexes alike."""
    text = '{"x": [1, {"k": "v", "y": ' + "[" * 3000 + "]" * 3000 + "}]}"
    with pytest.raises(Refusal) as refused:
        decode_event(text)
    assert refused.value.path == "$.x[1].y" + "[0]" * (MAX_DEPTH - 3)


def test_warn_each_duplicate_key_with_its_path() -> None:
    """Duplicates in nested objects are named by path; the last value is the one kept."""
    text = '{"a": [{"b": 1, "b": 2}], "c": {"d": 0}, "c": {"d": 3}}'
    value, warnings = decode_event(text)
    assert value == {"a": [{"b": 2}], "c": {"d": 3}}
    assert [(w.path, w.code) for w in warnings] == [
        ("$.c", "duplicate_key"),
        ("$.a[0].b", "duplicate_key"),
    ]


def test_find_duplicate_key_followed_by_spaces() -> None:
    """A key written as `"k" :` is still counted."""
    _, warnings = decode_event('{"k" : 1, "k" : 2}')
    assert [w.path for w in warnings] == ["$.k"]


def test_keep_integers_beyond_64_bits_exactly() -> None:
    """orjson reads them as floats; the mock keeps and shows them exactly."""
    text = '{"n": 123456789012345678901234567890, "m": [-18446744073709551617]}'
    assert viewable(text) == {"n": 123456789012345678901234567890, "m": [-18446744073709551617]}
    assert dumps(viewable(text)) == text.replace(" ", "").encode()


@pytest.mark.parametrize(
    "text",
    ["not json", _deep(MAX_DEPTH), '{"a": "\\ud800"}', '{"a": NaN}', "[" * 5000 + "]" * 5000],
)
def test_show_unshowable_body_as_text(text: str) -> None:
    """What no view could show decoded is shown as the text received."""
    assert viewable(text) == text


def test_show_body_at_the_limit_decoded() -> None:
    """A body exactly as deep as the limit is shown decoded."""
    text = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert viewable(text) == json.loads(text)
