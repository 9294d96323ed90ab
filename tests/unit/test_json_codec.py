"""JSON columns are written and read through orjson (storage.db.json_text / json_value), with
the json module's rules where the two differ."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

import pytest

from storage.db import json_text, json_value


class Kind(StrEnum):
    CALL = "call"


def test_documents_read_back_as_the_json_module_reads_them() -> None:
    value = {"a": [1, 2.5, None, True], "b": {"c": 'é — "q"\n'}, 3: "int key", "k": Kind.CALL}
    text = json_text(value)
    assert json_value(text) == json.loads(json.dumps(value))
    assert json_value(text)["3"] == "int key"  # a non-string key becomes a string, as in json
    assert json_value(text)["k"] == "call"


def test_a_tuple_is_an_array() -> None:
    assert json_value(json_text({"t": (1, "x")})) == {"t": [1, "x"]}


@dataclass
class Thing:
    name: str


@pytest.mark.parametrize("value", [datetime(2026, 12, 1, tzinfo=UTC), Thing("x"), object()])
def test_what_json_refuses_is_refused(value: object) -> None:
    with pytest.raises(TypeError):
        json.dumps({"v": value})
    with pytest.raises(TypeError):
        json_text({"v": value})


def test_a_document_the_json_module_once_wrote_with_nan_still_reads() -> None:
    value = json_value(json.dumps({"score": math.nan}))
    assert math.isnan(value["score"])


def test_bytes_read_too() -> None:
    assert json_value(b'{"a": 1}') == {"a": 1}
