"""Helpers shared across the apps' tests and the delivery-level suite under tests/."""

from django.apps import apps


def celery_reconfigure(app, **conf):
    """Point the app at another broker: drop its cached pools and backend so they are rebuilt."""
    from kombu import pools

    # Close every pool AND empty kombu's registry: it is keyed by URL, so it would hand the
    # closed pool back the next time a test points the app at the same Redis.
    pools.reset()
    app._pool = None
    app.conf.update(**conf)
    app.__dict__.pop("backend", None)
    app.__dict__.pop("amqp", None)
    app.__dict__.pop("producer_pool", None)
    app._local.__dict__.pop("backend", None)


def row_counts(app_labels=("accounting", "fund", "loans")) -> dict[str, int]:
    """Rows of every concrete model of the apps, by model: equal before and after a request
    that must write nothing."""
    return {
        m._meta.label: m.objects.count()
        for app in app_labels
        for m in apps.get_app_config(app).get_models()
        if not m._meta.proxy
    }


def two_factor_pass(client, user):
    """Complete the user's second factor in `client`'s session (as the code page would): a
    confirmed authenticator for the user, recorded in the session as the one used."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="tests", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device
