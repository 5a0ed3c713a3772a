"""Opening the store a location names: a local folder, or ``s3://bucket/prefix``."""

from __future__ import annotations

from pathlib import Path

import attrs

from govern.runtime import environment
from govern.store.backend import Store
from govern.store.local import LocalStore

#: The scheme of an object-storage location.
S3_SCHEME = "s3://"


@attrs.frozen
class StorageOptions:
    """The ``[storage]`` table of ``registry_config.toml``: where an ``s3://`` runs root's
    server is. Credentials are never here (the standard AWS environment gives them)."""

    #: The S3 endpoint (``http://127.0.0.1:8333`` for a local SeaweedFS); None: AWS's.
    endpoint_url: str | None = None
    #: The bucket's region; None: AWS_REGION / AWS_DEFAULT_REGION, else us-east-1.
    region: str | None = None
    #: Allow a plain-HTTP endpoint (a local server); HTTPS only otherwise.
    allow_http: bool = False
    #: How many times a failed request is retried (with backoff) before govern gives up.
    max_retries: int = 5


def is_object_store(location: str) -> bool:
    """True when ``location`` names object storage (``s3://…``) rather than a local folder."""
    return location.startswith(S3_SCHEME)


def open_store(location: str, *, relative_to: Path, storage: StorageOptions | None = None) -> Store:
    """The store at ``location``: a :class:`LocalStore` for a local path (relative to
    ``relative_to``), an :class:`~govern.store.s3.S3Store` for ``s3://bucket/prefix``
    (obstore imported only then), with the credentials of the invocation's environment."""
    if not is_object_store(location):
        return LocalStore(relative_to / location)
    from govern.store.s3 import S3Store

    options = storage or StorageOptions()
    return S3Store(
        location,
        environ=environment.current(),
        endpoint_url=options.endpoint_url,
        region=options.region,
        allow_http=options.allow_http,
        max_retries=options.max_retries,
    )
