"""The S3 backend: keys are objects under ``s3://bucket/prefix``, moved by obstore.

obstore is imported here only, and this module only when an ``s3://`` location is opened
(:func:`govern.store.factory.open_store`): ``govern --help`` never pays for it. obstore's
client is not fork-safe, so callers do their I/O against this store in threads, never in
forked workers.

Retries are obstore's own (``retry_config``): 5xx answers (503 SlowDown among them),
connection errors, dropped connections and timeouts of read-only requests are retried with
bounded exponential backoff and jitter. What still fails after that — the server cannot be
reached, refuses the credentials, or the bucket does not exist — is
``GovernError("E_STORE_UNREACHABLE")`` naming the URL, the request and why (exit 2).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from govern.errors import GovernError
from govern.store.atomic import upload_staging_key
from govern.store.aws_profile import ProfileCredentials, profile_credentials
from govern.store.backend import AlreadyExists, KeyNotFound, check_key

if TYPE_CHECKING:
    from obstore.store import S3Credential, S3CredentialProvider

#: The standard AWS variables a client takes its credentials and region from, and the
#: obstore configuration key each one fills (the invocation's environment, not os.environ:
#: ``govern.cli.main(environ=…)`` binds it per invocation).
_ENVIRONMENT_KEYS = {
    "AWS_ACCESS_KEY_ID": "access_key_id",
    "AWS_SECRET_ACCESS_KEY": "secret_access_key",
    "AWS_SESSION_TOKEN": "session_token",
    "AWS_DEFAULT_REGION": "region",
    "AWS_REGION": "region",
    "AWS_ENDPOINT_URL": "endpoint",
    "AWS_ENDPOINT_URL_S3": "endpoint",
}
#: Retry budget: obstore's backoff from 100 ms doubling up to 5 s, stopped after
#: ``max_retries`` attempts or 30 s from the first request, whichever comes first.
_INITIAL_BACKOFF = dt.timedelta(milliseconds=100)
_MAX_BACKOFF = dt.timedelta(seconds=5)
_RETRY_TIMEOUT = dt.timedelta(seconds=30)
_CONNECT_TIMEOUT = dt.timedelta(seconds=5)
_REQUEST_TIMEOUT = dt.timedelta(seconds=120)
#: The largest file ``put_file(..., if_absent=True)`` reads whole into memory for one
#: conditional PUT; a larger one is streamed to a temporary key and copied conditionally.
WHOLE_PUT_LIMIT = 8 * 1024 * 1024


def parse_s3_url(url: str) -> tuple[str, str]:
    """``(bucket, prefix)`` of ``s3://bucket/prefix`` (the prefix without its slashes at the
    ends; ``""`` for the whole bucket); ValueError for anything else."""
    rest = url.removeprefix("s3://")
    bucket, _, prefix = rest.partition("/")
    if rest == url or not bucket:
        raise ValueError(f"{url!r}: not an s3://bucket/prefix URL")
    return bucket, prefix.strip("/")


def _static_provider(profile: ProfileCredentials) -> S3CredentialProvider:
    """obstore's ``credential_provider``: the profile's static keys, which never expire."""
    credential: S3Credential = {
        "access_key_id": profile.access_key_id,
        "secret_access_key": profile.secret_access_key,
        "token": profile.session_token,
        "expires_at": None,
    }
    return lambda: credential


class S3Store:
    """:class:`~govern.store.backend.Store` over the objects under ``s3://bucket/prefix``:
    key ``a/b`` is the object ``prefix/a/b``."""

    def __init__(
        self,
        url: str,
        *,
        environ: Mapping[str, str],
        endpoint_url: str | None = None,
        region: str | None = None,
        allow_http: bool = False,
        max_retries: int = 5,
    ) -> None:
        from obstore.store import S3Store as ObstoreS3

        bucket, prefix = parse_s3_url(url)
        self.url = f"s3://{bucket}/{prefix}" if prefix else f"s3://{bucket}"
        config: dict[str, Any] = {}
        for variable, key in _ENVIRONMENT_KEYS.items():
            if environ.get(variable):
                config[key] = environ[variable]
        # Credentials: the environment's own first (obstore reads keys, web identity, then the
        # container and instance metadata services); without them, the static keys of the
        # AWS profile (~/.aws), which obstore never reads, handed over by its provider hook.
        profile = profile_credentials(environ, self.url)
        if profile is not None and profile.region:
            config.setdefault("region", profile.region)  # AWS_REGION / AWS_DEFAULT_REGION win
        # The [storage] table wins over the environment for where the store is.
        if endpoint_url is not None:
            config["endpoint"] = endpoint_url
        if region is not None:
            config["region"] = region
        self._store = ObstoreS3(
            bucket,
            prefix=prefix or None,
            config=config,  # type: ignore[arg-type]  # a dict of S3Config keys
            # A conditional copy (what a large create-if-absent upload ends in) is a multipart
            # copy whose CompleteMultipartUpload carries If-None-Match: * (AWS, SeaweedFS).
            copy_if_not_exists="multipart",
            credential_provider=None if profile is None else _static_provider(profile),
            client_options={"allow_http": allow_http, "connect_timeout": _CONNECT_TIMEOUT, "timeout": _REQUEST_TIMEOUT},
            retry_config={
                "max_retries": max_retries,
                "retry_timeout": _RETRY_TIMEOUT,
                "backoff": {"init_backoff": _INITIAL_BACKOFF, "max_backoff": _MAX_BACKOFF, "base": 2},
            },
        )

    def __repr__(self) -> str:
        return f"S3Store({self.url!r})"

    def list(self, prefix: str = "") -> Iterator[tuple[str, int]]:
        """Every key starting with ``prefix``, with its size, sorted by key (ListObjectsV2,
        page by page)."""
        import obstore

        # obstore lists by path segments ("r1" lists "r1/…", never "r10/…"): list the folder
        # that holds the prefix and keep the keys that start with it, as the protocol says.
        folder = prefix.rpartition("/")[0]
        found: list[tuple[str, int]] = []
        with self._failures("list", prefix or "/"):
            for page in obstore.list(self._store, prefix=folder or None):
                found.extend((meta["path"], meta["size"]) for meta in page if meta["path"].startswith(prefix))
        return iter(sorted(found))

    def list_level(self, prefix: str = "") -> Iterator[tuple[str, bool]]:
        """The names one level under the folder ``prefix``, each with True for a folder
        (ListObjectsV2 with ``Delimiter="/"``, every page)."""
        import obstore

        folder = prefix.rstrip("/")
        with self._failures("list", prefix or "/"):
            level = obstore.list_with_delimiter(self._store, prefix=folder or None)
        # SeaweedFS answers a folder whose last key was deleted with the folder itself as an
        # entry of its own level: never a name under it.
        names = [(path.rpartition("/")[2], True) for path in level["common_prefixes"] if path != folder]
        names.extend((meta["path"].rpartition("/")[2], False) for meta in level["objects"] if meta["path"] != folder)
        return iter(sorted(names))

    def get(self, key: str, *, start: int | None = None, end: int | None = None) -> bytes:
        """The bytes of ``key`` (or ``[start:end]`` of them: one ranged GET); KeyNotFound when absent."""
        import obstore

        check_key(key)
        first = start or 0
        ranged = (start is not None or end is not None) and first >= 0 and (end is None or end >= 0)
        if ranged and end is not None and end <= first:
            if self.stat(key) is None:  # an empty range of a missing key is still a missing key
                raise KeyNotFound(key)
            return b""
        with self._failures("get", key):
            try:
                if not ranged:
                    data = obstore.get(self._store, key).bytes().to_bytes()
                    return data if start is None and end is None else data[start:end]
                return obstore.get_range(self._store, key, start=first, end=end if end is not None else 2**63 - 1).to_bytes()
            except FileNotFoundError as missing:
                if "NoSuchBucket" in str(missing):  # a 404 for the bucket, not the key
                    raise GovernError(
                        "E_STORE_UNREACHABLE", f"{self.url}: get {key} failed: {describe_failure(missing)}"
                    ) from None
                raise KeyNotFound(key) from None
            except obstore.exceptions.GenericError as error:
                if " 416 " in str(error).split("\n", 1)[0]:
                    return b""  # a range starting past the end: nothing, as data[start:end] is
                raise

    def stat(self, key: str) -> int | None:
        """The size of ``key`` (HEAD), or None when absent."""
        import obstore

        check_key(key)
        with self._failures("stat", key):
            try:
                return int(obstore.head(self._store, key)["size"])
            except FileNotFoundError:
                return None

    def put(self, key: str, data: bytes, *, if_absent: bool = False) -> None:
        """Store ``data`` at ``key`` (one PUT: atomic); with ``if_absent`` a PUT with
        ``If-None-Match: *``, AlreadyExists when the key is there (the server decides: of two
        racing writers exactly one wins)."""
        self._put(key, bytes(data), if_absent)

    def put_file(self, key: str, path: Path, *, if_absent: bool = False) -> None:
        """Stream the local file ``path`` to ``key``: a multipart upload for a large file
        (never read whole into memory).

        With ``if_absent``, a file of up to :data:`WHOLE_PUT_LIMIT` bytes is one conditional
        PUT (read whole: small). A larger one is streamed by multipart upload to a temporary
        key (``.govern-tmp-upload-<time>-…``, a staging name that ``govern gc`` removes once old) and then copied to ``key`` by a
        multipart copy completed with ``If-None-Match: *`` — obstore has no conditional
        multipart upload, but a conditional copy — so memory stays bounded by the upload's
        parts and of two racing writers exactly one wins. The temporary key is deleted
        whatever happens (a killed process leaves it, as a staging leftover)."""
        path = Path(path)
        if not if_absent or path.stat().st_size <= WHOLE_PUT_LIMIT:
            self._put(key, path, if_absent)
            return
        self._put_large_if_absent(key, path)

    def _put_large_if_absent(self, key: str, path: Path) -> None:
        import obstore

        check_key(key)
        if self.stat(key) is not None:  # the usual loser's answer, without uploading anything
            raise AlreadyExists(key)
        # Named by the wall clock: a temporary name, never sealed output; gc ages it by this.
        staging = upload_staging_key(dt.datetime.now(dt.UTC))
        try:
            self._put(staging, path, False)
            with self._failures("put", key):
                try:
                    obstore.copy(self._store, staging, key, overwrite=False)
                except (obstore.exceptions.AlreadyExistsError, obstore.exceptions.PreconditionError):
                    raise AlreadyExists(key) from None
        finally:
            self.delete(staging)

    def _put(self, key: str, source: bytes | Path, if_absent: bool) -> None:
        import obstore

        check_key(key)
        with self._failures("put", key):
            try:
                obstore.put(self._store, key, source, mode="create" if if_absent else "overwrite")
            except (obstore.exceptions.AlreadyExistsError, obstore.exceptions.PreconditionError):
                raise AlreadyExists(key) from None

    def delete(self, key: str) -> None:
        """Remove ``key``; nothing happens when it is absent (S3's DELETE of a missing key succeeds)."""
        import obstore

        check_key(key)
        with self._failures("delete", key):
            try:
                obstore.delete(self._store, key)
            except FileNotFoundError:
                return

    @contextlib.contextmanager
    def _failures(self, action: str, key: str) -> Iterator[None]:
        """Turn what obstore raises once its retries are spent into E_STORE_UNREACHABLE naming
        the URL, the request and the reason in one line; govern's own exceptions pass through."""
        try:
            yield
        except (GovernError, KeyNotFound, AlreadyExists):
            raise
        except Exception as error:
            if not _is_obstore_error(error):
                raise
            raise GovernError("E_STORE_UNREACHABLE", f"{self.url}: {action} {key} failed: {describe_failure(error)}") from error


def _is_obstore_error(error: BaseException) -> bool:
    import obstore.exceptions

    return isinstance(error, (obstore.exceptions.BaseError, FileNotFoundError, PermissionError, ConnectionError, TimeoutError))


_XML_CODE = re.compile(r"<Code>([^<]+)</Code>")
_STATUS = re.compile(r"(\d{3} [A-Z][A-Za-z ]+?)(?::|$)")


def describe_failure(error: BaseException) -> str:
    """One line saying why a request failed: the HTTP status and S3 error code when the
    server answered, else the transport's reason (connection refused, timed out, …)."""
    text = str(error)
    head = text.split("\n", 1)[0]
    code = _XML_CODE.search(text)
    status = _STATUS.search(head.split("non-2xx status code: ", 1)[1]) if "non-2xx status code: " in head else None
    if status is not None:
        reason = status.group(1).strip()
        return f"{reason} ({code.group(1)})" if code else reason
    retries = re.search(r"after (\d+) retries", head)
    transport = re.search(r"HTTP error: ([^\n]+?)\s*$", head)
    tail = transport.group(1) if transport else head.rsplit(" - ", 1)[-1].strip()
    source = re.search(r"kind: (\w+)", text)
    reason = f"{tail} ({source.group(1).lower()})" if source else tail
    return f"{reason}, after {retries.group(1)} retries" if retries else reason
