"""`python -m app`: serve on $PORT with JSON logs (the container's entry point and the simulator's)."""

from __future__ import annotations

import uvicorn

from app import logs
from app.main import create_app
from app.settings import Settings


def main() -> None:
    settings = Settings.from_environ()
    logs.configure(revision=settings.revision, colour=settings.colour)
    # A crash in startup makes uvicorn exit non-zero, which is what ECS should see.
    app = create_app(settings)
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=None, access_log=False)


if __name__ == "__main__":
    main()
