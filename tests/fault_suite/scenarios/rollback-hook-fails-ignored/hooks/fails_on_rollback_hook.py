# Succeeds on the way forward; when ECS re-invokes it during a rollback (production weights back
# on blue), it fails.
def handler(event, context):
    details = event.get("executionDetails") or event
    weights = details.get("productionTrafficWeights") or {}
    green = details.get("targetServiceRevisionArn")
    if weights and weights.get(green) == 0:
        return {"hookStatus": "FAILED"}
    return {"hookStatus": "SUCCEEDED"}
