"""CDK entry point: the stack, built from context (see lib/config.py and docs/deploying.md)."""

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from lib.config import StackConfig
from lib.stack import EcsBlueGreenStack

app = cdk.App()
config = StackConfig.from_context(app.node)
EcsBlueGreenStack(app, config.stack_name, config=config)
cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
app.synth()
