# POST_SCALE_UP outlasts the green task's death (1.5 s after it listens) and its replacement, so the
# task dies between scale-up and the traffic shifts however fast the rest of the deployment runs.
import time


def handler(event, context):
    time.sleep(3)
    return {"hookStatus": "SUCCEEDED"}
