"""Extensions are made once here and bound to an application in ``create_app``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()

# The base of every model. At run time it is Flask-SQLAlchemy's ``db.Model`` (made
# from ``Base``); the type checker, which cannot see through ``db.Model``, is told
# it is ``Base``, whose typed SQLAlchemy 2 mapping it understands.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model
