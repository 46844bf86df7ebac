"""ECS's errors, by the codes botocore's ECS model declares for its operations (and the two the JSON
protocol itself answers with), each a 400. The messages are ECS's own where they are known
("Service not found.", "Cluster not found.")."""

from __future__ import annotations

from ecs_bg.local.errors import AwsError


class EcsError(AwsError):
    """An ECS error; its code is its class's name."""

    def __init__(self, message: str) -> None:
        super().__init__(type(self).__name__, message)


class ClientException(EcsError):
    """A client action ECS refuses, or an identifier that is not valid."""


class InvalidParameterException(EcsError):
    """A parameter ECS does not accept: out of its range, or not a value it takes."""


class ConflictException(EcsError):
    """The request conflicts with the resource's current state (StopServiceDeployment of a service
    deployment that has ended)."""


class ClusterNotFoundException(EcsError):
    def __init__(self, message: str = "Cluster not found.") -> None:
        super().__init__(message)


class ServiceNotFoundException(EcsError):
    def __init__(self, message: str = "Service not found.") -> None:
        super().__init__(message)


class ServiceNotActiveException(EcsError):
    def __init__(self, message: str = "Service was not ACTIVE.") -> None:
        super().__init__(message)


class ServiceDeploymentNotFoundException(EcsError):
    def __init__(self, message: str = "The service deployment does not exist.") -> None:
        super().__init__(message)


class SerializationException(EcsError):
    """A body that is not a JSON object, or a member of the wrong JSON type. AWS answers a string
    where ECS wants an integer with "SerializationException: STRING_VALUE cannot be converted to
    Integer" (aws/aws-cdk-cli PR #973, its ECS hotswap flags)."""


class UnknownOperationException(EcsError):
    """An X-Amz-Target naming no ECS operation, or one this local ECS does not serve."""
