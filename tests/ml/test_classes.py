"""The class table: the shipped YAML is consistent, bad tables name the problem."""

from pathlib import Path

import pytest

from ml.classes import (
    COPPER_ADAPTOR,
    LAMELLA,
    LANDING_POST,
    MANIPULATOR,
    VOLUME_BLOCK,
    class_table,
    read_class_table,
)


def test_shipped_table_matches_the_index_constants() -> None:
    table = class_table()
    assert table.names[0] == "background"
    for name, index in [
        ("lamella", LAMELLA),
        ("manipulator", MANIPULATOR),
        ("landing_post", LANDING_POST),
        ("copper_adaptor", COPPER_ADAPTOR),
        ("volume_block", VOLUME_BLOCK),
    ]:
        assert table.index(name) == index
    assert len({c.colour for c in table.classes}) == len(table.classes)


def test_unknown_class_is_named() -> None:
    with pytest.raises(KeyError, match=r"unknown class 'needle'.*manipulator"):
        class_table().index("needle")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "classes:\n  - {index: 0, name: background, colour: [0,0,0]}\n"
            "  - {index: 2, name: lamella, colour: [1,1,1]}\n",
            "indices must be 0..1",
        ),
        ("classes:\n  - {index: 0, name: background, colour: [0,0,300]}\n", "0..255"),
        ("classes:\n  - {index: 0, name: lamella, colour: [0,0,0]}\n", "must be 'background'"),
        ("classes: [unclosed\n", "not valid YAML"),
    ],
)
def test_bad_tables_name_the_file_and_the_problem(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ValueError, match=message) as info:
        read_class_table(path)
    assert "bad.yaml" in str(info.value)
