"""Placeholder: being written."""
from ..model import Transcript

NAME = "whisper-cpp"


def sniff(text: str) -> bool:
    return False


def parse(text: str) -> list[Transcript]:
    raise NotImplementedError
