import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

from config.logs import sentry_init  # noqa: E402 - after Django is set up

sentry_init()
