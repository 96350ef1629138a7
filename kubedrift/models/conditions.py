"""Status conditions, as Kubernetes API conventions and kstatus define them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from kubedrift.models.base import Model

ConditionStatus = Literal["True", "False", "Unknown"]


class Condition(Model):
    """One aspect of the resource's state, with why it is so."""

    type: str = Field(description="The aspect this condition reports, e.g. Ready or Drifted.")
    status: ConditionStatus = Field(description="True, False or Unknown.")
    reason: str = Field(
        description="A CamelCase word that says why, for machines (e.g. DataNotFound).",
        pattern=r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$",
        max_length=1024,
    )
    message: str = Field(default="", description="A sentence that says why, for people.", max_length=32768)
    last_transition_time: datetime = Field(
        description="When the status last changed from one value to another."
    )
    observed_generation: int | None = Field(
        default=None, ge=0, description="The spec generation this condition was computed from."
    )
