"""Publishers: where a finished review goes (GitHub pull requests, the Actions runner's files)."""

from threatdelta.publish.interface import Annotation, Publication, PublishResult

__all__ = ["Annotation", "Publication", "PublishResult"]
