from django.apps import AppConfig


class WebsitesConfig(AppConfig):
    name = "countermand.websites"
    label = "websites"
