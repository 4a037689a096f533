"""The default reminder stages and Vietnamese templates.

The migration ``0006_reminder_defaults`` seeds them as the rows with no fund (which officers can
edit in the admin); ``loans.reminders.planning`` falls back to these constants only when those rows
are missing altogether (a database flushed by a test).
"""

STAGES = [
    ("before_3", "Trước hạn 3 ngày", -3, 2),
    ("due", "Đúng ngày đến hạn", 0, 3),
    ("after_7", "Quá hạn 7 ngày", 7, 3),
    ("after_30", "Quá hạn 30 ngày", 30, 7),
]

CONTACT = (
    "Nộp tại {{ union_name }}{% if union_contact_name %}, liên hệ {{ union_contact_name }}"
    "{% endif %}{% if union_contact_phone %} - ĐT {{ union_contact_phone }}{% endif %}."
)

TEMPLATES = [
    (
        "before_3",
        "sms",
        "",
        "Quỹ Trợ vốn CNVCLĐ: Kính gửi {{ borrower_name }}, kỳ trả nợ số {{ installment_number }}"
        " (khoản vay số {{ loan_id }}) đến hạn ngày {{ due_date }}, số tiền {{ amount_due }}. "
        + CONTACT,
    ),
    (
        "due",
        "sms",
        "",
        "Quỹ Trợ vốn CNVCLĐ: Kính gửi {{ borrower_name }}, hôm nay {{ due_date }} là ngày đến hạn"
        " kỳ trả nợ số {{ installment_number }} (khoản vay số {{ loan_id }}), số tiền"
        " {{ amount_due }}. " + CONTACT,
    ),
    (
        "after_7",
        "sms",
        "",
        "Quỹ Trợ vốn CNVCLĐ: Kính gửi {{ borrower_name }}, kỳ trả nợ số {{ installment_number }}"
        " đến hạn ngày {{ due_date }} đã quá hạn {{ days_overdue }} ngày, số tiền còn phải trả"
        " {{ amount_due }}. Đề nghị nộp sớm để không phát sinh lãi phạt. " + CONTACT,
    ),
    (
        "after_30",
        "sms",
        "",
        "Quỹ Trợ vốn CNVCLĐ: Kính gửi {{ borrower_name }}, kỳ trả nợ số {{ installment_number }}"
        " đến hạn ngày {{ due_date }} đã quá hạn {{ days_overdue }} ngày, số tiền còn phải trả"
        " {{ amount_due }}. Đề nghị liên hệ ngay công đoàn cơ sở để thu xếp trả nợ. " + CONTACT,
    ),
    (
        "digest",
        "email",
        "Danh sách thành viên quá hạn trả nợ - {{ union_name }} - ngày {{ date }}",
        "Kính gửi {{ officer_name }},\n\n"
        "Đến ngày {{ date }}, {{ union_name }} có {{ count }} thành viên quá hạn trả nợ Quỹ,"
        " tổng số tiền quá hạn {{ total }}:\n\n"
        "{% for b in borrowers %}{{ forloop.counter }}. {{ b.name }}"
        "{% if b.phone %} - ĐT {{ b.phone }}{% endif %} - quá hạn {{ b.days_overdue }} ngày"
        " (từ kỳ đến hạn {{ b.due_date }}) - số tiền {{ b.amount }}\n{% endfor %}\n"
        "Đề nghị đồng chí đôn đốc các thành viên nộp tiền và nộp về Quỹ.\n\n"
        "{{ fund_name }}\n",
    ),
    (
        "digest",
        "sms",
        "",
        "Quỹ Trợ vốn CNVCLĐ: đến ngày {{ date }}, {{ union_name }} có {{ count }} thành viên quá"
        " hạn trả nợ, tổng {{ total }}: {% for b in borrowers %}{{ b.name }} ({{ b.amount }})"
        "{% if not forloop.last %}; {% endif %}{% endfor %}.",
    ),
]
