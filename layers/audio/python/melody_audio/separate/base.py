"""The separation-engine interface and registry."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

from .. import errors
from ..errors import AudioError

if TYPE_CHECKING:
    from collections.abc import Callable

    from ..audio import Audio, Stems


@runtime_checkable
class SeparationEngine(Protocol):
    """Anything with a ``name``, a ``version`` and ``separate(audio) -> Stems``.

    ``separate`` receives decoded :class:`~melody_audio.audio.Audio` and returns
    :class:`~melody_audio.audio.Stems` with the same channel count and sample rate
    (``instrumental + vocals`` ≈ mixture for the mask-based engines).
    """

    name: str
    version: str

    def separate(self, audio: Audio) -> Stems: ...


_REGISTRY: dict[str, Callable[..., SeparationEngine]] = {}


def register_engine(name: str, factory: Callable[..., SeparationEngine]) -> None:
    """Plug in an engine: ``factory(**config)`` must return a :class:`SeparationEngine`."""
    _REGISTRY[name] = factory


def engine_names() -> list[str]:
    return sorted(_REGISTRY)


def get_engine(name: str = "dsp", **config) -> SeparationEngine:
    try:
        factory = _REGISTRY[name]
    except KeyError:
        raise AudioError(errors.ENGINE_UNKNOWN, f"unknown separation engine {name!r}; known: {', '.join(engine_names())}") from None
    return factory(**config)
