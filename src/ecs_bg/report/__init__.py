"""Deployment reports a person looks at: the report model and its HTML page. Imports nothing else of
this project, so a simulation and a real deployment can both fill it."""
