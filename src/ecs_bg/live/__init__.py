"""Live service deployments in ECS: find the current one, describe it, act on its PAUSE hooks."""
