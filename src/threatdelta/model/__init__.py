"""The model every format is read into and every rule runs on."""

from threatdelta.model.model import (
    Boundary,
    Control,
    Disposition,
    Element,
    Flow,
    Model,
    Value,
)

__all__ = ["Boundary", "Control", "Disposition", "Element", "Flow", "Model", "Value"]
