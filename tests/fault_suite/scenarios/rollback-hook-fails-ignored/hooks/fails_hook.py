def handler(event, context):
    return {"hookStatus": "FAILED"}
