"""Human-readable texts of pass assessments, in Vietnamese and English.

Texts hold no personal data: no names, birth dates or certificate identifiers; only dose
counts, product names, test kinds and the pass's own validity dates.  Vietnamese dates are
written ``dd/mm/yyyy`` (the usage on Vietnamese documents), English ones ``yyyy-mm-dd``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from enum import StrEnum
from typing import Final

__all__ = ["LANGUAGES", "Pass", "Reason", "colour_label", "render"]

#: Languages every text exists in.
LANGUAGES: Final = ("vi", "en")


class Pass(StrEnum):
    """The colour a checkpoint shows."""

    GREEN = "GREEN"
    YELLOW = "YELLOW"
    RED = "RED"


class Reason(StrEnum):
    """Why an assessment has its colour (stable strings: tools parse them)."""

    # passes
    FULLY_VACCINATED = "FULLY_VACCINATED"
    BOOSTER = "BOOSTER"
    PARTIALLY_VACCINATED = "PARTIALLY_VACCINATED"
    RECOVERED = "RECOVERED"
    NEGATIVE_TEST = "NEGATIVE_TEST"
    # authentic certificates that grant no pass (now)
    TOO_SOON_AFTER_DOSE = "TOO_SOON_AFTER_DOSE"
    PASS_NOT_YET_VALID = "PASS_NOT_YET_VALID"  # noqa: S105 - a reason code, not a secret
    PASS_EXPIRED = "PASS_EXPIRED"  # noqa: S105 - a reason code, not a secret
    PRODUCT_NOT_ACCEPTED = "PRODUCT_NOT_ACCEPTED"
    PARTIAL_NOT_ACCEPTED = "PARTIAL_NOT_ACCEPTED"
    VACCINATION_IN_FUTURE = "VACCINATION_IN_FUTURE"
    TEST_DETECTED = "TEST_DETECTED"
    SAMPLE_IN_FUTURE = "SAMPLE_IN_FUTURE"
    TEST_NOT_ACCEPTED = "TEST_NOT_ACCEPTED"
    TEST_TYPE_NOT_ACCEPTED = "TEST_TYPE_NOT_ACCEPTED"
    RECOVERY_NOT_ACCEPTED = "RECOVERY_NOT_ACCEPTED"
    WRONG_DISEASE = "WRONG_DISEASE"
    CERTIFICATE_INVALID = "CERTIFICATE_INVALID"
    RULE_FAILED = "RULE_FAILED"  # a business rule (rules as data) without a more specific reason
    # verification failures
    NOT_AUTHENTIC = "NOT_AUTHENTIC"
    CERTIFICATE_EXPIRED = "CERTIFICATE_EXPIRED"
    CERTIFICATE_NOT_YET_VALID = "CERTIFICATE_NOT_YET_VALID"
    REVOKED = "REVOKED"
    TRUST_UNAVAILABLE = "TRUST_UNAVAILABLE"
    # nothing to assess
    NO_QR_FOUND = "NO_QR_FOUND"
    QR_UNREADABLE = "QR_UNREADABLE"
    IMAGE_UNREADABLE = "IMAGE_UNREADABLE"
    NOT_A_CERTIFICATE = "NOT_A_CERTIFICATE"


_COLOURS: Final[Mapping[str, Mapping[Pass, str]]] = {
    "vi": {Pass.GREEN: "XANH", Pass.YELLOW: "VÀNG", Pass.RED: "ĐỎ"},
    "en": {Pass.GREEN: "GREEN", Pass.YELLOW: "YELLOW", Pass.RED: "RED"},
}

# Templates.  Placeholders: {dn} {sd} {days} {product} {test}; {from} the pass's start, {until}
# its end as a phrase ("through <day>"), {end} the instant it ends written like a start.
# A key (reason, colour) overrides the plain reason key for that colour.
_TEXTS: Final[Mapping[str, Mapping[Reason | tuple[Reason, Pass], str]]] = {
    "vi": {
        Reason.FULLY_VACCINATED: "Đã tiêm đủ liều ({dn}/{sd} mũi); thẻ có hiệu lực {until}.",
        Reason.BOOSTER: "Đã tiêm mũi nhắc lại ({dn}/{sd}); thẻ có hiệu lực {until}.",
        Reason.PARTIALLY_VACCINATED: "Đã tiêm {dn}/{sd} mũi (chưa đủ liều); thẻ có hiệu lực {until}.",
        Reason.RECOVERED: "Đã khỏi bệnh COVID-19; thẻ có hiệu lực {until}.",
        Reason.NEGATIVE_TEST: "Xét nghiệm {test} âm tính; thẻ có hiệu lực {until}.",
        Reason.TOO_SOON_AFTER_DOSE: "Mũi tiêm cuối chưa đủ {days} ngày; thẻ có hiệu lực từ {from}.",
        (Reason.TOO_SOON_AFTER_DOSE, Pass.YELLOW): (
            "Đã tiêm {dn}/{sd} mũi nhưng mũi cuối chưa đủ {days} ngày: "
            "tính là tiêm chưa đủ liều, đủ liều từ {end}."
        ),
        Reason.PASS_NOT_YET_VALID: "Chưa có hiệu lực; thẻ có hiệu lực từ {from}.",
        Reason.PASS_EXPIRED: "Thẻ đã hết hiệu lực (hiệu lực {until}).",
        Reason.PRODUCT_NOT_ACCEPTED: "Vắc xin không được chấp nhận theo quy định áp dụng: {product}.",
        Reason.PARTIAL_NOT_ACCEPTED: "Chưa tiêm đủ liều ({dn}/{sd} mũi); không chấp nhận tiêm chưa đủ liều.",
        Reason.VACCINATION_IN_FUTURE: "Ngày tiêm ở tương lai.",
        Reason.TEST_DETECTED: "Kết quả xét nghiệm: dương tính với SARS-CoV-2.",
        Reason.SAMPLE_IN_FUTURE: "Thời điểm lấy mẫu xét nghiệm ở tương lai.",
        Reason.TEST_NOT_ACCEPTED: "Không chấp nhận giấy chứng nhận xét nghiệm.",
        Reason.TEST_TYPE_NOT_ACCEPTED: "Không chấp nhận loại xét nghiệm này ({test}).",
        Reason.RECOVERY_NOT_ACCEPTED: "Không chấp nhận giấy chứng nhận khỏi bệnh.",
        Reason.WRONG_DISEASE: "Không phải chứng nhận về COVID-19.",
        Reason.CERTIFICATE_INVALID: "Nội dung chứng nhận không hợp lệ.",
        Reason.RULE_FAILED: "Không đáp ứng một quy định đang áp dụng (xem quy định không đạt).",
        Reason.NOT_AUTHENTIC: "Chứng nhận không xác thực được hoặc không đọc được.",
        Reason.CERTIFICATE_EXPIRED: "Chứng nhận đã hết hạn.",
        Reason.CERTIFICATE_NOT_YET_VALID: "Chứng nhận chưa có hiệu lực.",
        Reason.REVOKED: "Chứng nhận đã bị thu hồi.",
        Reason.TRUST_UNAVAILABLE: (
            "Danh sách tin cậy hoặc danh sách thu hồi của điểm kiểm tra đã cũ hoặc không dùng được: "
            "hãy cập nhật."
        ),
        Reason.NO_QR_FOUND: (
            "Không tìm thấy mã QR. Hãy chụp lại: giữ máy thật chắc, để mã QR chiếm gần hết khung hình "
            "và chụp nơi đủ sáng (tránh bị loá)."
        ),
        Reason.QR_UNREADABLE: (
            "Thấy mã QR nhưng không đọc được (bị mờ, hỏng hoặc nghiêng). Hãy chụp lại: giữ máy thật chắc, "
            "chụp thẳng và gần hơn, nơi đủ sáng."
        ),
        Reason.IMAGE_UNREADABLE: "Không đọc được ảnh (không phải tệp ảnh, hoặc tệp bị hỏng).",
        Reason.NOT_A_CERTIFICATE: "Mã QR không phải là chứng nhận y tế.",
    },
    "en": {
        Reason.FULLY_VACCINATED: "Fully vaccinated ({dn}/{sd} doses); pass valid {until}.",
        Reason.BOOSTER: "Booster dose ({dn}/{sd}); pass valid {until}.",
        Reason.PARTIALLY_VACCINATED: "Partly vaccinated ({dn} of {sd} doses); pass valid {until}.",
        Reason.RECOVERED: "Recovered from COVID-19; pass valid {until}.",
        Reason.NEGATIVE_TEST: "Negative {test}; pass valid {until}.",
        Reason.TOO_SOON_AFTER_DOSE: "Last dose less than {days} days ago; the pass starts {from}.",
        (Reason.TOO_SOON_AFTER_DOSE, Pass.YELLOW): (
            "{dn}/{sd} doses, but the last one is less than {days} days old: "
            "partly vaccinated, fully vaccinated from {end}."
        ),
        Reason.PASS_NOT_YET_VALID: "Not valid yet; the pass starts {from}.",
        Reason.PASS_EXPIRED: "The pass has expired (valid {until}).",
        Reason.PRODUCT_NOT_ACCEPTED: "Vaccine not accepted by the policy in force: {product}.",
        Reason.PARTIAL_NOT_ACCEPTED: (
            "Not fully vaccinated ({dn}/{sd} doses); partial vaccination is not accepted."
        ),
        Reason.VACCINATION_IN_FUTURE: "The vaccination date is in the future.",
        Reason.TEST_DETECTED: "Test result: SARS-CoV-2 detected (positive).",
        Reason.SAMPLE_IN_FUTURE: "The test's sample collection time is in the future.",
        Reason.TEST_NOT_ACCEPTED: "Test certificates are not accepted.",
        Reason.TEST_TYPE_NOT_ACCEPTED: "This type of test is not accepted ({test}).",
        Reason.RECOVERY_NOT_ACCEPTED: "Recovery certificates are not accepted.",
        Reason.WRONG_DISEASE: "Not a COVID-19 certificate.",
        Reason.CERTIFICATE_INVALID: "The certificate's content is invalid.",
        Reason.RULE_FAILED: "Does not meet a rule of the policy in force (see the failed rules).",
        Reason.NOT_AUTHENTIC: "The certificate is not authentic or cannot be read.",
        Reason.CERTIFICATE_EXPIRED: "The certificate has expired.",
        Reason.CERTIFICATE_NOT_YET_VALID: "The certificate is not valid yet.",
        Reason.REVOKED: "The certificate has been revoked.",
        Reason.TRUST_UNAVAILABLE: (
            "The checkpoint's trust or revocation list is out of date or unusable: update it."
        ),
        Reason.NO_QR_FOUND: (
            "No QR code found. Retake the picture: hold the phone steady, let the code fill most of the "
            "frame, and add light (avoid glare)."
        ),
        Reason.QR_UNREADABLE: (
            "A QR code was found but could not be read (blurred, damaged or at an angle). Retake it: hold "
            "steady, straight on and closer, with more light."
        ),
        Reason.IMAGE_UNREADABLE: "The image cannot be read (not a picture, or a damaged file).",
        Reason.NOT_A_CERTIFICATE: "The QR code is not a health certificate.",
    },
}

_BY_THE_RULES: Final[Mapping[str, str]] = {
    "vi": "theo quy định đang áp dụng",
    "en": "as the rules in force say",
}

_TEST_KINDS: Final[Mapping[str, Mapping[str, str]]] = {
    "vi": {"naat": "RT-PCR", "rat": "nhanh kháng nguyên", "other": "không rõ loại"},
    "en": {"naat": "RT-PCR (NAAT) test", "rat": "rapid antigen test", "other": "test of unknown type"},
}


def colour_label(colour: Pass, lang: str) -> str:
    """The colour's name in ``lang`` ("XANH" / "GREEN")."""
    return _COLOURS[_lang(lang)][colour]


def _lang(lang: str) -> str:
    if lang not in LANGUAGES:
        raise ValueError(f"unsupported language {lang!r}; use one of {', '.join(LANGUAGES)}")
    return lang


def _date_text(day: dt.date, lang: str) -> str:
    return day.strftime("%d/%m/%Y") if lang == "vi" else day.isoformat()


def _from_text(moment: dt.datetime | None, lang: str) -> str:
    if moment is None:
        return "-"
    if moment.time() == dt.time(0, 0):
        return _date_text(moment.date(), lang)
    hhmm = moment.strftime("%H:%M")
    return f"{hhmm} {'ngày ' if lang == 'vi' else ''}{_date_text(moment.date(), lang)}"


def _until_text(moment: dt.datetime | None, lang: str) -> str:
    """The end of a pass: local midnight means "through the day before"."""
    if moment is None:
        return "không thời hạn" if lang == "vi" else "with no end date"
    if moment.time() == dt.time(0, 0):
        last = _date_text(moment.date() - dt.timedelta(days=1), lang)
        return f"đến hết ngày {last}" if lang == "vi" else f"through {last}"
    hhmm = moment.strftime("%H:%M")
    day = _date_text(moment.date(), lang)
    return f"đến {hhmm} ngày {day}" if lang == "vi" else f"until {hhmm} on {day}"


def render(
    reason: Reason,
    colour: Pass,
    lang: str,
    *,
    valid_from: dt.datetime | None,
    valid_until: dt.datetime | None,
    details: Mapping[str, str | int],
    window_known: bool = True,
) -> str:
    """The text of one assessment in ``lang``; times are shown in their own (local) offset.

    ``window_known=False`` (a pass decided by business rules, which state no validity window)
    writes "as the rules in force say" where the text would give the pass's dates.
    """
    texts = _TEXTS[_lang(lang)]
    template = texts.get((reason, colour)) or texts[reason]
    test = str(details.get("test", "other"))
    values: dict[str, str | int] = {
        "dn": details.get("dn", "?"),
        "sd": details.get("sd", "?"),
        "days": details.get("days", "?"),
        "product": details.get("product", "?"),
        "test": _TEST_KINDS[lang].get(test, test),
        "from": _from_text(valid_from, lang),
        "until": _until_text(valid_until, lang),
        "end": _from_text(valid_until, lang),
    }
    if not window_known:
        unknown = _BY_THE_RULES[lang]
        values.update({"from": unknown, "until": unknown, "end": unknown})
    return template.format_map(values)
