"""Every admin page of every registered model opens (no 500) and speaks Vietnamese."""

import pytest
from django.contrib import admin
from django.urls import reverse

from demo.fund import demo_federation_load


@pytest.fixture
def superuser_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("root", "root@example.org", "x-pass-12345")
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_every_admin_changelist_and_change_page_opens(superuser_client):
    demo_federation_load(year=2026, size="small")
    index = superuser_client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="vi")
    assert index.status_code == 200
    assert "Quản trị" in index.content.decode() or "quản trị" in index.content.decode()
    opened = 0
    for model in admin.site._registry:
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        url = reverse(f"{prefix}_changelist")
        response = superuser_client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        obj = model._default_manager.first()
        if obj is not None:
            change = reverse(f"{prefix}_change", args=[obj.pk])
            response = superuser_client.get(change)
            assert response.status_code == 200, (change, response.status_code)
        opened += 1
    assert opened >= 10
