"""Stored files in an S3-compatible object store, for several machines.

``AUDITFLOW_STORAGE_URL=s3://bucket/prefix`` (with ``AUDITFLOW_S3_ENDPOINT_URL`` for a
store other than AWS, and the key settings). Uploads still stream into a temp file on
this machine's disk first (:class:`~auditflow.storage.files.TempFiles`): the content
checks read it there, and nothing reaches the bucket before they passed.

The transactional guarantees are the folder's (:mod:`.transactional`): :meth:`commit`
uploads the temp file to its final object just before the database commit, the object
is deleted when that commit fails or the transaction is rolled back, and a crash in
between leaves at worst an object no row refers to, never a row whose file is missing.
Objects are ``<prefix>/<key[:2]>/<key>``, as the folder's files; keys are random, so a
key is never written twice and an upload never replaces anything (checked anyway).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, cast
from urllib.parse import urlsplit

from .backend import StorageUnavailable, check_key, is_key
from .files import TempFiles

__all__ = ["S3Store", "parse_url"]

_MISSING = {"404", "NoSuchKey", "NotFound"}


def parse_url(url: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` → (``bucket``, ``some/prefix``); ValueError otherwise."""
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(f"not an s3://bucket/prefix address: {url!r}")
    return parts.netloc, parts.path.strip("/")


def _error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


class S3Store(TempFiles):
    """Committed files as objects of ``bucket`` under ``prefix``; temp files in ``tmp_dir``."""

    def __init__(self, bucket: str, prefix: str, tmp_dir: str | os.PathLike[str], *,
                 client: Any = None, endpoint_url: str | None = None,
                 access_key_id: str | None = None, secret_access_key: str | None = None,
                 region: str | None = None):
        super().__init__(tmp_dir)
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        if client is None:
            import boto3
            from botocore.config import Config

            client = boto3.client(
                "s3", endpoint_url=endpoint_url, aws_access_key_id=access_key_id,
                aws_secret_access_key=secret_access_key, region_name=region,
                # Path-style addresses work with every S3-compatible server (MinIO, Ceph).
                config=Config(s3={"addressing_style": "path"},
                              retries={"max_attempts": 3, "mode": "standard"}),
            )
        self.client = client
        from botocore.exceptions import BotoCoreError, ClientError

        self._errors: tuple[type[BaseException], ...] = (BotoCoreError, ClientError)

    def object_key(self, key: str) -> str:
        key = check_key(key)
        return f"{self.prefix}/{key[:2]}/{key}" if self.prefix else f"{key[:2]}/{key}"

    # -- writing -------------------------------------------------------------

    def commit(self, temp_path: Path, key: str) -> str:
        """Upload a saved temp file as the object of ``key``, then remove the temp file."""
        temp_path = self._temp(temp_path)
        name = self.object_key(key)
        if self.exists(key):
            raise FileExistsError(f"storage key already in use: {key}")
        try:
            # upload_file switches to a multipart upload for large files; either way the
            # object appears whole or not at all.
            self.client.upload_file(str(temp_path), self.bucket, name,
                                    ExtraArgs={"ContentType": "application/octet-stream"})
        except self._errors as exc:
            raise StorageUnavailable(f"could not store {key} in s3://{self.bucket}: {exc}") \
                from exc
        temp_path.unlink(missing_ok=True)
        return name

    def remove(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self.object_key(key))
        except self._errors as exc:
            raise StorageUnavailable(f"could not remove {key} from s3://{self.bucket}: {exc}") \
                from exc

    # -- reading -------------------------------------------------------------

    def _head(self, key: str) -> dict[str, Any] | None:
        try:
            return cast(dict[str, Any],
                        self.client.head_object(Bucket=self.bucket, Key=self.object_key(key)))
        except self._errors as exc:
            if _error_code(exc) in _MISSING:
                return None
            raise StorageUnavailable(f"could not read {key} in s3://{self.bucket}: {exc}") \
                from exc

    def exists(self, key: str) -> bool:
        return self._head(key) is not None

    def size(self, key: str) -> int:
        head = self._head(key)
        if head is None:
            raise FileNotFoundError(f"no stored file {key}")
        return int(head["ContentLength"])

    def open(self, key: str) -> BinaryIO:
        """The object's bytes as a stream (read in chunks, closed by the caller)."""
        try:
            found = self.client.get_object(Bucket=self.bucket, Key=self.object_key(key))
        except self._errors as exc:
            if _error_code(exc) in _MISSING:
                raise FileNotFoundError(f"no stored file {key}") from exc
            raise StorageUnavailable(f"could not read {key} in s3://{self.bucket}: {exc}") \
                from exc
        return cast(BinaryIO, found["Body"])

    def listing(self) -> Iterator[tuple[str, float]]:
        start = f"{self.prefix}/" if self.prefix else ""
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=start)
            for page in pages:
                for item in page.get("Contents", ()):
                    key = str(item["Key"])[len(start):]
                    folder, _, name = key.partition("/")
                    if folder == name[:2] and is_key(name):
                        yield name, item["LastModified"].timestamp()
        except self._errors as exc:
            raise StorageUnavailable(f"could not list s3://{self.bucket}/{start}: {exc}") \
                from exc

    def local_path(self, key: str) -> None:
        return None
