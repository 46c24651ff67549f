import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "countermand.project.settings")
application = get_wsgi_application()

from countermand.core.crypto import secret_key_require  # noqa: E402 - needs the settings set up above

secret_key_require()  # a production web server does not start on the public development key
