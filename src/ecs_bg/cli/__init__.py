"""ecs-bg: Amazon ECS native blue/green deployments with Lambda lifecycle hooks.

The ``ecs-bg`` command line: thin typer commands over deploy/, sim/ and hooks/. (``ecs_bg`` itself is
a namespace package, shared with the ecs-bg-hooks distribution, so it has no docstring of its own.)
"""
