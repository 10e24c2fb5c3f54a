from __future__ import annotations

import pytest

from chalicelib.core import jsontext


def test_depth_counts_arrays_and_objects_without_recursion():
    assert jsontext.depth(1) == 0
    assert jsontext.depth({"a": [1, {"b": []}]}) == 4  # object, array, object, array
    deep: list = []
    for _ in range(100_000):
        deep = [deep]
    assert jsontext.depth(deep) > jsontext.MAX_DEPTH  # no RecursionError


def test_loads_refuses_deep_nesting_as_a_value_error():
    ok = "[" * jsontext.MAX_DEPTH + "]" * jsontext.MAX_DEPTH
    assert jsontext.depth(jsontext.loads(ok)) == jsontext.MAX_DEPTH
    for raw in ("[" * (jsontext.MAX_DEPTH + 1) + "]" * (jsontext.MAX_DEPTH + 1), "[" * 5000):
        with pytest.raises(jsontext.TooDeep):
            jsontext.loads(raw)
    with pytest.raises(ValueError):
        jsontext.loads("[" * 5000)  # callers that catch ValueError keep working
