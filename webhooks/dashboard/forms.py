"""The dashboard's forms (Flask-WTF: each carries its CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

SKILLS = [
    SelectChoice("domestic_abuse", "Domestic abuse"),
    SelectChoice("sexual_harm", "Sexual harm"),
    SelectChoice("young_people", "Young people"),
]


class MultiCheckboxField(SelectMultipleField):
    """Several choices shown as checkboxes."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class StatusForm(FlaskForm):
    """Move a referral along its lifecycle."""

    status = SelectField("New status", validators=[DataRequired()])


class NoteForm(FlaskForm):
    """Add a note."""

    note = TextAreaField("Note", validators=[DataRequired(), Length(max=4000)])


class ConferenceForm(FlaskForm):
    """Schedule a conference and invite volunteers."""

    starts_at = DateTimeLocalField(
        "Date and time (UK time)", format="%Y-%m-%dT%H:%M", validators=[InputRequired()]
    )
    venue = StringField("Venue", validators=[DataRequired(), Length(max=200)])
    volunteers = MultiCheckboxField("Volunteers", coerce=int, validators=[DataRequired()])
    min_facilitators = IntegerField(
        "Facilitators needed", default=2, validators=[InputRequired(), NumberRange(1, 10)]
    )


class OutcomeForm(FlaskForm):
    """Record whether a conference whose start has passed went ahead (one button each)."""

    outcome = SelectField(
        "Outcome",
        choices=[SelectChoice("held", "Held"), SelectChoice("not_held", "Did not go ahead")],
        validators=[DataRequired()],
    )


class MessageForm(FlaskForm):
    """Send the victim a message through the channel they used."""

    text = TextAreaField("Message", validators=[DataRequired(), Length(max=306)])
    outside_safe_times = BooleanField("Send now, although it is outside their safe times")


class EraseForm(FlaskForm):
    """Erase the person's personal data (the reference box confirms)."""

    confirm = StringField("Type the reference to confirm", validators=[DataRequired()])


class VolunteerForm(FlaskForm):
    """Add or edit a volunteer."""

    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    phone = StringField("Mobile number", validators=[DataRequired(), Length(max=32)])
    skills = MultiCheckboxField("Specialist training", choices=SKILLS)
    active = BooleanField("Active", default=True)


class ToggleForm(FlaskForm):
    """A button-only form (deactivate, reactivate)."""


class RemoveForm(FlaskForm):
    """A button-only form: remove a volunteer for good."""


class RetryForm(FlaskForm):
    """A button-only form: try a failed send again."""


class PeriodForm(FlaskForm):
    """A report period (GET form: no CSRF needed)."""

    class Meta:
        csrf = False

    start = DateField("From", validators=[Optional()])
    end = DateField("To", validators=[Optional()])
