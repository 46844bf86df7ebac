"""A hook function that answers IN_PROGRESS forever: only its timeoutConfiguration ends the stage."""


def handler(event: object, context: object) -> dict[str, object]:
    return {"hookStatus": "IN_PROGRESS", "callBackDelay": 10}
