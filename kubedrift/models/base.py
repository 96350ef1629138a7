"""The base every kubedrift resource model shares.

Models are frozen (a parsed spec never changes under a handler's feet), reject
unknown fields (a typo is an error, not a silently ignored key), and speak
camelCase on the wire like every Kubernetes API, snake_case in Python.
"""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class Model(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=True,
        extra="forbid",
        use_attribute_docstrings=True,
    )

    def to_wire(self) -> dict[str, Any]:
        """The object as the Kubernetes API and the job configs carry it."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)

    @classmethod
    def from_wire(cls, data: Any) -> Self:
        return cls.model_validate(data)


class SpecModel(Model):
    """A part of a spec a person writes: strict, as the apiserver is.

    `threshold: "0.05"` or `parallelism: "4"` is refused (the apiserver refuses a string
    where the schema says number), not quietly turned into a number.
    """

    model_config = ConfigDict(**Model.model_config, strict=True)
