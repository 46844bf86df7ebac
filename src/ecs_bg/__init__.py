"""ecs-bg: Amazon ECS native blue/green deployments with Lambda lifecycle hooks."""
