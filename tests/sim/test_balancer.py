"""The local load balancer against in-process targets: routing, health, fail-open, errors, metrics."""

from __future__ import annotations

import asyncio
import dataclasses
import random

import aiohttp
import pytest

from ecs_bg.local.elbv2 import balancer
from ecs_bg.local.elbv2.balancer import GROUP_HEADER, LocalLoadBalancer
from ecs_bg.local.elbv2.health import HealthCheck
from ecs_bg.simulate.loadgen import LoadGenerator
from tests.sim.stub_targets import StubTarget, run, set_weights, two_listener_lb, wait_for

FAST = HealthCheck(path="/health", interval=0.05, timeout=0.04, healthy_threshold=2, unhealthy_threshold=2)


def states(lb: LocalLoadBalancer, group: str) -> list[str]:
    return [health.state for health in lb.target_health(group)]


async def healthy_lb(groups: dict[str, list[StubTarget]], **options: object) -> LocalLoadBalancer:
    names = (*groups, "spare")[:2]
    lb = two_listener_lb(names, FAST, rng=random.Random(7), **options)  # type: ignore[arg-type]
    await lb.start()
    set_weights(lb, "production", dict.fromkeys(groups, 0))
    for group, targets in groups.items():
        for target in targets:
            lb.register(group, target.url)
    assert await wait_for(lambda: all(set(states(lb, g)) == {"healthy"} for g in groups))
    return lb


def test_weighted_routing_splits_1000_requests_90_10_and_every_count_matches() -> None:
    async def scenario() -> None:
        blue, green = await StubTarget("blue").start(), await StubTarget("green").start()
        lb = await healthy_lb({"blue": [blue], "green": [green]})
        try:
            set_weights(lb, "production", {"blue": 90, "green": 10})
            lb.take_metrics()  # the period starts with the load
            load = LoadGenerator(lb.urls["production"] + "/", rate=2000, concurrency=16, max_requests=1000)
            report = await load.run()
            stats, metrics = lb.stats(), lb.take_metrics()
        finally:
            await lb.close()
            await blue.stop()
            await green.stop()
        assert report.requests == 1000
        assert report.errors == 0
        assert 860 <= report.by_group["blue"] <= 940  # 90 % within four standard deviations
        assert report.by_group["blue"] + report.by_group["green"] == 1000
        for group in ("blue", "green"):
            assert stats.groups[group].requests == report.by_group[group]
            assert metrics.groups[group].request_count == report.by_group[group]
            assert metrics.groups[group].target_5xx_count == 0
            assert metrics.groups[group].elb_5xx_count == 0
            assert len(stats.groups[group].latencies) == report.by_group[group]
        assert stats.listeners["production"].requests == 1000
        assert metrics.load_balancer.request_count == 1000
        lb_latency = metrics.load_balancer
        assert lb_latency.target_response_time_avg is not None
        assert lb_latency.target_response_time_p99 is not None
        assert lb_latency.target_response_time_p95 is not None
        assert 0 < lb_latency.target_response_time_p95 <= lb_latency.target_response_time_p99 < 1.0
        assert lb.take_metrics().load_balancer.request_count == 0  # taking resets the period

    run(scenario)


def test_weight_shift_during_steady_load_drops_no_request() -> None:
    async def scenario() -> None:
        # Slow targets keep requests in flight across every weight change.
        blue = await StubTarget("blue", delay=0.05).start()
        green = await StubTarget("green", delay=0.05).start()
        lb = await healthy_lb({"blue": [blue], "green": [green]})
        try:
            set_weights(lb, "production", {"blue": 100, "green": 0})
            load = LoadGenerator(lb.urls["production"] + "/", rate=200, concurrency=32, duration=5)
            load.start()
            for step in (10, 50, 90, 100):
                await wait_for(lambda: False, timeout=0.2)
                set_weights(lb, "production", {"blue": 100 - step, "green": step})
            await wait_for(lambda: False, timeout=0.3)
            report = await load.stop()
        finally:
            await lb.close()
            await blue.stop()
            await green.stop()
        assert report.requests > 100
        assert report.failures == []
        assert report.by_group["blue"] > 0
        assert report.by_group["green"] > 0
        assert report.by_status == {200: report.requests}

    run(scenario)


def test_health_checks_move_targets_through_initial_healthy_unhealthy_with_elb_reasons() -> None:
    async def scenario() -> None:
        target = await StubTarget("t", health_delay=0.2).start()  # slow first: we see "initial"
        lb = two_listener_lb(("g", "spare"), FAST)
        await lb.start()
        try:
            set_weights(lb, "production", {"g": 1})
            lb.register("g", target.url)
            [initial] = lb.target_health("g")
            assert (initial.state, initial.reason) == ("initial", "Elb.InitialHealthChecking")
            target.health_delay = 0.0
            assert await wait_for(lambda: states(lb, "g") == ["healthy"])
            assert lb.target_health("g")[0].reason is None

            target.health_status = 503
            assert await wait_for(lambda: states(lb, "g") == ["unhealthy"])
            [sick] = lb.target_health("g")
            assert sick.reason == "Target.ResponseCodeMismatch"
            assert sick.description == "Health checks failed with these codes: [503]"

            target.health_status, target.health_delay = 200, 1.0
            assert await wait_for(lambda: lb.target_health("g")[0].reason == "Target.Timeout")

            target.health_delay = 0.0
            assert await wait_for(lambda: states(lb, "g") == ["healthy"])
            await target.stop()
            assert await wait_for(lambda: lb.target_health("g")[0].reason == "Target.FailedHealthChecks")
        finally:
            await lb.close()
            await target.stop()

    run(scenario)


def test_matcher_decides_what_a_healthy_answer_is() -> None:
    check = HealthCheck(matcher="200,302-304")
    assert [check.matches(code) for code in (200, 204, 302, 304, 305)] == [True, False, True, True, False]
    assert HealthCheck(matcher="200-399").matches(399)
    assert not HealthCheck(matcher="200-399").matches(400)
    assert HealthCheck().matches(200)  # ALB's default matcher: 200 alone
    assert not HealthCheck().matches(204)


def test_group_attached_to_no_listener_is_unused_until_attached() -> None:
    async def scenario() -> None:
        target = await StubTarget("t").start()
        lb = two_listener_lb(("blue", "green"), FAST)
        await lb.start()
        try:
            for listener in ("production", "test"):
                set_weights(lb, listener, {"blue": 0})  # no rule names green
            lb.register("green", target.url)
            await wait_for(lambda: False, timeout=0.2)
            [unused] = lb.target_health("green")
            assert (unused.state, unused.reason) == ("unused", "Target.NotInUse")
            assert target.seen_headers == []
            # Weight 0 still attaches the group (ECS's weighted forward lists both): checked, healthy.
            set_weights(lb, "test", {"green": 0})
            assert await wait_for(lambda: states(lb, "green") == ["healthy"])
        finally:
            await lb.close()
            await target.stop()

    run(scenario)


def test_group_without_a_healthy_target_fails_open_to_all_of_them() -> None:
    # FAST's 40 ms timeout let the healthy target's probes time out twice while the load generator and
    # the balancer busied this one event loop (CI failed once: 18 of 20 requests): a second to answer.
    patient = dataclasses.replace(FAST, timeout=1.0)

    async def scenario() -> None:
        sick = [await StubTarget(f"sick{i}", health_status=500).start() for i in range(2)]
        lb = two_listener_lb(("g", "spare"), patient)
        await lb.start()
        try:
            set_weights(lb, "production", {"g": 1})
            for target in sick:
                lb.register("g", target.url)
            assert await wait_for(lambda: states(lb, "g") == ["unhealthy", "unhealthy"])
            report = await LoadGenerator(lb.urls["production"], rate=500, max_requests=20).run()
            assert report.by_status == {200: 20}
            assert all(len(target.seen_headers) == 10 for target in sick)  # round robin over both

            healthy = await StubTarget("healthy").start()
            lb.register("g", healthy.url)
            assert await wait_for(lambda: "healthy" in states(lb, "g"))
            report = await LoadGenerator(lb.urls["production"], rate=500, max_requests=20).run()
            assert len(healthy.seen_headers) == 20  # a healthy target ends the fail-open
            await healthy.stop()
        finally:
            await lb.close()
            for target in sick:
                await target.stop()

    run(scenario)


def test_load_balancer_answers_503_itself_without_weights_or_targets() -> None:
    async def scenario() -> None:
        lb = two_listener_lb(("empty", "spare"), FAST)
        urls = await lb.start()
        try:
            async with aiohttp.ClientSession() as session:
                async with session.get(urls["production"]) as response:
                    assert response.status == 503
                set_weights(lb, "test", {"empty": 1})
                async with session.get(urls["test"]) as response:
                    assert response.status == 503
                    assert response.headers[GROUP_HEADER] == "empty"
            stats = lb.stats()
            assert stats.listeners["production"].elb_5xx == 1
            assert stats.groups["empty"].elb_5xx == 1
            assert stats.groups["empty"].target_5xx == 0
        finally:
            await lb.close()

    run(scenario)


def test_target_5xx_and_elb_504_are_counted_apart() -> None:
    async def scenario() -> None:
        failing = await StubTarget("failing", status=500).start()
        slow = await StubTarget("slow", delay=2.0).start()
        lb = await healthy_lb({"failing": [failing], "slow": [slow]}, target_timeout=0.3)
        try:
            set_weights(lb, "production", {"failing": 1})
            set_weights(lb, "test", {"slow": 1})
            production = await LoadGenerator(lb.urls["production"], max_requests=3, rate=100).run()
            test = await LoadGenerator(lb.urls["test"], max_requests=2, rate=100).run()
            assert (production.by_status, test.by_status) == ({500: 3}, {504: 2})
            metrics = lb.take_metrics()
        finally:
            await lb.close()
            await failing.stop()
            await slow.stop()
        assert (metrics.groups["failing"].target_5xx_count, metrics.groups["failing"].elb_5xx_count) == (3, 0)
        assert (metrics.groups["slow"].target_5xx_count, metrics.groups["slow"].elb_5xx_count) == (0, 2)
        assert metrics.groups["slow"].target_response_time_avg is None  # no response, no sample
        assert metrics.load_balancer.request_count == 5

    run(scenario)


def test_closing_ends_a_health_check_whose_cancel_the_probe_lost(monkeypatch: pytest.MonkeyPatch) -> None:
    # aiohttp can turn a cancel that lands in a request into the request's TimeoutError, which the
    # probe reports as a failed check: the checking loop must still end when its target is removed.
    real_probe = balancer.probe
    probing = asyncio.Event()

    lost: list[bool] = []

    async def probe_losing_cancels(*args: object) -> tuple[str, str] | None:
        try:
            probing.set()
            return await real_probe(*args)  # type: ignore[arg-type]
        except asyncio.CancelledError:
            if lost:  # only the first, so that a loop that misses it fails the test instead of hanging
                raise
            lost.append(True)
            return balancer.TIMEOUT

    async def scenario() -> None:
        target = await StubTarget("slow", health_delay=5.0).start()
        lb = two_listener_lb(check=HealthCheck(path="/health", interval=0.05, timeout=3))
        await lb.start()
        try:
            monkeypatch.setattr(balancer, "probe", probe_losing_cancels)
            lb.register("blue", target.url)
            await asyncio.wait_for(probing.wait(), 5)
        finally:
            await asyncio.wait_for(lb.close(), 5)  # hung when the loop missed the removal
            await target.stop()
        assert lost  # the cancel did land in a probe

    run(scenario)


def test_a_refused_connection_is_retried_on_another_target_of_the_group() -> None:
    async def scenario() -> None:
        gone, alive = await StubTarget("gone").start(), await StubTarget("alive").start()
        lb = await healthy_lb({"g": [gone, alive]})
        try:
            # The dead target stays "healthy": no check for 30 s.
            lb.resources.target_groups["g"].health_check = HealthCheck(path="/health", interval=30, timeout=1)
            await wait_for(lambda: False, timeout=0.1)  # checks already sleeping keep FAST's interval
            await gone.stop()
            set_weights(lb, "production", {"g": 1})
            report = await LoadGenerator(lb.urls["production"], rate=200, max_requests=10).run()
            stats = lb.stats()
        finally:
            await lb.close()
            await alive.stop()
        assert states(lb, "g") == []  # closing removed every target
        assert report.by_status == {200: 10}
        assert len(alive.seen_headers) == 10
        assert stats.groups["g"].elb_5xx == 0

    run(scenario)


def test_forwarding_headers_go_to_the_target_and_response_headers_come_back() -> None:
    async def scenario() -> None:
        target = await StubTarget("t").start()
        lb = await healthy_lb({"g": [target]})
        try:
            set_weights(lb, "production", {"g": 1})
            async with aiohttp.ClientSession() as session:
                url = lb.urls["production"] + "/api/products?in_stock=true"
                async with session.get(url, headers={"X-Forwarded-For": "203.0.113.9"}) as response:
                    assert response.status == 200
                    assert await response.text() == "t"
                    assert response.headers["x-target"] == "t"
                    assert response.headers[GROUP_HEADER] == "g"
        finally:
            await lb.close()
            await target.stop()
        [seen] = target.seen_headers
        assert seen["X-Forwarded-For"] == "203.0.113.9, 127.0.0.1"
        assert seen["X-Forwarded-Port"] == lb.urls["production"].rsplit(":", 1)[1]

    run(scenario)


def test_only_a_target_that_passed_and_then_failed_is_gone_unhealthy() -> None:
    """What ECS's scheduler replaces: a task gone bad, not one that never passed (SCALE_UP's failure)."""

    async def scenario() -> None:
        good, never = await StubTarget("good").start(), await StubTarget("never", health_status=503).start()
        lb = two_listener_lb(("g", "spare"), FAST)
        await lb.start()
        try:
            set_weights(lb, "production", {"g": 1})
            lb.register("g", good.url)
            lb.register("g", never.url)
            assert await wait_for(lambda: states(lb, "g") == ["healthy", "unhealthy"])
            assert lb.gone_unhealthy("g") == {}
            good.health_status = 500
            assert await wait_for(lambda: states(lb, "g") == ["unhealthy", "unhealthy"])
            assert lb.gone_unhealthy("g") == {good.url: "Health checks failed with these codes: [500]"}
        finally:
            await lb.close()
            await good.stop()
            await never.stop()

    run(scenario)


def test_each_load_balancer_publishes_its_own_requests() -> None:
    """Two load balancers (here the test listener moved to another): CloudWatch's LoadBalancer
    dimension of each counts the requests through its own listeners alone."""

    async def scenario() -> None:
        blue = await StubTarget("blue").start()
        lb = await healthy_lb({"blue": [blue]})
        test = lb.resources.listener_named("test")
        production = lb.resources.listener_named("production")
        assert test is not None
        assert production is not None
        other = production.load_balancer_arn.replace("/app/", "/app/internal-")
        test.load_balancer_arn = other
        try:
            set_weights(lb, "production", {"blue": 100})
            set_weights(lb, "test", {"blue": 100})
            lb.take_metrics()
            async with aiohttp.ClientSession() as session:
                for listener, count in (("production", 30), ("test", 12)):
                    for _ in range(count):
                        async with session.get(lb.urls[listener] + "/") as response:
                            assert response.status == 200
            metrics = lb.take_metrics()
        finally:
            await lb.close()
            await blue.stop()
        assert metrics.load_balancers[production.load_balancer_arn].request_count == 30
        assert metrics.load_balancers[other].request_count == 12
        assert metrics.load_balancer.request_count == 42  # every request, for the bake's hold

    run(scenario)
