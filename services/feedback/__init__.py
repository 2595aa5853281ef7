"""People's corrections (topic ``feedback``) as data: ``stancewatch feedback export``."""
