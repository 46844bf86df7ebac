# "DONE" is not a hookStatus ECS knows.
def handler(event, context):
    return {"hookStatus": "DONE"}
