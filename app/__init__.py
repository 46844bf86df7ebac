"""The sample service deployed by ecspresso: FastAPI on uvicorn, with knobs that make it misbehave."""
