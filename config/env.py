"""The environment every settings module reads (django-environ), and the project's root folder."""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
