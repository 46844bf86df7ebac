// The AWS SDK for JavaScript v3 (a second serializer and parser, not botocore's) drives `ecs-bg local`
// through a blue/green service's life and asserts on what the SDK parsed: a service created and its
// first deployment's PAUSE continued; an update rolled back at its PAUSE (ContinueServiceDeployment
// ROLLBACK); an update rolled back by StopServiceDeployment; a forced deployment, which redeploys
// what serves; an update continued to SUCCESSFUL; the service deleted. The
// endpoint, region and credentials come from the environment (AWS_ENDPOINT_URL, AWS_REGION, ...), as
// `ecs-bg local` prints them.
//
// node bluegreen.mjs INPUT.json: INPUT holds {task, create}, RegisterTaskDefinition's and
// CreateService's requests. It prints one JSON line of what it saw; an assertion that fails exits 1.

import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";

import {
  ConflictException,
  ContinueServiceDeploymentCommand,
  CreateServiceCommand,
  DeleteServiceCommand,
  DescribeServiceDeploymentsCommand,
  DescribeServiceRevisionsCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ECSClient,
  InvalidParameterException,
  ListServiceDeploymentsCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  ServiceNotFoundException,
  StopServiceDeploymentCommand,
  UpdateServiceCommand,
  waitUntilServicesInactive,
  waitUntilServicesStable,
} from "@aws-sdk/client-ecs";
import {
  DescribeRulesCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
} from "@aws-sdk/client-elastic-load-balancing-v2";

const ENDED = new Set(["SUCCESSFUL", "ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED", "STOPPED"]);
const input = JSON.parse(await readFile(process.argv[2], "utf8"));
const { cluster, serviceName } = input.create;
const ecs = new ECSClient({});
const elbv2 = new ElasticLoadBalancingV2Client({});
const seen = {};

async function until(what, probe, seconds = 60) {
  const deadline = Date.now() + seconds * 1000;
  let last;
  while (Date.now() < deadline) {
    last = await probe();
    if (last) return last;
    await sleep(300);
  }
  assert.fail(`${what}: not within ${seconds} s; last: ${JSON.stringify(last)}`);
}

async function describe(arn) {
  const answer = await ecs.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [arn] }));
  assert.deepEqual(answer.failures, []);
  assert.equal(answer.serviceDeployments.length, 1);
  return answer.serviceDeployments[0];
}

async function service() {
  const answer = await ecs.send(new DescribeServicesCommand({ cluster, services: [serviceName] }));
  assert.deepEqual(answer.failures, []);
  return answer.services[0];
}

// A timestamp as the SDK parsed it: a Date, of this minute (epoch seconds read as seconds).
function recent(value, what) {
  assert.ok(value instanceof Date, `${what} is ${typeof value}, not a Date`);
  assert.ok(Math.abs(value.getTime() - Date.now()) < 5 * 60 * 1000, `${what} ${value.toISOString()} is not now`);
}

// The newest service deployment, once the service has `count` of them.
async function newest(count) {
  const list = await until(`deployment ${count}`, async () => {
    const answer = await ecs.send(new ListServiceDeploymentsCommand({ cluster, service: serviceName }));
    return answer.serviceDeployments.length === count && answer.serviceDeployments;
  });
  for (const brief of list) recent(brief.createdAt, "ListServiceDeployments createdAt");
  return list[0].serviceDeploymentArn; // newest first
}

async function pausedHook(arn) {
  return until(`a PAUSE awaiting action in ${arn}`, async () => {
    const deployment = await describe(arn);
    return (deployment.lifecycleHookDetails ?? []).find((hook) => hook.status === "AWAITING_ACTION");
  });
}

async function ended(arn) {
  return until(`${arn} ended`, async () => {
    const deployment = await describe(arn);
    return ENDED.has(deployment.status) && deployment;
  }, 90);
}

async function register() {
  const answer = await ecs.send(new RegisterTaskDefinitionCommand(input.task));
  const definition = answer.taskDefinition;
  assert.ok(Array.isArray(definition.volumes) && Array.isArray(definition.placementConstraints));
  recent(definition.registeredAt, "registeredAt");
  return definition.taskDefinitionArn;
}

async function update(taskDefinition, count) {
  const answer = await ecs.send(new UpdateServiceCommand({ cluster, service: serviceName, taskDefinition }));
  assert.equal(answer.service.deployments[0].status, "PRIMARY");
  assert.equal(answer.service.deployments[0].taskDefinition, taskDefinition);
  return newest(count);
}

const v1 = await register();
const v2 = await register();
const v3 = await register();

// CreateService: the first deployment waits at its PAUSE like any other.
const created = await ecs.send(new CreateServiceCommand({ ...input.create, taskDefinition: v1 }));
assert.equal(created.service.status, "ACTIVE");
assert.equal(created.service.deploymentConfiguration.strategy, "BLUE_GREEN");
recent(created.service.createdAt, "CreateService createdAt");
const first = await newest(1);
const firstHook = await pausedHook(first);
assert.match(firstHook.hookId, /^ecs-pause-/);
assert.equal(firstHook.targetType, "PAUSE");
assert.equal(firstHook.timeoutAction, "ROLLBACK");
assert.ok(firstHook.expiresAt instanceof Date && firstHook.expiresAt.getTime() > Date.now(), String(firstHook.expiresAt));
const firstPaused = await describe(first);
assert.equal(firstPaused.lifecycleStage, "POST_TEST_TRAFFIC_SHIFT");
assert.deepEqual(firstPaused.sourceServiceRevisions, []);
seen.firstHook = firstHook;
await ecs.send(new ContinueServiceDeploymentCommand({ serviceDeploymentArn: first, hookId: firstHook.hookId }));
assert.equal((await ended(first)).status, "SUCCESSFUL");
await waitUntilServicesStable({ client: ecs, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { cluster, services: [serviceName] });
const v1Revision = (await describe(first)).targetServiceRevision.arn;

// v2, rolled back at its PAUSE: the service names v1 again, and v1's task is what runs.
const second = await update(v2, 2);
const secondHook = await pausedHook(second);
assert.notEqual(secondHook.hookId, undefined);
const during = await describe(second);
assert.equal(during.status, "IN_PROGRESS");
assert.equal(during.targetServiceRevision.requestedTestTrafficWeight, 100);
assert.equal(during.targetServiceRevision.requestedProductionTrafficWeight, 0);
assert.equal(during.sourceServiceRevisions[0].arn, v1Revision);
assert.equal(during.sourceServiceRevisions[0].requestedProductionTrafficWeight, 100);
const listed = Object.fromEntries((await service()).deployments.map((d) => [d.status, [d.taskDefinition, d.rolloutState]]));
assert.deepEqual(listed, { PRIMARY: [v2, "IN_PROGRESS"], ACTIVE: [v1, "COMPLETED"] });
await ecs.send(new ContinueServiceDeploymentCommand({ serviceDeploymentArn: second, hookId: secondHook.hookId, action: "ROLLBACK" }));
const rolledBack = await ended(second);
assert.equal(rolledBack.status, "ROLLBACK_SUCCESSFUL");
assert.equal(rolledBack.rollback.serviceRevisionArn, v1Revision);
recent(rolledBack.rollback.startedAt, "rollback startedAt");
recent(rolledBack.finishedAt, "finishedAt");
const afterRollback = await service();
assert.equal(afterRollback.taskDefinition, v1, "after a rollback the service names the source revision's task definition");
const primary = afterRollback.deployments.find((d) => d.status === "PRIMARY");
assert.equal(primary.taskDefinition, v1);
const taskArns = (await ecs.send(new ListTasksCommand({ cluster, serviceName }))).taskArns;
const tasks = (await ecs.send(new DescribeTasksCommand({ cluster, tasks: taskArns }))).tasks;
assert.deepEqual([...new Set(tasks.map((task) => task.taskDefinitionArn))], [v1]);
seen.afterRollback = { taskDefinition: afterRollback.taskDefinition, deployments: afterRollback.deployments.map((d) => [d.status, d.taskDefinition, d.rolloutState]) };
// A PAUSE that has been answered cannot be answered again.
await assert.rejects(
  ecs.send(new ContinueServiceDeploymentCommand({ serviceDeploymentArn: second, hookId: secondHook.hookId })),
  (error) => error instanceof InvalidParameterException && error.$metadata.httpStatusCode === 400,
);

// v3, stopped with ROLLBACK while it waits: back on v1 again.
const third = await update(v3, 3);
await pausedHook(third);
const stopped = await ecs.send(new StopServiceDeploymentCommand({ serviceDeploymentArn: third, stopType: "ROLLBACK" }));
assert.equal(stopped.serviceDeploymentArn, third);
assert.equal((await ended(third)).status, "ROLLBACK_SUCCESSFUL");
assert.equal((await service()).taskDefinition, v1);
await assert.rejects(
  ecs.send(new StopServiceDeploymentCommand({ serviceDeploymentArn: third, stopType: "ROLLBACK" })),
  (error) => error instanceof ConflictException && error.name === "ConflictException",
);

// A forced deployment now redeploys what serves, v1, not the revision rolled back.
await ecs.send(new UpdateServiceCommand({ cluster, service: serviceName, forceNewDeployment: true }));
const forced = await newest(4);
const forcedHook = await pausedHook(forced);
const forcedTarget = (await describe(forced)).targetServiceRevision.arn;
const forcedRevision = (await ecs.send(new DescribeServiceRevisionsCommand({ serviceRevisionArns: [forcedTarget] }))).serviceRevisions[0];
assert.equal(forcedRevision.taskDefinition, v1);
await ecs.send(new ContinueServiceDeploymentCommand({ serviceDeploymentArn: forced, hookId: forcedHook.hookId }));
assert.equal((await ended(forced)).status, "SUCCESSFUL");

// v2 again, continued: SUCCESSFUL, and the service is on v2.
const fifth = await update(v2, 5);
const fifthHook = await pausedHook(fifth);
await ecs.send(new ContinueServiceDeploymentCommand({ serviceDeploymentArn: fifth, hookId: fifthHook.hookId, action: "CONTINUE" }));
const succeeded = await ended(fifth);
assert.equal(succeeded.status, "SUCCESSFUL");
await waitUntilServicesStable({ client: ecs, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { cluster, services: [serviceName] });
const final = await service();
assert.equal(final.taskDefinition, v2);
assert.deepEqual(final.deployments.map((d) => [d.status, d.taskDefinition, d.rolloutState]), [["PRIMARY", v2, "COMPLETED"]]);
assert.equal(final.runningCount, 1);
// The service's ARN carries its cluster: no `cluster` needed (AWS's sample hooks call it so).
const statuses = (await ecs.send(new ListServiceDeploymentsCommand({ service: final.serviceArn }))).serviceDeployments.map((d) => d.status);
assert.deepEqual(statuses, ["SUCCESSFUL", "SUCCESSFUL", "ROLLBACK_SUCCESSFUL", "ROLLBACK_SUCCESSFUL", "SUCCESSFUL"]);

// The load balancer, through the elbv2 client (the query protocol, XML answers): production forwards
// all to v2's group, whose one target is healthy.
const revision = succeeded.targetServiceRevision.arn;
const rule = input.create.loadBalancers[0].advancedConfiguration.productionListenerRule;
const rules = (await elbv2.send(new DescribeRulesCommand({ RuleArns: [rule] }))).Rules;
const weights = Object.fromEntries(rules[0].Actions[0].ForwardConfig.TargetGroups.map((g) => [g.TargetGroupArn, g.Weight]));
const live = Object.keys(weights).find((group) => weights[group] === 100);
assert.ok(live, JSON.stringify(weights));
const health = (await elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: live }))).TargetHealthDescriptions;
assert.deepEqual(health.map((target) => target.TargetHealth.State), ["healthy"]);
assert.equal(typeof health[0].Target.Port, "number");

// ECS's own errors, as the SDK's modeled exceptions.
await assert.rejects(
  ecs.send(new UpdateServiceCommand({ cluster, service: "nowhere", desiredCount: 2 })),
  ServiceNotFoundException,
);

// Deleted once scaled in: DRAINING while its task stops, then INACTIVE, which the waiter waits for.
await ecs.send(new UpdateServiceCommand({ cluster, service: serviceName, desiredCount: 0 }));
const deleted = (await ecs.send(new DeleteServiceCommand({ cluster, service: serviceName }))).service;
assert.ok(["DRAINING", "INACTIVE"].includes(deleted.status), deleted.status);
await waitUntilServicesInactive({ client: ecs, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { cluster, services: [serviceName] });

seen.deployments = statuses;
seen.weights = weights;
seen.revision = revision;
console.log(JSON.stringify(seen));
