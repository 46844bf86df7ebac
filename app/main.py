"""The HTTP service: /health for ECS and the load balancer, /version for smoke tests, and a catalogue."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, HTTPException
from fastapi.responses import JSONResponse

from app.settings import Settings

log = logging.getLogger("app")

_CATALOGUE: dict[str, dict[str, Any]] = {
    "sku-1001": {"sku": "sku-1001", "name": "Espresso beans 1 kg", "priceJpy": 3200, "stock": 42},
    "sku-1002": {"sku": "sku-1002", "name": "Hand grinder", "priceJpy": 8900, "stock": 7},
    "sku-1003": {"sku": "sku-1003", "name": "Milk pitcher 350 ml", "priceJpy": 2100, "stock": 0},
}


# ASGI's types (asgiref's specification), as Starlette's starlette.types names them.
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class RequestLog:
    """One log line per request, after it is answered, and APP_LATENCY_MS before any but /health.

    Plain ASGI rather than ``@app.middleware("http")``: Starlette's BaseHTTPMiddleware runs each request
    in a task of its own with memory streams between (its warnings and the pure ASGI alternative:
    https://www.starlette.io/middleware/#basehttpmiddleware), a third of the app's CPU per request
    here, and the load balancer's health checks are most requests."""

    def __init__(self, app: ASGIApp, latency_ms: int) -> None:
        self.app = app
        self.latency_ms = latency_ms

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        if self.latency_ms and scope["path"] != "/health":
            await asyncio.sleep(self.latency_ms / 1000)
        status = 500  # what the server answers when the app raises before starting a response

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            log.info(
                "request",
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "durationMs": round((time.perf_counter() - started) * 1000, 1),
                },
            )


class StartupCrash(RuntimeError):
    """APP_CRASH_ON_START: the revision cannot start, as a bad config or missing secret would do."""


def create_app(settings: Settings, chance: Callable[[], float] = random.random) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # uvicorn opens the port only after startup, so a delay here is a slow start as ECS sees it.
        if settings.startup_delay_seconds:
            log.info("delaying start", extra={"delaySeconds": settings.startup_delay_seconds})
            await asyncio.sleep(settings.startup_delay_seconds)
        if settings.crash_on_start:
            log.error("crashing on start (APP_CRASH_ON_START)")
            raise StartupCrash("APP_CRASH_ON_START is set")
        log.info("started", extra={"port": settings.port})
        yield

    app = FastAPI(title="ecs-bg sample service", version=settings.revision, lifespan=lifespan)

    app.add_middleware(RequestLog, latency_ms=settings.latency_ms)

    @app.get("/health")
    async def health() -> JSONResponse:
        if settings.fail_health:
            return JSONResponse({"status": "failing"}, status_code=503)
        return JSONResponse({"status": "ok"})

    @app.get("/version")
    async def version() -> dict[str, str]:
        return {"revision": settings.revision, "colour": settings.colour}

    def maybe_fail() -> None:
        if chance() < settings.error_rate:
            raise HTTPException(status_code=500, detail="injected failure (APP_ERROR_RATE)")

    @app.get("/api/products")
    async def list_products(in_stock: bool = False) -> dict[str, list[dict[str, Any]]]:
        maybe_fail()
        products = [p for p in _CATALOGUE.values() if not in_stock or p["stock"] > 0]
        return {"products": products}

    @app.get("/api/products/{sku}")
    async def get_product(sku: str) -> dict[str, Any]:
        maybe_fail()
        if sku not in _CATALOGUE:
            raise HTTPException(status_code=404, detail=f"no product {sku}")
        return _CATALOGUE[sku]

    return app
