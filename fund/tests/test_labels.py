"""Codes in words (fund.labels): actions, stages, model and field names, values as money,
dates, choices and people, in Vietnamese and English."""

from django.contrib.contenttypes.models import ContentType
from django.utils import translation

from fund.labels import action_label, changes_text, model_label, stage_label
from fund.models import CapitalCommitment, CapitalMovement


def test_actions_and_stages_in_both_languages():
    with translation.override("vi"):
        assert action_label("review_approve") == "Cấp trên thẩm định: đồng ý"
        assert stage_label("before_3") == "3 ngày trước hạn"
        assert stage_label("after_30") == "Quá hạn 30 ngày"
    with translation.override("en"):
        assert action_label("review_approve") == "Superior union's review: agreed"
        assert action_label("write_off") == "Written off"
        assert stage_label("before_3") == "3 days before the due date"
        assert stage_label("due") == "On the due date"
    assert action_label("no_such_code") == "no_such_code"  # shown, never hidden


def test_model_names_from_a_content_type(db):
    ct = ContentType.objects.get_for_model(CapitalMovement)
    with translation.override("vi"):
        assert model_label(ct) == "Nghiệp vụ nguồn vốn"
        assert model_label(CapitalMovement) == "Nghiệp vụ nguồn vốn"


def test_changes_read_as_words_and_formatted_values():
    changes = {
        "amount": [None, "2000000000"],
        "status": ["open", "released"],
        "created_at": [None, "2026-12-07T08:20:00+07:00"],
    }
    with translation.override("vi"):
        text = changes_text(CapitalCommitment, changes)
    assert "Số tiền: — → 2.000.000.000 ₫" in text
    assert "amount" not in text and "None" not in text and "released" not in text
    assert "07/12/2026 08:20" in text


def test_people_in_changes_by_name(db, officers):
    from fund.models import AuditLog

    user = officers.fund
    user.first_name, user.last_name = "Quý", "Nguyễn Văn"
    user.save()
    with translation.override("vi"):
        text = changes_text(AuditLog, {"actor": [None, user.pk]})
    assert text == "Người thực hiện: — → Nguyễn Văn Quý"
