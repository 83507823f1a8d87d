from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileRequired, MultipleFileField
from wtforms import BooleanField, TextAreaField
from wtforms.validators import DataRequired, Length


class UploadForm(FlaskForm):
    # The file types are checked by their bytes in the service, not here: the
    # browser's name and Content-Type prove nothing.
    files = MultipleFileField(
        "증빙자료 파일", validators=[FileRequired("올릴 파일을 선택하세요.")]
    )


class DeleteForm(FlaskForm):
    confirm = BooleanField(
        "삭제 확인", validators=[DataRequired("삭제하려면 '삭제 확인'에 체크하세요.")]
    )


class DownloadReasonForm(FlaskForm):
    reason = TextAreaField(
        "내려받는 사유", validators=[DataRequired("내려받는 사유를 입력하세요."),
                               Length(max=500, message="사유는 500자 이하로 입력하세요.")])
