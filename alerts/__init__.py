"""The alert register: models, lifecycle, editor UI and API, public pages, photos."""
