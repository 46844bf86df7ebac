def handler(event, context):
    raise RuntimeError("the database is unreachable")
