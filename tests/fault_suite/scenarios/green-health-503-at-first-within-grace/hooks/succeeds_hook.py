def handler(event, context):
    return {"hookStatus": "SUCCEEDED"}
