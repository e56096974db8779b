"""Settings, every one read from the environment with a safe local default, one module
per concern.

With nothing set, the product runs on one machine: SQLite in WAL mode, an in-memory
channel layer, the in-process `local` model. `DATABASE_URL` and `REDIS_URL` switch it to
PostgreSQL and Redis; `config.settings.production` hardens it for deployment.
"""

from config.settings.accounts import *  # noqa: F403
from config.settings.analysis import *  # noqa: F403
from config.settings.base import *  # noqa: F403
from config.settings.channels import *  # noqa: F403
from config.settings.conversations import *  # noqa: F403
from config.settings.db import *  # noqa: F403
from config.settings.documents import *  # noqa: F403
from config.settings.jobs import *  # noqa: F403
from config.settings.llm import *  # noqa: F403
from config.settings.logging import *  # noqa: F403
from config.settings.teaching import *  # noqa: F403
