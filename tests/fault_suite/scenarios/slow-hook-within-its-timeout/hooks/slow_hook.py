# Real work that takes three real seconds, well inside the hook's one-minute timeout.
import time


def handler(event, context):
    time.sleep(3)
    return {"hookStatus": "SUCCEEDED"}
