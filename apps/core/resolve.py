"""A request's URL resolved once per path, for both HTTP handlers (``apps.core.asgi``, ``apps.core.wsgi``)."""

from __future__ import annotations

from functools import lru_cache

from django.http.request import HttpRequest
from django.urls import ResolverMatch, get_resolver, set_urlconf
from django.urls.resolvers import URLResolver


@lru_cache(maxsize=4096)
def resolved(resolver: URLResolver, path_info: str) -> ResolverMatch:
    """``resolver.resolve(path_info)``, remembered: a path always resolves to the same view and arguments here (no
    language prefix, no per-request urlconf in this project). Resolving walked every pattern before the match,
    building Django's list of patterns tried at each one that failed: about 8 % of an API request's CPU, twice (the
    ASGI handler's choice of thread pool, then Django). A path that does not resolve raises each time, and is not
    kept; a new resolver (``clear_url_caches``, another ``ROOT_URLCONF``) is a new key."""
    return resolver.resolve(path_info)


class RememberedResolveMixin:
    """A Django handler whose ``resolve_request`` is Django's own, with the match remembered per path."""

    def resolve_request(self, request: HttpRequest) -> ResolverMatch:
        if hasattr(request, "urlconf"):
            set_urlconf(request.urlconf)
            resolver = get_resolver(request.urlconf)
        else:
            resolver = get_resolver()
        shared = resolved(resolver, request.path_info)
        # The request's own match, with its own keyword arguments: a middleware's process_view or a view may change
        # the dict it is given, which must not reach the next request on this path.
        match = object.__new__(ResolverMatch)
        match.__dict__.update(shared.__dict__)
        match.kwargs = dict(shared.kwargs)
        request.resolver_match = match
        return match
