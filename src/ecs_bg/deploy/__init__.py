"""The ecspresso deployment definitions as data: rendering, validation against ECS's API model, lint."""
