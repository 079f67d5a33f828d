"""The motorpool SDK: a typed, sync and async client of Smartcar's v3 APIs and of motorpool.

Import the public names from the package itself (``from motorpool import Client``): its
``__all__`` lists them once; each private module here declares its own share. The pieces:

- :class:`AuthClient` builds the Connect URL (and PKCE pairs);
- :class:`Client` and :class:`AsyncClient` call the Vehicle and Management APIs with a cached
  application token, retries and typed answers;
- the exceptions mirror the wire's error types one to one;
- :func:`verify_signature`, :func:`hash_challenge` and :func:`construct_event` handle webhooks.
"""

from .. import __version__ as __version__
from ._auth import *
from ._client import *
from ._config import *
from ._errors import *
from ._models import *
from ._pagination import *
from ._webhooks import *
