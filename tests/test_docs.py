"""The README documents every setting."""

from app.config import PROJECT_ROOT, Settings


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text()
    missing = [name for name in Settings.model_fields if f"`{name}`" not in readme]
    assert not missing, f"settings missing from README.md: {missing}"


def test_placeholder_secrets_are_refused_outside_development() -> None:
    import pytest
    from pydantic import ValidationError

    from app.config import PLACEHOLDER_SECRET

    assert Settings(APP_ENV="development", SECRET_KEY=PLACEHOLDER_SECRET).is_development
    for environment in ("test", "production"):
        with pytest.raises(ValidationError, match="SECRET_KEY must be set"):
            Settings(APP_ENV=environment, SECRET_KEY=PLACEHOLDER_SECRET)
        with pytest.raises(ValidationError, match="SECRET_KEY must be set"):
            Settings(APP_ENV=environment, SECRET_KEY="short")
