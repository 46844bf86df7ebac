"""Compatibility: the names ``ecs_bg.hooks.runtime`` held before it was split.

The handler lives in handler.py, the stage context in context.py, waiting in waiting.py and the
check runner in checks/runner.py; import them from ``ecs_bg.hooks``. This module stays while code
outside the library's own modules (hooks/notify.py's type annotations) still names it.
"""

from ecs_bg.hooks.context import HookContext
from ecs_bg.hooks.handler import LambdaContext, LifecycleHook, StageFunction

__all__ = ["HookContext", "LambdaContext", "LifecycleHook", "StageFunction"]
