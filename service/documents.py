"""Stored documents: a community's versions (for API clients) and signed links (for people).

Every download answers `302` to a presigned URL made on the spot and valid for minutes, so a
stable link here never expires with the storage's URL (SigV4 URLs live at most 7 days).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import anyio
import msgspec
from litestar import Request, Response, delete, get
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect

from docgen.erasure import erase_community
from docgen.errors import DocgenError, FieldProblem
from docgen.jobs import DocumentRecord, JobRecord
from docgen.keys import Caller
from docgen.links import LinkGrant, shared_url, verify_link
from docgen.schema import ATTACHMENT_IDS
from docgen.settings import Settings
from docgen.storage import Manifest, document_prefix, versions
from service.auth import OPEN, CallerDep
from service.page import (
    beijing_time,
    job_page,
    not_found_page,
    page_view,
    refused_page,
    wants_html,
)
from service.problems import problem

__all__ = ["DOWNLOAD_LINK_LIFETIME", "document_routes", "redirect_to"]

log = logging.getLogger("docgen.api")
DOWNLOAD_LINK_LIFETIME = dt.timedelta(minutes=10)  # a fresh link is signed on every click
KINDS = ("pdf", "docx", "xlsx")


class _Community(msgspec.Struct):
    name: str


class _Named(msgspec.Struct):
    """The one field of a stored input the page needs (msgspec skips the rest unread)."""

    community: _Community


def redirect_to(services: Any, key: str, filename: str) -> Response[Any]:
    url = services.store.download_url(key, filename, DOWNLOAD_LINK_LIFETIME)
    return Redirect(url, status_code=302, headers={"Cache-Control": "no-store"})


def _not_found(detail: str) -> Response[bytes]:
    return problem(404, detail, [FieldProblem("", "document.not_found", "文件不存在", detail)])


def _iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def document_routes(settings: Settings, services: Any) -> list[HTTPRouteHandler]:
    """Route handlers over `services` (the API's `Services`): listings, versions, shared links."""
    base = settings.public_base_url
    secret = settings.delivery.link_secret.encode()

    def whose(caller: Caller, tenant: str | None) -> str:
        """The tenant whose documents are read: the caller's own; an admin may name any.

        A client naming another tenant reads its own (as if the parameter were absent), so the
        answer never tells whether that tenant has the community."""
        return tenant if tenant and caller.is_admin else caller.tenant

    def version_url(
        tenant: str, community_id: str, year: int, attachment: str, n: int, kind: str
    ) -> str:
        url = (
            f"{base}/v1/communities/{community_id}/documents/{attachment}/versions/{n}/{kind}"
            f"?year={year}"
        )
        return url + f"&tenant={tenant}"

    def describe(
        tenant: str, community_id: str, year: int, attachment: str, m: Manifest
    ) -> dict[str, Any]:
        return {
            "attachment": attachment,
            "version": m.version,
            "job_id": m.job_id,
            "created_at": _iso(m.created_at),
            "pages": m.pages,
            **{
                f"{kind}_url": (
                    version_url(tenant, community_id, year, attachment, m.version, kind)
                    if kind in m.files
                    else None
                )
                for kind in KINDS
            },
        }

    def history(tenant: str, community_id: str, year: int, attachment: str) -> list[Manifest]:
        return versions(services.store, document_prefix(tenant, community_id, year, attachment))

    @get(
        "/v1/communities/{community_id:str}/documents",
        summary="The latest version of each attachment of a community and year",
    )
    async def latest_documents(
        community_id: FromPath[str],
        year: FromQuery[int],
        caller: CallerDep,
        tenant: FromQuery[str | None] = None,
    ) -> dict[str, Any]:
        owner = whose(caller, tenant)

        def read() -> list[dict[str, Any]]:
            out = []
            for attachment in ATTACHMENT_IDS:
                found = history(owner, community_id, year, attachment)
                if found:
                    out.append(describe(owner, community_id, year, attachment, found[-1]))
            return out

        documents = await anyio.to_thread.run_sync(read)
        return {"community_id": community_id, "year": year, "documents": documents}

    @delete(
        "/v1/communities/{community_id:str}",
        status_code=200,
        summary="Erase a community's year: its inputs, versions, bundles and job records",
    )
    async def erase(
        community_id: FromPath[str],
        year: FromQuery[int],
        caller: CallerDep,
        tenant: FromQuery[str | None] = None,
    ) -> Response[bytes]:
        owner = whose(caller, tenant)
        try:
            erased = await anyio.to_thread.run_sync(
                erase_community,
                services.store,
                services.jobs,
                services.versions,
                owner,
                community_id,
                year,
            )
        except DocgenError as exc:
            if exc.code != "community.busy":
                raise
            return problem(
                409,
                f"{exc.message} / {exc.message_en}",
                [FieldProblem("", exc.code, exc.message, exc.message_en)],
                headers={"Retry-After": "30"},
            )
        if erased is None:
            return _not_found(f"No community {community_id} in {year}")
        # Ids and counts only: what was removed is the record of the erasure.
        log.info(
            "community.erased tenant=%s community_id=%s year=%s jobs=%s versions=%s objects=%s",
            owner,
            community_id,
            year,
            erased.jobs,
            erased.versions,
            erased.objects,
        )
        body = {"removed": erased}
        return Response(msgspec.json.encode(body), media_type="application/json")

    @get(
        "/v1/communities/{community_id:str}/documents/{attachment:str}/versions",
        summary="Every version of one attachment, with its manifest",
    )
    async def version_history(
        community_id: FromPath[str],
        attachment: FromPath[str],
        year: FromQuery[int],
        caller: CallerDep,
        tenant: FromQuery[str | None] = None,
    ) -> Response[bytes]:
        if attachment not in ATTACHMENT_IDS:
            return _not_found(f"No attachment {attachment}")
        owner = whose(caller, tenant)
        found = await anyio.to_thread.run_sync(history, owner, community_id, year, attachment)
        body = {
            "community_id": community_id,
            "year": year,
            "attachment": attachment,
            "versions": [
                {**describe(owner, community_id, year, attachment, m), "manifest": m} for m in found
            ],
        }
        return Response(msgspec.json.encode(body), media_type="application/json")

    def stored(
        tenant: str, community_id: str, year: int, attachment: str, number: int, kind: str
    ) -> tuple[str, str] | None:
        """(key, file name) of one file of one version, if it exists."""
        if attachment not in ATTACHMENT_IDS or kind not in KINDS:
            return None
        prefix = document_prefix(tenant, community_id, year, attachment)
        raw = services.store.get(f"{prefix}v{number}/manifest.json")
        if raw is None:
            return None
        entry = msgspec.json.decode(raw, type=Manifest).files.get(kind)
        if entry is None:
            return None
        return entry.key, f"{services.file_stems[attachment]}.{kind}"

    @get(
        "/v1/communities/{community_id:str}/documents/{attachment:str}/versions/{number:int}/{kind:str}",
        status_code=302,
        summary="Redirect to a fresh short-lived link to one file of one version",
    )
    async def version_file(
        community_id: FromPath[str],
        attachment: FromPath[str],
        number: FromPath[int],
        kind: FromPath[str],
        year: FromQuery[int],
        caller: CallerDep,
        tenant: FromQuery[str | None] = None,
    ) -> Response[Any]:
        owner = whose(caller, tenant)
        found = await anyio.to_thread.run_sync(
            stored, owner, community_id, year, attachment, number, kind
        )
        if found is None:
            return _not_found(f"No {kind} of {attachment} v{number}")
        return redirect_to(services, *found)

    # -- signed links for people ----------------------------------------------------------
    # A browser gets HTML pages (service.page), any other client the JSON it always had.

    help_text = settings.delivery.link_help

    def expired_about(token: str) -> tuple[str | None, str | None]:
        """For a genuine but expired link: which documents it was for, and since when."""
        try:
            grant = verify_link(token, secret, now=0.0)  # the signature checked, not the date
        except DocgenError:
            return None, None
        found = services.jobs.get(grant.job_id)
        name = community_name(found[0]) if found else None
        expired_on = beijing_time(dt.datetime.fromtimestamp(grant.expires_at, dt.UTC))
        return (f"{name} {grant.year}年度材料" if name else None), expired_on

    async def refused(
        request: Request[Any, Any, Any], token: str, exc: DocgenError
    ) -> Response[Any]:
        if wants_html(request):
            about, expired_on = (None, None)
            if exc.code == "link.expired":
                about, expired_on = await anyio.to_thread.run_sync(expired_about, token)
            return refused_page(
                FieldProblem("", exc.code, exc.message, exc.message_en),
                help_text,
                about,
                expired_on,
            )
        return problem(
            403,
            exc.message_en,
            [FieldProblem("", exc.code, exc.message, exc.message_en)],
            title="链接无效或已过期 / Link invalid or expired",
        )

    def missing(request: Request[Any, Any, Any], token: str | None, detail: str) -> Response[Any]:
        """404; a browser's page for a missing file offers the way back to the job's page."""
        if wants_html(request):
            if token is None:
                return not_found_page(help_text)
            return not_found_page(help_text, "file", shared_url(base, token))
        return _not_found(detail)

    def community_name(job: JobRecord) -> str:
        """The name people know the community by: on the record, or (older records) in the
        stored input; the id if neither has it."""
        if job.community_name:
            return job.community_name
        raw = services.store.get(job.input_key)
        if raw is not None:
            try:
                return msgspec.json.decode(raw, type=_Named).community.name
            except msgspec.DecodeError:
                pass
        return job.community_id

    def granted_job(
        token: str,
    ) -> tuple[LinkGrant, JobRecord, list[DocumentRecord]] | DocgenError | None:
        try:
            grant = verify_link(token, secret)
        except DocgenError as exc:
            return exc
        found = services.jobs.get(grant.job_id)
        if found is None:
            return None
        job, documents = found
        # The grant names its tenant, community and year; a job elsewhere is not its business.
        if (job.tenant, job.community_id, job.year) != (
            grant.tenant,
            grant.community_id,
            grant.year,
        ):
            return None
        return grant, job, documents

    def page_of(
        token: str, grant: LinkGrant, job: JobRecord, documents: list[DocumentRecord]
    ) -> Response[str]:
        delivery = services.jobs.get_delivery(job.id)
        histories = {
            doc.attachment: history(job.tenant, job.community_id, job.year, doc.attachment)
            for doc in documents
            if doc.version is not None
        }
        view = page_view(
            job,
            community_name(job),
            documents,
            delivery.bundle,
            histories,
            services.titles,
            services.file_stems,
            lambda *path: shared_url(base, token, *path),
            grant.expires_at,
            dt.datetime.now(dt.UTC),
        )
        return job_page(view)

    @get(
        "/v1/shared/{token:str}",
        summary="What a signed link shows: the job's documents (an HTML page for browsers)",
        opt=OPEN,
    )
    async def shared_job(token: FromPath[str], request: Request[Any, Any, Any]) -> Response[Any]:
        found = await anyio.to_thread.run_sync(granted_job, token)
        if isinstance(found, DocgenError):
            return await refused(request, token, found)
        if found is None:
            return missing(request, None, "No such job")
        grant, job, documents = found
        if wants_html(request):
            return await anyio.to_thread.run_sync(page_of, token, grant, job, documents)

        def describe_all() -> list[dict[str, Any]]:
            out = []
            for doc in documents:
                earlier = [
                    m
                    for m in history(job.tenant, job.community_id, job.year, doc.attachment)
                    if doc.version is not None and m.version < doc.version
                ]
                out.append(
                    {
                        "attachment": doc.attachment,
                        "status": doc.status,
                        "version": doc.version,
                        "pages": doc.pages,
                        **{
                            f"{kind}_url": (
                                shared_url(base, token, "documents", doc.attachment, kind)
                                if doc.status == "succeeded" and getattr(doc, f"{kind}_key")
                                else None
                            )
                            for kind in KINDS
                        },
                        "earlier_versions": [
                            {
                                "version": m.version,
                                "created_at": _iso(m.created_at),
                                **{
                                    f"{kind}_url": shared_url(
                                        base,
                                        token,
                                        "versions",
                                        doc.attachment,
                                        str(m.version),
                                        kind,
                                    )
                                    for kind in m.files
                                },
                            }
                            for m in reversed(earlier)
                        ],
                    }
                )
            return out

        delivery = await anyio.to_thread.run_sync(services.jobs.get_delivery, job.id)
        body = {
            "community_id": job.community_id,
            "year": job.year,
            "job_id": job.id,
            "created_at": _iso(job.created_at),
            "documents": await anyio.to_thread.run_sync(describe_all),
            "bundle": (
                {
                    "pdf_url": shared_url(base, token, "bundle", "pdf"),
                    "zip_url": shared_url(base, token, "bundle", "zip"),
                }
                if delivery.bundle
                else None
            ),
        }
        # The same URL answers HTML to browsers: caches must keep the two apart.
        return Response(
            msgspec.json.encode(body), media_type="application/json", headers={"Vary": "Accept"}
        )

    @get(
        "/v1/shared/{token:str}/documents/{attachment:str}/{kind:str}",
        status_code=302,
        summary="A file of the job's version, through a signed link",
        opt=OPEN,
    )
    async def shared_document(
        token: FromPath[str],
        attachment: FromPath[str],
        kind: FromPath[str],
        request: Request[Any, Any, Any],
    ) -> Response[Any]:
        found = await anyio.to_thread.run_sync(granted_job, token)
        if isinstance(found, DocgenError):
            return await refused(request, token, found)
        doc = next((d for d in found[2] if d.attachment == attachment), None) if found else None
        key = getattr(doc, f"{kind}_key", None) if doc and kind in KINDS else None
        if doc is None or doc.status != "succeeded" or key is None:
            return missing(
                request, token if found else None, f"No {kind} of {attachment} in this job"
            )
        return redirect_to(services, key, f"{services.file_stems[attachment]}.{kind}")

    @get(
        "/v1/shared/{token:str}/versions/{attachment:str}/{number:int}/{kind:str}",
        status_code=302,
        summary="A file of an earlier version, through a signed link",
        opt=OPEN,
    )
    async def shared_version(
        token: FromPath[str],
        attachment: FromPath[str],
        number: FromPath[int],
        kind: FromPath[str],
        request: Request[Any, Any, Any],
    ) -> Response[Any]:
        found = await anyio.to_thread.run_sync(granted_job, token)
        if isinstance(found, DocgenError):
            return await refused(request, token, found)
        doc = next((d for d in found[2] if d.attachment == attachment), None) if found else None
        # This job's version and earlier ones: never a version made after the link.
        if doc is None or doc.version is None or number > doc.version:
            return missing(
                request,
                token if found else None,
                f"No version {number} of {attachment} for this link",
            )
        _, job, _ = found  # type: ignore[misc]
        file = await anyio.to_thread.run_sync(
            stored, job.tenant, job.community_id, job.year, attachment, number, kind
        )
        if file is None:
            return missing(request, token, f"No {kind} of {attachment} v{number}")
        return redirect_to(services, *file)

    @get(
        "/v1/shared/{token:str}/bundle/{kind:str}",
        status_code=302,
        summary="The job's bundle (one PDF, or a ZIP of every file), through a signed link",
        opt=OPEN,
    )
    async def shared_bundle(
        token: FromPath[str], kind: FromPath[str], request: Request[Any, Any, Any]
    ) -> Response[Any]:
        found = await anyio.to_thread.run_sync(granted_job, token)
        if isinstance(found, DocgenError):
            return await refused(request, token, found)
        if found is None:
            return missing(request, None, "No such job")
        delivery = await anyio.to_thread.run_sync(services.jobs.get_delivery, found[1].id)
        answer = bundle_redirect(services, delivery.bundle, kind)
        if answer.status_code == 404 and wants_html(request):
            return missing(request, token, "")
        return answer

    return [
        latest_documents,
        erase,
        version_history,
        version_file,
        shared_job,
        shared_document,
        shared_version,
        shared_bundle,
    ]


def bundle_redirect(services: Any, bundle: Any, kind: str) -> Response[Any]:
    key = {"pdf": bundle.pdf_key, "zip": bundle.zip_key}.get(kind) if bundle else None
    if key is None:
        return _not_found(f"No bundle {kind} (yet)")
    return redirect_to(services, key, key.rsplit("/", 1)[-1])
