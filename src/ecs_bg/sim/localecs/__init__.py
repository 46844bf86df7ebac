"""`ecs-bg local`: a local ECS control plane that runs each deployment's lifecycle hooks."""
