"""A hook function whose handler raises: Lambda reports a function error, ECS rolls back."""


def handler(event: object, context: object) -> dict[str, str]:
    raise RuntimeError("the database is unreachable")
