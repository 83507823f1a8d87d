from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileRequired, MultipleFileField
from wtforms import BooleanField
from wtforms.validators import DataRequired


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
