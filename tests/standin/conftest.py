"""One running Entra ID stand-in for the stand-in's black-box tests (no Django in-process)."""

import pytest

from entra_standin.testing import run_standin

CLIENT_ID = "standin-test-client"
CLIENT_SECRET = "standin-test-secret"
REDIRECT_URI = "http://localhost:8000/accounts/entra/login/callback/"
POST_LOGOUT_URI = "http://localhost:8000/"


@pytest.fixture(scope="session")
def standin(tmp_path_factory):
    base = tmp_path_factory.mktemp("standin")
    with run_standin(
        data_dir=base / "data",
        mailbox_dir=base / "mailbox",
        redirect_uris=[REDIRECT_URI],
        post_logout_redirect_uris=[POST_LOGOUT_URI],
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
    ) as running:
        yield running
