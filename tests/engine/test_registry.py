"""Every registry maps each name to the one object that defines it, read-only."""

from dataclasses import dataclass

import pytest

from deeplook.engine.registry import registry


@dataclass(frozen=True)
class Entry:
    name: str
    code: str = ""


def test_a_registry_keeps_the_order_given_and_cannot_be_changed() -> None:
    table = registry(Entry("b"), Entry("a"))
    assert list(table) == ["b", "a"] and table["a"] == Entry("a")
    with pytest.raises(TypeError):
        table["c"] = Entry("c")  # type: ignore[index]


def test_a_name_given_twice_is_an_error_and_another_key_may_be_used() -> None:
    with pytest.raises(ValueError, match="'a' is registered twice"):
        registry(Entry("a"), Entry("a"))
    assert list(registry(Entry("a", "x"), Entry("b", "y"), key="code")) == ["x", "y"]
