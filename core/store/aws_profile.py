"""AWS shared profiles (``~/.aws/credentials``, ``~/.aws/config``) for the S3 backend.

obstore takes credentials from the environment (``AWS_ACCESS_KEY_ID``/…, web identity, the
container and instance metadata services) but never reads the shared files every AWS tool
reads. This module reads a profile's **static** keys from them with :mod:`configparser`, the
way the AWS CLI does, for the S3 backend to hand to obstore's ``credential_provider`` hook:

- the profile is ``AWS_PROFILE``, else ``default``;
- the credentials file is ``AWS_SHARED_CREDENTIALS_FILE``, else ``~/.aws/credentials``; the
  config file is ``AWS_CONFIG_FILE``, else ``~/.aws/config`` (section ``[profile NAME]``, or
  ``[default]``); a key of the credentials file wins over the same key of the config file;
- ``aws_access_key_id``, ``aws_secret_access_key``, ``aws_session_token`` and ``region``.

A profile that assumes a role, uses SSO or runs a ``credential_process`` is not read (that
would take an STS client): named explicitly, it is refused with what to do instead. Nothing
here ever reads ``registry_config.toml``.
"""

from __future__ import annotations

import configparser
from collections.abc import Callable, Mapping
from pathlib import Path

import attrs

from govern.errors import GovernError

#: The variables that name which profile and files are read (a change gives another client).
PROFILE_VARIABLES = ("AWS_PROFILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE", "HOME")
#: Keys of a profile that get credentials some other way than static keys (not supported).
_INDIRECT_KEYS = ("role_arn", "sso_session", "sso_start_url", "credential_process", "web_identity_token_file")


@attrs.frozen(repr=False)
class ProfileCredentials:
    """The static credentials of an AWS profile (``repr`` never shows the secrets)."""

    profile: str
    access_key_id: str
    secret_access_key: str
    session_token: str | None
    region: str | None
    #: The files they were read from, for messages.
    source: str

    def __repr__(self) -> str:
        return f"ProfileCredentials(profile={self.profile!r}, source={self.source!r})"


def environment_has_credentials(environ: Mapping[str, str]) -> bool:
    """True when the environment gives credentials itself — static keys, or a web-identity
    token — which come before any profile (as for the AWS CLI)."""
    return bool(environ.get("AWS_ACCESS_KEY_ID")) or bool(environ.get("AWS_WEB_IDENTITY_TOKEN_FILE"))


def profile_credentials(environ: Mapping[str, str], url: str) -> ProfileCredentials | None:
    """The static credentials of the profile ``environ`` selects (see the module's doc), or
    None when there is none to read: the environment has credentials itself, or no profile
    was named and the ``default`` one holds no keys (obstore then tries the container and
    instance metadata services).

    Raises E_STORE_UNREACHABLE (exit 2) naming ``url``, the profile and the files when the
    profile named by ``AWS_PROFILE`` does not exist, lacks a key, or gets its credentials in
    a way this reader does not follow, and when a file is there but cannot be read or parsed.
    """
    if environment_has_credentials(environ):
        return None
    named = environ.get("AWS_PROFILE") or None
    profile = named or "default"
    home = Path(environ.get("HOME") or Path.home())
    credentials_file = Path(environ.get("AWS_SHARED_CREDENTIALS_FILE") or home / ".aws" / "credentials")
    config_file = Path(environ.get("AWS_CONFIG_FILE") or home / ".aws" / "config")
    where = f"{credentials_file}, {config_file}"

    def refuse(why: str) -> GovernError:
        return GovernError("E_STORE_UNREACHABLE", f"{url}: AWS profile {profile!r} ({where}): {why}")

    from_credentials = _section(credentials_file, profile, refuse)
    from_config = _section(config_file, profile if profile == "default" else f"profile {profile}", refuse)
    if from_credentials is None and from_config is None:
        if named:
            raise refuse("no such profile")
        return None
    values = {**(from_config or {}), **(from_credentials or {})}
    access_key_id, secret_access_key = values.get("aws_access_key_id"), values.get("aws_secret_access_key")
    if not access_key_id or not secret_access_key:
        indirect = sorted(key for key in _INDIRECT_KEYS if key in values)
        if not named and not indirect:
            return None  # a default profile holding only settings (a region): not a credential source
        how = f"it gets its credentials by {', '.join(indirect)}, which govern does not follow; " if indirect else ""
        raise refuse(
            f"{how}no aws_access_key_id and aws_secret_access_key; export the credentials instead "
            f'(eval "$(aws configure export-credentials --profile {profile} --format env)")'
        )
    return ProfileCredentials(
        profile, access_key_id, secret_access_key, values.get("aws_session_token") or None, values.get("region") or None, where
    )


def _section(path: Path, name: str, refuse: Callable[[str], GovernError]) -> dict[str, str] | None:
    """The keys of section ``name`` of the INI file ``path``; None when the file or the
    section is absent (``refuse`` makes the error for a file that cannot be read)."""
    parser = configparser.ConfigParser(interpolation=None, default_section="\0none")
    try:
        with open(path, encoding="utf-8") as handle:
            parser.read_file(handle)
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, configparser.Error) as exc:
        raise refuse(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    if not parser.has_section(name):
        return None
    return {key: value.strip() for key, value in parser.items(name)}
