"""Imported by Lambda's runtime fork server (``runner.PRELOADED``), after boto3: botocore's data read
once there, for every worker it forks (``botocore_data``).

The services are those this project's hooks call, and those most other hooks call; a client of any
other service reads its own model as a fresh interpreter does. The server is kept between a process's
runs (``forkserver.KEPT``), so a process reads these once.
"""

from __future__ import annotations

from ecs_bg.local import botocore_data

SERVICES = ("ecs", "elbv2", "cloudwatch", "ssm", "sns", "s3", "sts", "logs", "lambda")

botocore_data.share()
botocore_data.read_ahead(SERVICES)
