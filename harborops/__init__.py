"""harborops. The Celery app is imported by core's AppConfig.ready() (Django processes) and found
by ``celery -A harborops`` (workers), so importing the Harbor client or simulator loads neither
Django nor Celery."""
