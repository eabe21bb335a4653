"""Phones follow the contract's patterns exactly; emails and callback URLs are sane."""

from __future__ import annotations

import pytest

from docgen.contacts import email_problem, is_email, is_phone, phone_problem, webhook_url_problem


@pytest.mark.parametrize(
    "phone",
    [
        "13807310001",
        "19912345678",
        "0731-28880001",
        "073128880001",
        "010-6609786",
        "010-66097867",
        "010-66097867-1",
        "0731-28880001-123456",
        "400-123-4567",
        "4001234567",
        "800-1234567",
    ],
)
def test_phones_the_contract_accepts_are_accepted(phone: str) -> None:
    assert is_phone(phone)
    assert phone_problem("p", phone) is None


@pytest.mark.parametrize(
    "phone",
    [
        "12807310001",  # 12x is not a mobile prefix
        "1380731000",
        "138073100011",
        "13807310001\n",  # `$` would have let this through
        "１３８07310001",  # full-width digits
        "0731 28880001",
        "(0731)28880001",
        "+8613807310001",
        "0731-28880001-1234567",
        "500-123-4567",
        "",
    ],
)
def test_other_phones_are_refused_with_the_rule(phone: str) -> None:
    problem = phone_problem("community.head.phone", phone)
    assert problem is not None
    assert (problem.path, problem.code) == ("community.head.phone", "phone.invalid")
    assert "手机号" in problem.message and "mobile" in problem.message_en


@pytest.mark.parametrize(
    "email", ["lina@rail-community.example.cn", "a.b+tag@x.edu.cn", "admin@例子.中国"]
)
def test_valid_emails(email: str) -> None:
    assert is_email(email)


@pytest.mark.parametrize(
    "email", ["lina", "lina@", "@x.cn", "a@b", "a@-x.cn", "a@x..cn", "张三@x.cn", "a b@x.cn"]
)
def test_invalid_emails(email: str) -> None:
    problem = email_problem("notify.emails[0]", email)
    assert problem is not None and problem.code == "email.invalid"


def test_callback_urls_must_be_absolute_web_urls() -> None:
    assert webhook_url_problem("u", "https://platform.example.cn/hooks/docgen") is None
    for url in ("ftp://x.cn/a", "platform.example.cn/hook", "https://", "http://[::1"):
        problem = webhook_url_problem("u", url)
        assert problem is not None and problem.code == "url.invalid"
