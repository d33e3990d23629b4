from django import forms

from abonent.core.errors import DomainError


def apply_domain_error(form: forms.Form, exc: DomainError) -> None:
    """Show a service's error on the form: per field where it names fields."""
    if exc.fields:
        for field, errors in exc.fields.items():
            for error in errors:
                form.add_error(field if field in form.fields else None, str(error))
    else:
        form.add_error(None, str(exc.message))
