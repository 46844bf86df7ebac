"""Request counters of the local load balancer, shaped like AWS/ApplicationELB's metrics."""

from __future__ import annotations

import collections
import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ecs_bg.local.elbv2.models import Listener


@dataclass
class TrafficStats:
    """Totals since start. ``latencies`` holds the last samples of TargetResponseTime (seconds: from
    forwarding the request to the target's response headers), bounded like any buffer here."""

    requests: int = 0
    target_5xx: int = 0  # HTTPCode_Target_5XX_Count: the target answered 5xx
    elb_5xx: int = 0  # HTTPCode_ELB_5XX_Count: the load balancer answered 502/503/504 itself
    target_2xx: int = 0  # HTTPCode_Target_2XX_Count: the target answered 2xx
    latencies: collections.deque[float] = field(default_factory=lambda: collections.deque(maxlen=10_000))

    def copy(self) -> TrafficStats:
        return TrafficStats(
            self.requests, self.target_5xx, self.elb_5xx, self.target_2xx, collections.deque(self.latencies)
        )


@dataclass(frozen=True)
class IntervalMetrics:
    """One period's datapoints for one dimension; the latency statistics are None without samples."""

    request_count: int
    target_5xx_count: int
    elb_5xx_count: int
    target_response_time_avg: float | None
    target_response_time_p95: float | None
    target_response_time_p99: float | None
    target_2xx_count: int = 0
    latencies: tuple[float, ...] = ()  # the period's samples, in order: any statistic over several periods

    @classmethod
    def of(cls, stats: TrafficStats) -> IntervalMetrics:
        samples = sorted(stats.latencies)
        return cls(
            request_count=stats.requests,
            target_5xx_count=stats.target_5xx,
            elb_5xx_count=stats.elb_5xx,
            target_response_time_avg=sum(samples) / len(samples) if samples else None,
            target_response_time_p95=percentile(samples, 95),
            target_response_time_p99=percentile(samples, 99),
            target_2xx_count=stats.target_2xx,
            latencies=tuple(samples),
        )


@dataclass(frozen=True)
class MetricsPeriod:
    """What happened between two ``take_metrics`` calls (wall clock, seconds since the epoch):
    ``load_balancer`` is every request of every load balancer, ``load_balancers`` the LoadBalancer
    dimension (by load balancer ARN: each publishes its own), ``groups`` the TargetGroup dimension."""

    start: float
    end: float
    load_balancer: IntervalMetrics
    groups: dict[str, IntervalMetrics]
    load_balancers: dict[str, IntervalMetrics] = field(default_factory=dict)


@dataclass(frozen=True)
class LoadBalancerStats:
    listeners: dict[str, TrafficStats]
    groups: dict[str, TrafficStats]


def percentile(ordered: list[float] | tuple[float, ...], percent: float) -> float | None:
    """Nearest rank, as CloudWatch's pNN over raw samples."""
    if not ordered:
        return None
    return ordered[max(math.ceil(percent / 100 * len(ordered)) - 1, 0)]


class TrafficRecorder:
    """Counts every request once: on its listener, on its target group (when one was chosen), and in
    the current metrics period. The period keeps every latency sample up to a bound, for percentiles."""

    def __init__(self, period_samples: int = 100_000) -> None:
        self._listeners: dict[str, TrafficStats] = collections.defaultdict(TrafficStats)
        self._groups: dict[str, TrafficStats] = collections.defaultdict(TrafficStats)
        self._period_samples = period_samples
        self._start_period()

    def _start_period(self) -> None:
        self._period_start = time.time()
        self._period_total = self._new_period_stats()
        self._period_balancers: dict[str, TrafficStats] = collections.defaultdict(self._new_period_stats)
        self._period_groups: dict[str, TrafficStats] = collections.defaultdict(self._new_period_stats)

    def _new_period_stats(self) -> TrafficStats:
        return TrafficStats(latencies=collections.deque(maxlen=self._period_samples))

    def record(
        self, listener: Listener, group: str | None, status: int, elb: bool, latency: float | None
    ) -> None:
        balancer = self._period_balancers[listener.load_balancer_arn]
        buckets = [self._listeners[listener.name], self._period_total, balancer]
        if group is not None:
            buckets += [self._groups[group], self._period_groups[group]]
        for stats in buckets:
            stats.requests += 1
            if 200 <= status < 300 and not elb:
                stats.target_2xx += 1
            if status >= 500:
                if elb:
                    stats.elb_5xx += 1
                else:
                    stats.target_5xx += 1
            if latency is not None:
                stats.latencies.append(latency)

    def stats(self) -> LoadBalancerStats:
        return LoadBalancerStats(
            listeners={name: stats.copy() for name, stats in self._listeners.items()},
            groups={name: stats.copy() for name, stats in self._groups.items()},
        )

    def take_metrics(self) -> MetricsPeriod:
        period = MetricsPeriod(
            start=self._period_start,
            end=time.time(),
            load_balancer=IntervalMetrics.of(self._period_total),
            groups={name: IntervalMetrics.of(stats) for name, stats in self._period_groups.items()},
            load_balancers={arn: IntervalMetrics.of(stats) for arn, stats in self._period_balancers.items()},
        )
        self._start_period()
        return period
