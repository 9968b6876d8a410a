"""The README documents every setting the server reads, with its environment variable."""

from pathlib import Path

from deeplook.app.config import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_setting_has_a_row_in_the_configuration_table():
    text = README.read_text(encoding="utf-8")
    missing = [name for name in Settings.model_fields if f"`DEEPLOOK_{name.upper()}`" not in text]
    assert missing == []


def _written(value: object) -> str | None:
    """How the table writes a default: booleans in lower case, numbers as Python prints them (floats
    without a needless ".0"); None for defaults worked out at start (paths, the core count, none)."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, int | str):
        return str(value)
    return None


def test_every_default_the_table_gives_is_the_settings_default():
    lines = README.read_text(encoding="utf-8").splitlines()
    rows = [line.split("|")[1:3] for line in lines if line.startswith("| `DEEPLOOK_")]
    defaults = {name: field.default for name, field in Settings.model_fields.items()}
    wrong = []
    for names, given in rows:
        settings = [name.strip(" `").removeprefix("DEEPLOOK_").lower() for name in names.split(",")]
        values = [value.strip(" `") for value in given.split(",")]
        for name, value in zip(settings, values, strict=False):
            expected = _written(defaults[name])
            if expected is not None and value != expected:
                wrong.append(f"DEEPLOOK_{name.upper()}: README {value}, Settings {expected}")
    assert wrong == []
