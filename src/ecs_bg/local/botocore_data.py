"""botocore's data files, read once per process for every botocore session it makes.

Each new botocore session makes its own data loader, and each loader reads and parses botocore's JSON
again: endpoints.json (1.2 MB), the partitions, the SDK's defaults, and a service's model when that
service's first client is made. moto's server makes many sessions (EC2's region list alone makes
three). Each cold start of a Lambda worker makes one, and a hook that made ECS, ELBv2 and CloudWatch
clients spent 0.09 s of CPU reading their data, 0.02 s once it was read ahead.

``share`` gives every session of the process the one loader botocore would make for its search paths
(AWS_DATA_PATH's folders make a loader of their own). The data it holds is read-only. ``read_ahead``
reads what clients of ``services`` need, so that the processes forked afterwards find it read.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterable

# What every client reads, whatever its service (botocore/data/*.json).
COMMON = ("endpoints", "partitions", "sdk-default-configuration", "_retry")


def share() -> None:
    import botocore.loaders
    import botocore.session

    botocore.session.create_loader = functools.cache(botocore.loaders.create_loader)


def read_ahead(services: Iterable[str]) -> None:
    """Read, into the shared loader (``share`` first), the data a client of each of ``services``
    reads as it is made. What this botocore lacks is left unread."""
    import botocore.exceptions
    import botocore.session

    missing = (botocore.exceptions.DataNotFoundError, botocore.exceptions.UnknownServiceError)
    loader = botocore.session.Session().get_component("data_loader")
    for name in COMMON:
        with contextlib.suppress(*missing):
            loader.load_data(name)
    for service in services:
        for kind in ("service-2", "endpoint-rule-set-1"):
            with contextlib.suppress(*missing):
                loader.load_service_model(service, kind)
