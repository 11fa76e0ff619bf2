"""Create user accounts for operators (the `add_member --create-user` command)."""

from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from prmweb.errors import ApplicationError


@transaction.atomic
def user_create(*, username: str, password: str) -> AbstractBaseUser:
    """Create an active, non-staff user with this username and password; return it.

    The username must pass the user model's checks and the password the AUTH_PASSWORD_VALIDATORS.
    Raises ApplicationError naming `username` (invalid or taken) or `password`; nothing is stored then.
    """
    model = get_user_model()
    user = model(username=username)
    try:
        user.full_clean(exclude=["password"])
    except ValidationError as error:
        errors = {field: list(messages) for field, messages in error.message_dict.items()}
        field, messages = next(iter(errors.items()))
        raise ApplicationError(f"Invalid user. {field}: {messages[0]}", errors=errors) from error
    try:
        password_validation.validate_password(password, user)
    except ValidationError as error:
        raise ApplicationError(f"Invalid password. {error.messages[0]}", errors={"password": error.messages}) from error
    user.set_password(password)
    user.save()
    return user
