"""The two exception types the compiled validators raise: fastjsonschema's, without importing it
(its package imports its code generators, ~40 ms)."""

from __future__ import annotations


class JsonSchemaValueException(ValueError):
    def __init__(
        self,
        message: str,
        value: object = None,
        name: str | None = None,
        definition: object = None,
        rule: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message, self.value, self.name, self.definition, self.rule = message, value, name, definition, rule

    @property
    def path(self) -> list[str]:
        import re  # compiled on the rare call that asks, not on every run

        return [item for item in re.split(r"[\.\[\]]+", self.name or "") if item]


class JsonSchemaValuesException(ValueError):
    def __init__(self, errors: list[JsonSchemaValueException]) -> None:
        super().__init__("; ".join(error.message for error in errors))
        self.errors = errors
