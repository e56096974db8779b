"""core.registry: name -> dotted path, imported once on first use."""

import pytest

from core.registry import Registry, instance


def test_an_entry_is_imported_on_first_use_and_then_shared():
    registry = Registry("thing", {"ordered": "collections.OrderedDict"}, make=instance)

    first = registry.get("ordered")

    assert type(first).__name__ == "OrderedDict"
    assert registry.get("ordered") is first


def test_a_function_entry_is_kept_as_it_is():
    registry = Registry("function", {"join": "os.path.join"})

    assert registry.get("join")("a", "b") == "a/b"


def test_an_unknown_name_is_refused_listing_the_known_ones():
    registry = Registry("detector", {"b": "os.path.join", "a": "os.path.split"})

    with pytest.raises(ValueError, match=r"Unknown detector 'c'; choose one of \['a', 'b'\]"):
        registry.get("c")
    assert "a" in registry and "c" not in registry
    assert sorted(registry) == ["a", "b"]


def test_an_entry_added_for_a_block_is_gone_after_it():
    registry = Registry("thing", {}, make=instance)

    with registry.added("ordered", "collections.OrderedDict"):
        inside = registry.get("ordered")
    with registry.added("ordered", "collections.Counter"):
        again = registry.get("ordered")

    assert type(inside).__name__ == "OrderedDict" and type(again).__name__ == "Counter"
    assert "ordered" not in registry


def test_a_replaced_entry_is_the_original_again_after_the_block():
    registry = Registry("thing", {"ordered": "collections.OrderedDict"}, make=instance)
    original = registry.get("ordered")

    with registry.replaced("ordered", "a fake"):
        assert registry.get("ordered") == "a fake"

    assert registry.get("ordered") is original
