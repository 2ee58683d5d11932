"""threatdelta: continuous review of data-flow-diagram threat models."""

__version__ = "0.1.0"
