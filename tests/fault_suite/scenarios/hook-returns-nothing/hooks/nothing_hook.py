# Returns nothing: no hookStatus at all.
def handler(event, context):
    return None
