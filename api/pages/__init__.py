"""The web pages: one router per page, rendered from view-models with `api.web`."""
