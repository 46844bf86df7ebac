"""The local simulator of ECS's blue/green lifecycle, and what it shares with tests and the CLI."""
