from ecs_bg.cli.main import app

app()
