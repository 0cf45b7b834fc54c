"""Placeholder: being written."""
from ..model import Transcript

NAME = "snippets"


def sniff(text: str) -> bool:
    return False


def parse(text: str) -> list[Transcript]:
    raise NotImplementedError
