"""Object storage behind a small Protocol: S3 through `minio`, or a folder for embedded runs."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol
from urllib.parse import quote

import msgspec

from docgen.errors import DocgenError
from docgen.settings import S3Settings

__all__ = [
    "FolderStore",
    "MaintainedStore",
    "MemoryStore",
    "ObjectStore",
    "S3Store",
    "StoredObject",
    "content_disposition",
]


class ObjectStore(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> None: ...
    def get(self, key: str) -> bytes | None: ...
    def list(self, prefix: str) -> Iterator[str]: ...
    def ping(self) -> None: ...
    def download_url(self, key: str, filename: str, expires: dt.timedelta) -> str: ...


class StoredObject(msgspec.Struct, frozen=True):
    key: str
    size: int
    modified: dt.datetime  # aware, UTC


class MaintainedStore(ObjectStore, Protocol):
    """What the consistency checker needs beyond the service's reads and writes: sizes and
    times without reading each object, and removing the leftovers of half-written versions."""

    def list_objects(self, prefix: str) -> Iterator[StoredObject]: ...
    def delete(self, key: str) -> None: ...


def content_disposition(filename: str) -> str:
    """RFC 6266 with an ASCII fallback: Chinese names survive every browser."""
    return f"attachment; filename=\"document{Path(filename).suffix}\"; filename*=UTF-8''{quote(filename)}"


def _unavailable(exc: Exception) -> DocgenError:
    return DocgenError(
        "storage.unavailable",
        "文件存储暂不可用",
        "Object storage is unavailable",
        retryable=True,
        detail=repr(exc),
    )


class S3Store:
    """S3 through the minio client; presigned URLs are signed for the public endpoint."""

    def __init__(self, settings: S3Settings) -> None:
        from minio import Minio  # the only module that imports the S3 client

        self.bucket = settings.bucket
        self._client = Minio(
            settings.endpoint,
            access_key=settings.access_key,
            secret_key=settings.secret_key,
            secure=settings.secure,
            region=settings.region,
        )
        # Signing needs no connection when the region is given (DESIGN §4).
        self._public = Minio(
            settings.public_endpoint,
            access_key=settings.access_key,
            secret_key=settings.secret_key,
            secure=settings.secure,
            region=settings.region,
        )

    def ensure_bucket(self) -> None:
        try:
            if not self._client.bucket_exists(self.bucket):
                self._client.make_bucket(self.bucket)
        except Exception as exc:
            raise _unavailable(exc) from exc

    def put(self, key: str, data: bytes, content_type: str) -> None:
        try:
            self._client.put_object(
                self.bucket, key, io.BytesIO(data), len(data), content_type=content_type
            )
        except Exception as exc:
            raise _unavailable(exc) from exc

    def get(self, key: str) -> bytes | None:
        from minio.error import S3Error

        try:
            response = self._client.get_object(self.bucket, key)
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject"):
                return None
            raise _unavailable(exc) from exc
        except Exception as exc:
            raise _unavailable(exc) from exc
        try:
            return bytes(response.read())
        finally:
            response.close()
            response.release_conn()

    def list(self, prefix: str) -> Iterator[str]:
        try:
            for obj in self._client.list_objects(self.bucket, prefix=prefix, recursive=True):
                yield obj.object_name
        except Exception as exc:
            raise _unavailable(exc) from exc

    def list_objects(self, prefix: str) -> Iterator[StoredObject]:
        try:
            for obj in self._client.list_objects(self.bucket, prefix=prefix, recursive=True):
                modified = obj.last_modified or dt.datetime.now(dt.UTC)
                yield StoredObject(obj.object_name, int(obj.size or 0), modified)
        except Exception as exc:
            raise _unavailable(exc) from exc

    def delete(self, key: str) -> None:
        try:
            self._client.remove_object(self.bucket, key)
        except Exception as exc:
            raise _unavailable(exc) from exc

    def ping(self) -> None:
        try:
            if not self._client.bucket_exists(self.bucket):
                raise DocgenError(
                    "storage.no_bucket",
                    "存储桶不存在",
                    "The bucket does not exist",
                    detail=self.bucket,
                )
        except DocgenError:
            raise
        except Exception as exc:
            raise _unavailable(exc) from exc

    def download_url(self, key: str, filename: str, expires: dt.timedelta) -> str:
        return str(
            self._public.presigned_get_object(
                self.bucket,
                key,
                expires=expires,
                response_headers={"response-content-disposition": content_disposition(filename)},
            )
        )


class FolderStore:
    """Keys as files under a folder: for embedded runs without an S3 server."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".part")
        tmp.write_bytes(data)
        tmp.replace(path)  # never a half-written file under the real name

    def get(self, key: str) -> bytes | None:
        path = self.root / key
        return path.read_bytes() if path.is_file() else None

    def list(self, prefix: str) -> Iterator[str]:
        for path in sorted(self.root.rglob("*")):
            key = path.relative_to(self.root).as_posix()
            if path.is_file() and key.startswith(prefix) and not key.endswith(".part"):
                yield key

    def list_objects(self, prefix: str) -> Iterator[StoredObject]:
        for key in self.list(prefix):
            stat = (self.root / key).stat()
            modified = dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC)
            yield StoredObject(key, stat.st_size, modified)

    def delete(self, key: str) -> None:
        (self.root / key).unlink(missing_ok=True)

    def ping(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)

    def download_url(self, key: str, filename: str, expires: dt.timedelta) -> str:
        return (self.root / key).resolve().as_uri()


class MemoryStore:
    """In-memory store for unit tests of logic; `clock` stamps each write (tests age objects)."""

    def __init__(self, clock: Callable[[], dt.datetime] | None = None) -> None:
        self.objects: dict[str, tuple[bytes, str]] = {}
        self.modified: dict[str, dt.datetime] = {}
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.objects[key] = (data, content_type)
        self.modified[key] = self._clock()

    def get(self, key: str) -> bytes | None:
        item = self.objects.get(key)
        return item[0] if item else None

    def list(self, prefix: str) -> Iterator[str]:
        yield from sorted(k for k in self.objects if k.startswith(prefix))

    def list_objects(self, prefix: str) -> Iterator[StoredObject]:
        for key in self.list(prefix):
            yield StoredObject(key, len(self.objects[key][0]), self.modified[key])

    def delete(self, key: str) -> None:
        self.objects.pop(key, None)
        self.modified.pop(key, None)

    def ping(self) -> None:
        return None

    def download_url(self, key: str, filename: str, expires: dt.timedelta) -> str:
        return f"memory://{key}?filename={quote(filename)}"
