"""The ecs-bg command line: thin typer commands over deploy/, sim/ and hooks/."""
