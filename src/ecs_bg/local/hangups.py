"""A client that hangs up mid-request is no error of the local servers'.

Callers leave with requests in flight all the time here: a hook worker killed at its timeout or at a
stop while its SDK call is being read, a load generator cancelled at the end of a run, an impatient
``curl``. aiohttp reports an exception that escapes a handler as "Error handling request", with a
traceback, on stderr (its logger's last-resort handler): a user would see a traceback for a normal end.
ALB logs such a request as 460 ("the client closed the connection", ELB user guide,
https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-troubleshooting.html#http-460-issues).
Whether it also counts it in HTTPCode_ELB_4XX_Count is UNCONFIRMED; the local load balancer counts
it in no metric (the stack's gate alarms read 5XX and latency, which it could not be either way).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def client_hang_ups(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ConnectionResetError:
        if request.transport is not None and not request.transport.is_closing():
            raise  # the client is still there: the reset came from elsewhere (an upstream)
        # Nobody is left to read an answer; aiohttp's writing it meets the closed connection quietly.
        return web.Response(status=460, reason="Client Closed Connection")
