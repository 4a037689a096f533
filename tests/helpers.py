"""Helpers shared across the apps' tests and the delivery-level suite under tests/."""


def _reconfigure(app, **conf):
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
