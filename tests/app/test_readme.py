"""The README documents every setting the server reads, with its environment variable."""

from pathlib import Path

from deeplook.app.config import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_setting_has_a_row_in_the_configuration_table():
    text = README.read_text(encoding="utf-8")
    missing = [name for name in Settings.model_fields if f"`DEEPLOOK_{name.upper()}`" not in text]
    assert missing == []
