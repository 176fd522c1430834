"""Write the committed OpenAPI document: `python -m mahnwerk.service.openapi > docs/openapi.json`.

`tests/service/test_openapi.py` fails when the code and `docs/openapi.json` differ,
so an API change is always a visible change to the document ERP integrators read.
"""

from __future__ import annotations

import json
from typing import Any

from mahnwerk import clock
from mahnwerk.engine.store.db import make_engine


def document() -> dict[str, Any]:
    from mahnwerk.service.app import create_app, openapi_document

    engine = make_engine("sqlite://")
    try:
        return openapi_document(create_app(engine, clock.now, background=False))
    finally:
        engine.dispose()


def text() -> str:
    return json.dumps(document(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(text(), end="")
