"""notify: tell people about the deployment on Slack, Microsoft Teams and an SNS topic.

Webhook URLs are bearer secrets. hookDetails names the Secrets Manager secret or SSM parameter
holding each one (never the URL itself); the URL is read when a message goes out, never logged and
never put in a reason. A channel that fails logs a warning and lets the deployment go on, unless
``required`` says a missing notification must stop it.

``send`` is public so a stage function can announce any outcome (a failure it caught, say);
the ``notify`` check sends the outcome its stage stands for.

One module per job: ``check`` (the check, its settings, the message it builds), ``message`` (what
every channel renders), ``slack`` and ``teams`` (the renderers), ``webhook`` (posting to one),
``sns`` (publishing), ``secrets`` (where a webhook URL is kept), ``muting`` (keeping it out of
the transport libraries' logs).
"""

from ecs_bg.hooks.notify.check import SLACK_ENV, SNS_ENV, STAGE_OUTCOMES, TEAMS_ENV, Settings, run, send
from ecs_bg.hooks.notify.message import Message, Undelivered

__all__ = [
    "SLACK_ENV",
    "SNS_ENV",
    "STAGE_OUTCOMES",
    "TEAMS_ENV",
    "Message",
    "Settings",
    "Undelivered",
    "run",
    "send",
]
