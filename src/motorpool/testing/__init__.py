"""Test your own application against a real motorpool platform.

In pytest (the plugin is registered on install): the ``motorpool_platform`` fixture and the
``motorpool_scenario`` mark. Elsewhere (``unittest``, scripts): ``with MotorpoolPlatform() as mp:``.
Imports nothing of the platform until a platform starts."""

from ._platform import MotorpoolPlatform, PlatformError

__all__ = ["MotorpoolPlatform", "PlatformError"]
