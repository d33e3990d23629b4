import io

import pytest

from abonent.core.context import Actor

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n" + b"0" * 64


class FakeUpload(io.BytesIO):
    """What Django hands a view for one uploaded file: a name, a size, the bytes."""

    def __init__(self, name: str, data: bytes) -> None:
        super().__init__(data)
        self.name = name
        self.size = len(data)


@pytest.fixture
def png():
    return lambda name="photo.png": FakeUpload(name, PNG)


@pytest.fixture
def operator(staff_user):
    return Actor(user=staff_user, channel="admin")
