from django.contrib.admin.apps import AdminConfig


class StaffAdminConfig(AdminConfig):
    """Django's admin as the temporary back office, behind staff two-factor login."""

    default_site = "abonent.staff.site.StaffAdminSite"
