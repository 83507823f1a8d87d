"""The JSON API's shapes (marshmallow): what a request may send and what each answer holds.

The OpenAPI document is generated from these, so they say exactly what the views return:
every field that can be null says so.
"""

from __future__ import annotations

from flask_smorest.fields import Upload
from marshmallow import EXCLUDE, Schema, fields, validate

from auditflow.reports.item_search import PER_PAGE
from auditflow.services.limits import COMMENT_MAX, REASON_MAX, SEARCH_MAX
from auditflow.vocabulary import Category, HistoryKind, State


class Strict(Schema):
    """A request body: unknown fields are refused, not silently dropped."""


class Lenient(Schema):
    class Meta:
        unknown = EXCLUDE


# ── answers ──────────────────────────────────────────────────────────────────
class Ref(Schema):
    id = fields.Int(required=True)
    name = fields.Str(required=True)


class AuditRef(Schema):
    id = fields.Int(required=True)
    year = fields.Int(required=True)
    title = fields.Str(required=True)


class AuditOut(AuditRef):
    body = fields.Str(required=True, metadata={"description": "감사 기관"})
    organisation = fields.Str(required=True, metadata={"description": "수감 기관"})
    received_on = fields.Date(required=True, allow_none=True)
    reference_date = fields.Date(required=True, allow_none=True)


class TeamOut(Schema):
    id = fields.Int(required=True)
    code = fields.Str(required=True)
    name = fields.Str(required=True)
    kind = fields.Str(required=True)
    parent_id = fields.Int(required=True, allow_none=True)


class Teams(Schema):
    lead = fields.Nested(Ref, required=True, allow_none=True)
    supporting = fields.List(fields.Nested(Ref), required=True)


class ActionOut(Schema):
    trigger = fields.Str(required=True)
    label = fields.Str(required=True)
    reason_required = fields.Bool(required=True)
    reason_label = fields.Str(required=True, allow_none=True)
    confirm = fields.Bool(required=True)
    hint = fields.Str(required=True, allow_none=True)


class RecommendationRow(Schema):
    id = fields.Int(required=True)
    number = fields.Int(required=True)
    audit = fields.Nested(AuditRef, required=True)
    category = fields.Str(required=True, validate=validate.OneOf([c.value for c in Category]))
    category_label = fields.Str(required=True)
    council_text = fields.Str(required=True)
    state = fields.Str(required=True, validate=validate.OneOf([s.value for s in State]))
    state_label = fields.Str(required=True)
    returned = fields.Bool(required=True, metadata={"description": "보완 요청으로 돌아온 항목"})
    teams = fields.Nested(Teams, required=True)
    due_date = fields.Date(required=True, allow_none=True)
    action_details = fields.Str(required=True, allow_none=True, metadata={"description": "추진내용"})
    future_plan = fields.Str(required=True, allow_none=True, metadata={"description": "향후계획"})
    version = fields.Int(required=True)


class RecommendationOut(RecommendationRow):
    allowed_actions = fields.List(fields.Nested(ActionOut), required=True)


class RecommendationPage(Schema):
    items = fields.List(fields.Nested(RecommendationRow), required=True)
    per_page = fields.Int(required=True)
    total = fields.Int(required=True, allow_none=True,
                       metadata={"description": "검색어(q)가 있으면 세지 않습니다(null)."})
    next_after = fields.Str(required=True, allow_none=True,
                            metadata={"description": "다음 쪽: 이 값을 after로 보내세요."})


class HistoryOut(Schema):
    id = fields.Int(required=True)
    at = fields.DateTime(required=True)
    kind = fields.Str(required=True, validate=validate.OneOf([k.value for k in HistoryKind]))
    actor = fields.Nested(Ref, required=True, allow_none=True)
    trigger = fields.Str(required=True, allow_none=True)
    from_state = fields.Str(required=True, allow_none=True)
    to_state = fields.Str(required=True, allow_none=True)
    field = fields.Str(required=True, allow_none=True)
    old_value = fields.Str(required=True, allow_none=True)
    new_value = fields.Str(required=True, allow_none=True)
    comment = fields.Str(required=True, allow_none=True)


class EvidenceOut(Schema):
    id = fields.Int(required=True)
    name = fields.Str(required=True)
    version = fields.Int(required=True)
    size = fields.Int(required=True)
    sha256 = fields.Str(required=True)
    content_type = fields.Str(required=True)
    uploaded_by = fields.Nested(Ref, required=True)
    uploaded_at = fields.DateTime(required=True)
    download = fields.Str(required=True, metadata={"description": "내려받을 주소"})


class CommentOut(Schema):
    id = fields.Int(required=True)
    author = fields.Nested(Ref, required=True)
    body = fields.Str(required=True)
    created_at = fields.DateTime(required=True)


class SummaryRowOut(Schema):
    category = fields.Str(required=True)
    total = fields.Int(required=True)
    received = fields.Int(required=True)
    in_progress = fields.Int(required=True)
    reviewing = fields.Int(required=True)
    completed = fields.Int(required=True)
    not_reflected = fields.Int(required=True)


class SummaryAudit(Schema):
    id = fields.Int(required=True)
    title = fields.Str(required=True)


class SummaryOut(Schema):
    audit = fields.Nested(SummaryAudit, required=True)
    as_of = fields.Date(required=True)
    rows = fields.List(fields.Nested(SummaryRowOut), required=True)


class Problem(Schema):
    """RFC 9457 problem details, with the stable ``code``."""

    type = fields.Str(required=True)
    title = fields.Str(required=True)
    status = fields.Int(required=True)
    detail = fields.Str(required=True)
    code = fields.Str(required=True)
    field = fields.Str(metadata={"description": "잘못된 입력 항목 (422)"})
    errors = fields.Dict(keys=fields.Str(), values=fields.List(fields.Str()))
    request_id = fields.Str(metadata={"description": "요청 번호: 문의할 때 알려 주세요"})


# ── requests ─────────────────────────────────────────────────────────────────
class ListArgs(Lenient):
    audit = fields.Int(validate=validate.Range(min=1, max=2**31 - 1))
    category = fields.Str(validate=validate.OneOf([c.value for c in Category]))
    state = fields.Str(validate=validate.OneOf([s.value for s in State]))
    team = fields.Int(validate=validate.Range(min=1, max=2**31 - 1))
    overdue = fields.Bool(load_default=False)
    q = fields.Str(load_default="", validate=validate.Length(max=SEARCH_MAX))
    after = fields.Str(validate=validate.Length(max=40),
                       metadata={"description": "앞 쪽 응답의 next_after"})
    per_page = fields.Int(load_default=PER_PAGE, validate=validate.Range(min=1, max=100))


class SummaryArgs(Lenient):
    audit = fields.Int(validate=validate.Range(min=1, max=2**31 - 1),
                       metadata={"description": "기본: 가장 최근 감사"})
    as_of = fields.Date(metadata={"description": "기준일 (기본: 오늘)"})


class ReportArgs(Lenient):
    as_of = fields.Date(metadata={"description": "기준일 (기본: 오늘, 오늘 이후는 안 됨)"})
    due_changes = fields.Bool(load_default=True,
                              metadata={"description": "기한 변경 내역을 넣을지 (기본: 넣음)"})


class ActionIn(Strict):
    version = fields.Int(required=True, strict=True,
                         metadata={"description": "화면(응답)에서 본 항목의 version"})
    reason = fields.Str(allow_none=True, validate=validate.Length(max=REASON_MAX))
    confirm = fields.Bool(load_default=False, truthy={True}, falsy={False},
                          metadata={"description": "미반영·재추진처럼 확인이 필요한 동작"})


class CommentIn(Strict):
    body = fields.Str(required=True, validate=validate.Length(min=1, max=COMMENT_MAX))


class UploadIn(Lenient):
    files = fields.List(Upload(), required=True, validate=validate.Length(min=1, max=20),
                        metadata={"description": "PDF, HWP, HWPX, DOCX, XLSX, PPTX, PNG, JPEG"})
