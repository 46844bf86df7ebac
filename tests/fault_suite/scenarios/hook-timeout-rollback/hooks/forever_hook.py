def handler(event, context):
    return {"hookStatus": "IN_PROGRESS", "callBackDelay": 30}
