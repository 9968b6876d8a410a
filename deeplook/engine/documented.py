"""Engine dataclasses the app publishes (metrics, layer health) carry their field descriptions as
attribute docstrings. pydantic reads them through this class-level config when the app serialises
the types; the engine itself never imports pydantic."""

from typing import Final

PYDANTIC_CONFIG: Final = {"use_attribute_docstrings": True}
