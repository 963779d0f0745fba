"""Reusable constructs: the Lambda layers and a Melody function with its role, logs and grants."""

from melody_infra.constructs.function import MelodyFunction, env_name
from melody_infra.constructs.layers import MelodyLayers

__all__ = ["MelodyFunction", "MelodyLayers", "env_name"]
