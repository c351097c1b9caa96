"""The forms of the login and account pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, PasswordField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from .tokens import NAME_MAX

# The upper bound keeps a megabyte "password" from costing a megabyte of hashing.
PASSWORD_MAX = 1024


class LoginForm(FlaskForm):
    email = StringField(_l("Email address"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=PASSWORD_MAX)])


class CodeForm(FlaskForm):
    # Room for the spaces some apps show inside the six digits; totp.check_code drops them.
    code = StringField(_l("Code from your authenticator app"), validators=[DataRequired(), Length(max=20)])


class SwitchOffForm(CodeForm):
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=PASSWORD_MAX)])


def _at_least_one(form: FlaskForm, field: Field) -> None:
    # Not DataRequired: its "required" flag would put `required` on every checkbox, and a
    # browser would then insist on all of them.
    if not field.data:
        raise ValidationError(_l("Choose at least one."))


class TokenForm(FlaskForm):
    name = StringField(_l("What the token is for"), validators=[DataRequired(), Length(max=NAME_MAX)])
    scopes = SelectMultipleField(
        _l("What it may do"),
        validators=[_at_least_one],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
