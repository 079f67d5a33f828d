"""``.env`` rewritten by motorpool (first start, reset, ``up`` moving the platform): the user's
lines stay, a key motorpool already wrote changes where it stands, new keys go below the marker."""

from __future__ import annotations

from pathlib import Path

from motorpool.platform.services.bootstrap import ENV_MARKER, write_env_file


def test_a_rewrite_keeps_the_layout_and_the_users_lines(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    write_env_file(env, {"MOTORPOOL_URL": "http://127.0.0.1:4000", "MOTORPOOL_ADMIN_TOKEN": "adm_old"})
    env.write_text("# mine\nexport FLASK_DEBUG=1\n" + env.read_text())
    first = env.read_text().splitlines()

    write_env_file(env, {"MOTORPOOL_ADMIN_TOKEN": "adm_new", "SMARTCAR_CLIENT_ID": "client_x"})

    lines = env.read_text().splitlines()
    assert lines[: len(first)] == [line.replace("adm_old", "adm_new") for line in first]
    assert lines[len(first):] == ["SMARTCAR_CLIENT_ID=client_x"]
    assert lines.count(ENV_MARKER) == 1
    assert env.stat().st_mode & 0o777 == 0o600


def test_an_exported_key_stays_exported_and_a_duplicate_goes(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("export MOTORPOOL_URL=http://a\nMOTORPOOL_URL=http://b\nOTHER=1\n")

    write_env_file(env, {"MOTORPOOL_URL": "http://c"})

    assert env.read_text() == "export MOTORPOOL_URL=http://c\nOTHER=1\n"
