"""The strict JSON parser's depth check: the quick pass agrees with the walk that names the place."""

import io
import json
import random

import pytest
from rest_framework.exceptions import ValidationError

from prmweb.parsers import MAX_JSON_DEPTH, StrictJSONParser, find_bad_text, nested_deeper_than


def _nest(levels: int, pick: random.Random) -> object:
    value: object = "leaf"
    for _ in range(levels):
        value = [1, value] if pick.random() < 0.5 else {"a": "b", "key": value}
    return value


@pytest.mark.parametrize("levels", range(MAX_JSON_DEPTH - 2, MAX_JSON_DEPTH + 3))
def test_the_quick_depth_check_agrees_with_the_named_walk(levels):
    pick = random.Random(levels)
    for _ in range(30):
        value = [{"problem": "p", "steps": ["a"]}, {"metadata": _nest(levels, pick)}]
        assert nested_deeper_than(value, MAX_JSON_DEPTH) == (find_bad_text(value, strings=False) is not None)
        assert nested_deeper_than(_nest(levels, pick), MAX_JSON_DEPTH) == (levels - 1 > MAX_JSON_DEPTH)  # root: 0


def test_scalars_and_flat_values_are_never_too_deep():
    assert not nested_deeper_than("text", 0)
    assert not nested_deeper_than([], 0)
    assert nested_deeper_than([[]], 0)
    assert not nested_deeper_than([{"steps": ["a", "b"]}] * 3, 2)


def test_a_body_one_level_too_deep_is_refused_naming_the_path():
    # the list, an item, its metadata, then 31 arrays: the innermost at level 33
    body = json.dumps([{"problem": "p"}, {"metadata": {"a": json.loads("[" * 31 + "]" * 31)}}]).encode()
    with pytest.raises(ValidationError) as raised:
        StrictJSONParser().parse(io.BytesIO(body))
    path = "[1].metadata.a" + "[0]" * 30
    assert raised.value.detail == {path: ["This value is nested deeper than 32 levels."]}


def test_a_body_at_the_limit_is_parsed():
    body = json.dumps([{"metadata": {"a": json.loads("[" * 30 + "]" * 30)}}]).encode()
    assert StrictJSONParser().parse(io.BytesIO(body))[0]["metadata"]["a"] == json.loads("[" * 30 + "]" * 30)
