"""A local value for a secret whose template has Secrets Manager generate it (``GenerateSecretString``).

The value follows the spec as GetRandomPassword would (AWS::SecretsManager::Secret GenerateSecretString,
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-secretsmanager-secret-generatesecretstring.html):
32 characters unless ``PasswordLength`` says otherwise; lowercase, uppercase, digits and the
punctuation ``! " # $ % & ' ( ) * + , - . / : ; < = > ? @ [ \\ ] ^ _ ` { | } ~`` unless excluded; a
space only with ``IncludeSpace``; at least one of each included type unless
``RequireEachIncludedType`` is false; with ``SecretStringTemplate`` and ``GenerateStringKey``, the
template's JSON with the password added under that key. It is derived from the stack and the secret's
logical id, so every run of the same template has the same value: a local secret guards nothing, and a
stable one lets a test or a hook see the value it saw last time.
"""

from __future__ import annotations

import json
import random
import string

from ecs_bg.local.cloudformation.fields import Node

PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
DEFAULT_LENGTH = 32


def generate_secret_string(spec: Node, seed: str) -> str:
    password = generate_password(spec, seed)
    template = spec.maybe_text("SecretStringTemplate")
    key = spec.maybe_text("GenerateStringKey")
    if key is not None and template is None:
        raise spec.error("GenerateStringKey", "needs SecretStringTemplate, the JSON to add the password to")
    if template is None:
        return password
    try:
        document = json.loads(template)
    except json.JSONDecodeError as error:
        raise spec.error("SecretStringTemplate", f"is not JSON: {error.msg}") from error
    if not isinstance(document, dict):
        raise spec.error("SecretStringTemplate", "must be a JSON object")
    if key is not None:
        document[key] = password
    return json.dumps(document, separators=(",", ":"))


def generate_password(spec: Node, seed: str) -> str:
    length = spec.integer("PasswordLength", DEFAULT_LENGTH)
    excluded = set(spec.text("ExcludeCharacters", ""))
    kinds = [
        (key, chars)
        for key, chars in (
            ("ExcludeLowercase", string.ascii_lowercase),
            ("ExcludeUppercase", string.ascii_uppercase),
            ("ExcludeNumbers", string.digits),
            ("ExcludePunctuation", PUNCTUATION),
        )
        if not spec.flag(key, False)
    ]
    if spec.flag("IncludeSpace", False):
        kinds.append(("IncludeSpace", " "))
    pools = ["".join(c for c in chars if c not in excluded) for _, chars in kinds]
    pools = [pool for pool in pools if pool]
    if not pools:
        raise spec.error(None, "excludes every character: nothing is left to make a password of")
    # Deterministic on purpose (see the module's docstring): not a password anything relies on.
    chooser = random.Random(seed)  # noqa: S311
    chosen = [chooser.choice(pool) for pool in pools] if spec.flag("RequireEachIncludedType", True) else []
    if len(chosen) > length:
        raise spec.error(
            "PasswordLength", f"{length} is too short to include one of each of {len(chosen)} types"
        )
    everything = "".join(pools)
    chosen += [chooser.choice(everything) for _ in range(length - len(chosen))]
    chooser.shuffle(chosen)
    return "".join(chosen)
