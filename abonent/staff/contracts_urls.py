"""Contracts for staff: search, the card, printed copies. Names are in the `staff` namespace."""

from django.urls import path

from .views import card, contracts

urlpatterns = [
    path("", contracts.search_view, name="contracts"),
    path("<int:contract_id>/", contracts.contract_view, name="contract"),
    path("<int:contract_id>/copy.pdf", contracts.copy_view, name="contract_copy"),
    path(
        "<int:contract_id>/copy-with-password/",
        contracts.copy_with_password_view,
        name="contract_copy_with_password",
    ),
    path("<int:contract_id>/action/<str:action>/", card.action_view, name="contract_action"),
]
