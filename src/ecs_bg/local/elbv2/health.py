"""ALB-style target health checks as data: the settings, the threshold state machine, and ELB's reason
codes. The load balancer (``balancer``) probes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

TargetState = Literal["initial", "healthy", "unhealthy", "draining", "unused"]

# (reason, description) as DescribeTargetHealth words them.
INITIAL = ("Elb.InitialHealthChecking", "Initial health checks in progress")
DRAINING = ("Target.DeregistrationInProgress", "Target deregistration is in progress")
NOT_IN_USE = ("Target.NotInUse", "Target group is not configured to receive traffic from the load balancer")
TIMEOUT = ("Target.Timeout", "Request timed out")
FAILED = ("Target.FailedHealthChecks", "Health checks failed")
NOT_REGISTERED = ("Target.NotRegistered", "Target is not registered to the target group")


@dataclass(frozen=True)
class HealthCheck:
    """A target group's health check settings, in ALB's own terms and units. The defaults are
    ALB's for an HTTP group of IP targets (CreateTargetGroup in botocore's elbv2 model: path ``/``,
    port ``traffic-port``, every 30 s, 5 s timeout, 5 successes, 2 failures, matcher ``200``).

    The local load balancer runs ``interval`` on the local clock (divided by its speed) and
    ``timeout`` on the wall clock: an app answers in real time, so a 5 s wait for its answer stays
    5 s at any speed, and a probe that takes long delays the next one (they never overlap)."""

    path: str = "/"
    port: str = "traffic-port"  # or a port number, as DescribeTargetGroups gives HealthCheckPort
    protocol: str = "HTTP"
    interval: float = 30
    timeout: float = 5
    healthy_threshold: int = 5
    unhealthy_threshold: int = 2
    matcher: str = "200"  # ALB's HttpCode syntax: "200", "200,302", "200-299"

    def __post_init__(self) -> None:
        # ALB also wants timeout < interval; a simulation speeds the interval up but keeps the timeout
        # on the wall clock (an app answers in real time), so here either may be the longer.
        if self.interval <= 0 or self.timeout <= 0:
            raise ValueError("health check needs a positive timeout and interval")
        if self.healthy_threshold < 1 or self.unhealthy_threshold < 1:
            raise ValueError("health check thresholds must be at least 1")
        if self.port != "traffic-port" and not self.port.isdigit():
            raise ValueError(f"health check port must be traffic-port or a number, got {self.port!r}")
        self.matches(200)  # a malformed matcher fails here, not at the first probe

    def matches(self, status: int) -> bool:
        for part in self.matcher.split(","):
            low, _, high = part.strip().partition("-")
            if int(low) <= status <= int(high or low):
                return True
        return False

    def url(self, host: str, traffic_port: int) -> str:
        """Where a target at ``host:traffic_port`` is probed."""
        port = traffic_port if self.port == "traffic-port" else int(self.port)
        return f"http://{host}:{port}{self.path}"


@dataclass(frozen=True)
class TargetHealth:
    target: str
    state: TargetState
    reason: str | None
    description: str | None


class HealthRecord:
    """Consecutive successes and failures against the thresholds, as ALB counts them."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.state: TargetState = "initial"
        self.reason: tuple[str, str] | None = INITIAL
        self._successes = 0
        self._failures = 0
        self.was_healthy = False  # passed once since it was attached: a later failure is a task gone bad

    @property
    def healthy(self) -> bool:
        return self.state == "healthy"

    def observe(self, failure: tuple[str, str] | None, check: HealthCheck) -> None:
        if failure is None:
            self._successes, self._failures = self._successes + 1, 0
            if self._successes >= check.healthy_threshold:
                self.state, self.reason = "healthy", None
                self.was_healthy = True
        else:
            self._successes, self._failures = 0, self._failures + 1
            if self._failures >= check.unhealthy_threshold:
                # ELB names the last failure's cause (a 503, a timeout, a refused connection).
                self.state, self.reason = "unhealthy", failure
