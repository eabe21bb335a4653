"""Links for people, webhook signatures and destinations, the email's parts."""

from __future__ import annotations

import email
import time

import pytest

from docgen.errors import DocgenError
from docgen.links import LinkGrant, sign_link, verify_link
from docgen.mail import MailContent, MailDocument, compose
from docgen.webhooks import check_destination, sign, verify

SECRET = b"a test secret of enough length...."


def grant(expires_in: float = 3600) -> LinkGrant:
    return LinkGrant("default", "rail-2026", 2026, "job1", int(time.time() + expires_in))


def test_a_signed_link_gives_back_its_grant() -> None:
    g = grant()
    assert verify_link(sign_link(g, SECRET), SECRET) == g


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # signature changed
        lambda t: "eyJ0IjoieCJ9" + t[t.index(".") :],  # payload swapped
        lambda t: t.split(".")[0],  # signature removed
        lambda t: "",
    ],
)
def test_a_forged_link_is_refused(tamper) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DocgenError) as refused:
        verify_link(tamper(sign_link(grant(), SECRET)), SECRET)
    assert refused.value.code == "link.invalid"


def test_a_link_signed_with_another_secret_is_refused() -> None:
    with pytest.raises(DocgenError, match=r"link\.invalid"):
        verify_link(sign_link(grant(), b"another secret"), SECRET)


def test_an_expired_link_is_refused_with_its_own_code() -> None:
    with pytest.raises(DocgenError) as refused:
        verify_link(sign_link(grant(expires_in=-1), SECRET), SECRET)
    assert refused.value.code == "link.expired"
    assert "过期" in refused.value.message


def test_a_webhook_signature_verifies_and_a_changed_body_does_not() -> None:
    now = int(time.time())
    header = sign(b'{"id":"1"}', SECRET, now)
    assert header.startswith(f"t={now},v1=")
    assert verify(header, b'{"id":"1"}', SECRET)
    assert not verify(header, b'{"id":"2"}', SECRET)
    assert not verify(header, b'{"id":"1"}', b"other")
    assert not verify(sign(b"x", SECRET, now - 3600), b"x", SECRET)  # a replay


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://10.1.2.3/hook",
        "https://192.168.0.10/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "http://93.184.215.14/hook",  # plain http
        "ftp://example.org/hook",
    ],
)
def test_internal_and_plain_http_destinations_are_refused(url: str) -> None:
    with pytest.raises(DocgenError) as refused:
        check_destination(url, allow_http=False, allow_private=False)
    assert refused.value.code == "webhook.destination"


def test_configuration_may_allow_loopback_and_http_for_tests() -> None:
    check_destination("http://127.0.0.1:9/hook", allow_http=True, allow_private=True)


def test_the_email_has_a_text_and_an_html_part_with_every_link() -> None:
    content = MailContent(
        community_name="全国轨道交通装备行业产教融合共同体",
        year=2026,
        status="partial",
        documents=[
            MailDocument(
                "附件1 行业发展分析报告", 1, 2, "https://x/p1", "https://x/d1", None, None
            ),
            MailDocument("附件5 申报书", None, None, None, None, None, "PDF 转换超时"),
        ],
        warnings=["联系人姓名中的“\U0001f600”无法显示"],
        share_url="https://x/share",
        links_expire_on="2026年12月29日",
    )
    message = email.message_from_bytes(
        compose(content, "docgen@example.org", "teacher@example.org").as_bytes()
    )
    assert "全国轨道交通装备行业产教融合共同体 2026年度材料部分生成失败" in str(
        email.header.make_header(email.header.decode_header(message["Subject"]))
    )
    parts = {
        p.get_content_type(): p.get_payload(decode=True).decode()
        for p in message.walk()
        if not p.is_multipart()
    }
    for kind in ("text/plain", "text/html"):
        body = parts[kind]
        for needle in (
            "https://x/p1",
            "https://x/d1",
            "https://x/share",
            "PDF 转换超时",
            "无法显示",
        ):
            assert needle in body, (kind, needle)
