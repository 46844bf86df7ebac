# Polls twice (IN_PROGRESS with its own count in hookDetails), then succeeds. It re-sends what it
# was configured with, so it works whether ECS merges or replaces hookDetails.
def handler(event, context):
    details = dict(event.get("hookDetails") or {})
    polls = int(details.get("polls", 0))
    if polls < 2:
        return {
            "hookStatus": "IN_PROGRESS",
            "callBackDelay": 30,
            "hookDetails": {**details, "polls": polls + 1},
        }
    return {"hookStatus": "SUCCEEDED"}
