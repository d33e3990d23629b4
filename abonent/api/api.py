from . import (
    account,
    applications,
    auth,
    contract,
    errors,
    network,
    notifications,
    payments,
    profile,
    services,
    support,
)
from .openapi import DocumentedAPI
from .security import BearerToken

api = DocumentedAPI(
    title="abonent API",
    version="1",
    description=(
        "Everything the web cabinet does, for the Android app and integrators. "
        "Amounts are integer kopecks; errors follow one JSON shape; "
        "Accept-Language: ru|en picks the language of messages."
    ),
    urls_namespace="api-v1",
    docs_url="/docs",
    openapi_url="/openapi.json",
    auth=BearerToken(),
)
errors.install(api)
api.add_router("/auth", auth.router)
api.add_router("/account", account.router)
api.add_router("", profile.router)
api.add_router("", services.router)
api.add_router("", payments.router)
api.add_router("", network.router)
api.add_router("", support.router)
api.add_router("", contract.router)
api.add_router("", applications.router)
api.add_router("", notifications.router)
